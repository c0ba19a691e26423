"""Streaming, parallel file transfers over HTTP with bounded retries.

Bodies stream from disk in 1 MiB chunks (constant memory for any size) and are hashed on the
way; each retry rewinds the file. Transient failures (connection errors, timeouts, 408, 429,
500, 502, 503, 504) back off exponentially, honouring ``Retry-After``. Downloads land in a
``.part`` file that is renamed only once its sha256 matches.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

import requests

from gitlab_model_registry._threads import check_cancelled, parallel
from gitlab_model_registry.backends import ProgressCallback
from gitlab_model_registry.errors import IntegrityError, RegistryError
from gitlab_model_registry.files import HashingReader
from gitlab_model_registry.models import RemoteFile, UploadFile

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
CHUNK = 1024 * 1024
T = TypeVar("T")


class TransferError(RegistryError):
    """An HTTP transfer failed with a status retrying cannot fix, or after all retries."""

    def __init__(self, message: str, *, status: int = 0, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.status = status


class _Transient(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_delay)
        backoff = min(self.base_delay * 2.0**attempt, self.max_delay)
        return backoff * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not security


class _Body:
    """A request body of known length that http.client sends in 1 MiB chunks.

    It deliberately has no ``read``: http.client would then read it 8 KiB at a time.
    """

    def __init__(self, reader: HashingReader) -> None:
        self._reader = reader

    def __len__(self) -> int:
        return len(self._reader)

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._reader)


class _Relay:
    """A GET response's body relayed into a PUT: known length, hashed as it passes."""

    def __init__(self, response: requests.Response, size: int, on_bytes: Callable[[int], None]):
        self._response, self._size, self._on_bytes = response, size, on_bytes
        self._digest = hashlib.sha256()

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[bytes]:
        done = 0
        for chunk in self._response.iter_content(CHUNK):
            check_cancelled()
            self._digest.update(chunk)
            done += len(chunk)
            self._on_bytes(done)
            yield chunk

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


