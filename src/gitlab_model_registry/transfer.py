"""Streaming, parallel file transfers over HTTP with bounded, visible retries (``retry``).

Uploads stream from disk in 1 MiB chunks and downloads in 2 MiB ones (constant memory for any
size), hashed on the way; each retry rewinds the file. Downloads land in a ``.part`` file that is
renamed only once its sha256 matches; a download cut off midway continues from the chunks already
written with a ``Range`` request when the server honours it (206), and starts again otherwise.
Credentials travel in ``headers`` on each request: requests drops ``Authorization`` when a
redirect leaves the host (object storage), and nothing here adds it back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TypeVar

import requests
from requests.adapters import DEFAULT_POOLSIZE, HTTPAdapter

from gitlab_model_registry._bodies import CHUNK, HashingReader, Placement, Relay, UploadBody
from gitlab_model_registry._fetching import Fetcher
from gitlab_model_registry.errors import IntegrityError
from gitlab_model_registry.models import RemoteFile, UploadFile
from gitlab_model_registry.observer import ProgressCallback
from gitlab_model_registry.pacing import Pacer, in_slot, run_paced, streams
from gitlab_model_registry.retry import (
    DEFAULT_POLICY,
    RETRY_STATUSES,
    Notify,
    Retrier,
    RetryPolicy,
    TransferError,
    Transient,
    check_response,
)

__all__ = ["CHUNK", "RETRY_STATUSES", "Placement", "RetryPolicy", "Transfer", "TransferError"]

T = TypeVar("T")


class Transfer:
    def __init__(
        self,
        session: requests.Session,
        *,
        headers: dict[str, str],
        timeout: float,
        verify: bool | str = True,
        policy: RetryPolicy = DEFAULT_POLICY,
        sleep: Callable[[float], None] = time.sleep,
        notify: Notify | None = None,
    ) -> None:
        self._session, self._headers = session, headers
        self._timeout, self._verify = timeout, verify
        self._retrier = Retrier(policy, sleep=sleep, notify=notify)
        self._notify, self._connections = notify, DEFAULT_POOLSIZE
        self._fetcher = Fetcher(session, headers, timeout, verify)
        if (
            "Authorization" in headers
        ):  # else a ~/.netrc entry is the credential, as requests has it
            session.auth = _headers_only

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
        """PUT each file to its URL; returns remote name -> sha256 of the bytes sent.

        ``concurrency`` 0 sizes the parallelism to the files (``pacing``)."""
        digests = self._paced(
            [partial(self.put, url, file, progress) for url, file in jobs],
            [file.size for _, file in jobs],
            concurrency,
        )
        return {file.remote_name: digest for (_, file), digest in zip(jobs, digests, strict=True)}

    def put(
        self,
        url: str,
        file: UploadFile,
        progress: ProgressCallback | None = None,
        pacer: Pacer | None = None,
    ) -> str:
        on_bytes = _reporter(progress, file.remote_name, file.size)
        with file.path.open("rb") as handle:
            reader = HashingReader(handle, size=file.size, on_progress=on_bytes, offset=file.offset)

            def attempt() -> str:
                reader.rewind()
                # An empty UploadBody would be sent chunked: give empty files an empty bytes body.
                response = self._session.put(
                    url,
                    data=UploadBody(reader) if file.size else b"",
                    headers=self._headers,
                    timeout=self._timeout,
                    verify=self._verify,
                )
                check_response(response, file.remote_name)
                return reader.hexdigest()

            return self._retrier.run(in_slot(pacer, attempt), f"uploading {file.remote_name}")

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
        digests = self._paced(tasks, [file.size for _, _, file in jobs], concurrency)
        return {file.name: digest for (_, _, file), digest in zip(jobs, digests, strict=True)}

    def copy(
        self,
        source_url: str,
        source_headers: dict[str, str],
        url: str,
        file: RemoteFile,
        progress: ProgressCallback | None = None,
        pacer: Pacer | None = None,
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
                check_response(source, file.name)
                relay = Relay(source, file.size, on_bytes)
                response = self._session.put(
                    url,
                    data=relay if file.size else b"",
                    headers=self._headers,
                    timeout=self._timeout,
                    verify=self._verify,
                )
                check_response(response, file.name)
            if file.sha256 and relay.hexdigest() != file.sha256:
                raise Transient(f"sha256 mismatch for {file.name}")
            return relay.hexdigest()

        return self._retrier.run(in_slot(pacer, attempt), f"copying {file.name}")

    def get_many(
        self,
        jobs: Sequence[tuple[str, RemoteFile, Path | Placement]],
        *,
        concurrency: int,
        progress: ProgressCallback | None = None,
    ) -> None:
        tasks = [partial(self.get, *job, progress) for job in jobs]
        self._paced(tasks, [file.size for _, file, _ in jobs], concurrency)

    def get(
        self,
        url: str,
        file: RemoteFile,
        dest: Path | Placement,
        progress: ProgressCallback | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        """GET ``url`` into ``dest`` via ``dest.part`` (or into its placement in a bigger file),
        verified against ``file.sha256``."""
        placed: Placement | None = None
        final: Path | None = None
        if isinstance(dest, Placement):
            placed, part = dest, dest.path
        else:
            final, part = dest, dest.with_name(dest.name + ".part")
            dest.parent.mkdir(parents=True, exist_ok=True)
        on_bytes = _reporter(progress, file.name, file.size)
        mismatched = False  # whether the last attempt got wrong bytes (not a broken transfer)

        def attempt() -> None:
            nonlocal mismatched
            mismatched = False
            if placed:
                digest = self._fetcher.fetch_at(url, file, placed, on_bytes)
            else:
                digest = self._fetcher.fetch(url, file.name, part, on_bytes)
            # A placement not hashed on its own is checked with its whole file (``_joining``).
            checked = not placed or placed.hashing
            if file.sha256 and checked and digest != file.sha256:
                if placed:
                    placed.restart()
                else:
                    part.unlink()  # never resume from bytes known to be wrong
                mismatched = True
                raise Transient(f"sha256 mismatch for {file.name}")
            if final:
                part.replace(final)

        try:
            self._retrier.run(in_slot(pacer, attempt), f"downloading {file.name}")
        except TransferError as error:
            # Bytes known to be wrong are gone already; the others stay for the next try
            # (``resuming``), and a placement's file is its owner's.
            if mismatched:
                raise IntegrityError(
                    error.message, hint="the stored file may be corrupt"
                ) from error
            raise

    def _paced(
        self, jobs: Sequence[Callable[..., T]], sizes: Sequence[int], concurrency: int
    ) -> list[T]:
        """Run ``job(pacer=...)`` for each file (``run_paced``), a pooled connection per thread."""
        plan = streams(sizes, concurrency)
        if plan.threads > self._connections:  # requests keeps 10 a host: one per thread
            self._connections = plan.threads
            for prefix in ("https://", "http://"):
                self._session.mount(prefix, HTTPAdapter(pool_maxsize=plan.threads))
        return run_paced(jobs, sizes, plan, self._notify)


def _headers_only(request: requests.PreparedRequest) -> requests.PreparedRequest:
    """The session's auth: the request as it is. Without an auth of its own, requests lets a
    ~/.netrc entry for the host replace the ``Authorization`` header (git users keep them)."""
    return request


def _reporter(progress: ProgressCallback | None, name: str, total: int) -> Callable[[int], None]:
    if progress is None:
        return lambda done: None
    return lambda done: progress(name, done, total)