class Transfer:
    def __init__(
        self,
        session: requests.Session,
        *,
        headers: dict[str, str],
        timeout: float,
        verify: bool | str = True,
        policy: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._session, self._headers = session, headers
        self._timeout, self._verify = timeout, verify
        self._policy, self._sleep = policy, sleep

    @property
    def headers(self) -> dict[str, str]:
        """The credentials this transfer sends (for relaying a download from another project)."""
        return dict(self._headers)

    def put_many(
        self,
        jobs: Sequence[tuple[str, UploadFile]],
        *,
        concurrency: int,
        progress: ProgressCallback | None = None,
    ) -> dict[str, str]:
        """PUT each file to its URL; returns remote name -> sha256 of the bytes sent."""
        digests = parallel(
            [partial(self.put, url, file, progress) for url, file in jobs], concurrency
        )
        return {file.remote_name: digest for (_, file), digest in zip(jobs, digests, strict=True)}

    def put(self, url: str, file: UploadFile, progress: ProgressCallback | None = None) -> str:
        on_bytes = _reporter(progress, file.remote_name, file.size)
        with file.path.open("rb") as handle:
            reader = HashingReader(handle, size=file.size, on_progress=on_bytes)

            def attempt() -> str:
                reader.rewind()
                # An empty _Body would be sent chunked: give empty files an empty bytes body.
                response = self._session.put(
                    url,
                    data=_Body(reader) if file.size else b"",
                    headers=self._headers,
                    timeout=self._timeout,
                    verify=self._verify,
                )
                _check(response, file.remote_name)
                return reader.hexdigest()

            return self._retrying(attempt, f"uploading {file.remote_name}")

    def copy_many(
        self,
        jobs: Sequence[tuple[str, str, RemoteFile]],
        *,
        source_headers: dict[str, str],
        concurrency: int,
        progress: ProgressCallback | None = None,
    ) -> dict[str, str]:
        """Stream each (source URL, target URL, file) from GET to PUT; returns name -> sha256."""
        tasks = [
            partial(self.copy, src, source_headers, dst, file, progress) for src, dst, file in jobs
        ]
        digests = parallel(tasks, concurrency)
        return {file.name: digest for (_, _, file), digest in zip(jobs, digests, strict=True)}

    def copy(
        self,
        source_url: str,
        source_headers: dict[str, str],
        url: str,
        file: RemoteFile,
        progress: ProgressCallback | None = None,
    ) -> str:
        """GET ``source_url`` and PUT its bytes to ``url`` as they arrive: no copy on disk."""
        on_bytes = _reporter(progress, file.name, file.size)

        def attempt() -> str:
            with self._session.get(
                source_url,
                headers=source_headers,
                timeout=self._timeout,
                verify=self._verify,
                stream=True,
            ) as source:
                _check(source, file.name)
                relay = _Relay(source, file.size, on_bytes)
                response = self._session.put(
                    url,
                    data=relay if file.size else b"",
                    headers=self._headers,
                    timeout=self._timeout,
                    verify=self._verify,
                )
                _check(response, file.name)
            if file.sha256 and relay.hexdigest() != file.sha256:
                raise _Transient(f"sha256 mismatch for {file.name}")
            return relay.hexdigest()

        return self._retrying(attempt, f"copying {file.name}")

    def get_many(
        self,
        jobs: Sequence[tuple[str, RemoteFile, Path]],
        *,
        concurrency: int,
        progress: ProgressCallback | None = None,
    ) -> None:
        parallel([partial(self.get, *job, progress) for job in jobs], concurrency)

    def get(
        self, url: str, file: RemoteFile, dest: Path, progress: ProgressCallback | None = None
    ) -> None:
        """GET ``url`` into ``dest`` via ``dest.part``, verified against ``file.sha256``."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(dest.name + ".part")
        on_bytes = _reporter(progress, file.name, file.size)

        def attempt() -> None:
            digest = self._fetch(url, file.name, part, on_bytes)
            if file.sha256 and digest != file.sha256:
                raise _Transient(f"sha256 mismatch for {file.name}")
            part.replace(dest)

        try:
            self._retrying(attempt, f"downloading {file.name}")
        except TransferError as error:
            part.unlink(missing_ok=True)
            if "sha256 mismatch" in error.message:
                raise IntegrityError(
                    error.message, hint="the stored file may be corrupt"
                ) from error
            raise

    def _fetch(self, url: str, name: str, part: Path, on_bytes: Callable[[int], None]) -> str:
        digest, done = hashlib.sha256(), 0
        with (
            self._session.get(
                url, headers=self._headers, timeout=self._timeout, verify=self._verify, stream=True
            ) as response,
            part.open("wb") as out,
        ):
            _check(response, name)
            for chunk in response.iter_content(CHUNK):
                check_cancelled()
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                on_bytes(done)
        return digest.hexdigest()

    def _retrying(self, attempt: Callable[[], T], what: str) -> T:
        for number in range(self._policy.attempts):
            try:
                return attempt()
            except (requests.ConnectionError, requests.Timeout) as error:
                reason: _Transient = _Transient(type(error).__name__)
            except _Transient as error:
                reason = error
            check_cancelled()
            if number + 1 < self._policy.attempts:
                self._sleep(self._policy.delay(number, reason.retry_after))
        raise TransferError(
            f"{what} failed after {self._policy.attempts} attempts: {reason}",
            hint="the registry or network is failing; re-run later (finished files are skipped)",
        )


def _check(response: requests.Response, name: str) -> None:
    if response.status_code < 300:
        return
    if response.status_code in RETRY_STATUSES:
        raise _Transient(f"HTTP {response.status_code}", _retry_after(response))
    raise TransferError(
        f"{name}: HTTP {response.status_code} ({_message(response)})", status=response.status_code
    )


def _retry_after(response: requests.Response) -> float | None:
    try:
        return float(response.headers["Retry-After"])
    except (KeyError, ValueError):
        return None


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason or ""
    return str(body.get("message") or body.get("error") or "") if isinstance(body, dict) else ""


def _reporter(progress: ProgressCallback | None, name: str, total: int) -> Callable[[int], None]:
    if progress is None:
        return lambda done: None
    return lambda done: progress(name, done, total)
