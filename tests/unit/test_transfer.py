"""Retries, rewinds and verification of transfers, with a scripted session and a patched sleep."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from gitlab_model_registry.errors import IntegrityError
from gitlab_model_registry.models import RemoteFile, UploadFile
from gitlab_model_registry.transfer import RetryPolicy, Transfer, TransferError


class Response:
    def __init__(
        self, status: int, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> None:
        self.status_code, self._body, self.headers = status, body, headers or {}
        self.reason = "reason"

    def json(self) -> Any:
        return {"message": self._body.decode()}

    def iter_content(self, size: int) -> Iterator[bytes]:
        yield from (self._body[i : i + size] for i in range(0, len(self._body), size))

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *args: object) -> None:
        pass


class ScriptedSession:
    """Answers each request with the next scripted outcome, consuming the request body."""

    def __init__(self, outcomes: list[Response | Exception]) -> None:
        self.outcomes, self.bodies = outcomes, []

    def put(self, url: str, data: Any, **kwargs: Any) -> Response:
        self.bodies.append(b"".join(data))
        return self._next()

    def get(self, url: str, **kwargs: Any) -> Response:
        return self._next()

    def _next(self) -> Response:
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def transfer(session: ScriptedSession, sleeps: list[float]) -> Transfer:
    return Transfer(
        session,  # type: ignore[arg-type]
        headers={},
        timeout=5,
        policy=RetryPolicy(attempts=4, base_delay=1.0, max_delay=8.0),
        sleep=sleeps.append,
    )


@pytest.fixture
def upload(tmp_path: Path) -> UploadFile:
    path = tmp_path / "w.bin"
    path.write_bytes(b"x" * 3_000_000)
    return UploadFile(path, "dir/w.bin", 3_000_000)


def test_put_retries_transient_failures_with_the_body_rewound(upload: UploadFile) -> None:
    sleeps: list[float] = []
    session = ScriptedSession(
        [
            requests.ConnectionError(),
            Response(503),
            Response(429, headers={"Retry-After": "3"}),
            Response(201),
        ]
    )

    digest = transfer(session, sleeps).put("http://x/f", upload)

    assert digest == hashlib.sha256(upload.path.read_bytes()).hexdigest()
    assert session.bodies[1:] == [upload.path.read_bytes()] * 3
    assert sleeps[2] == 3.0 and 0.5 <= sleeps[0] <= 1.0 and 1.0 <= sleeps[1] <= 2.0


def test_put_gives_up_after_the_attempts(upload: UploadFile) -> None:
    session = ScriptedSession([Response(502)] * 4)

    with pytest.raises(TransferError, match="after 4 attempts"):
        transfer(session, []).put("http://x/f", upload)


def test_put_does_not_retry_a_client_error(upload: UploadFile) -> None:
    session = ScriptedSession([Response(400, b"Artifact file is too large")])

    with pytest.raises(TransferError, match=r"400 \(Artifact file is too large\)") as error:
        transfer(session, []).put("http://x/f", upload)
    assert error.value.status == 400


def test_get_retries_a_corrupted_body_and_never_leaves_it(tmp_path: Path) -> None:
    good = b"model bytes"
    file = RemoteFile("a/b.bin", len(good), hashlib.sha256(good).hexdigest())
    session = ScriptedSession([Response(200, b"corrupted!!"), Response(200, good)])

    transfer(session, []).get("http://x/f", file, tmp_path / "a" / "b.bin")

    assert (tmp_path / "a" / "b.bin").read_bytes() == good
    assert list((tmp_path / "a").iterdir()) == [tmp_path / "a" / "b.bin"]


def test_get_reports_persistent_corruption(tmp_path: Path) -> None:
    file = RemoteFile("b.bin", 4, hashlib.sha256(b"good").hexdigest())
    session = ScriptedSession([Response(200, b"bad!")] * 4)

    with pytest.raises(IntegrityError):
        transfer(session, []).get("http://x/f", file, tmp_path / "b.bin")
    assert list(tmp_path.iterdir()) == []


class BrokenResponse(Response):
    """Sends ``body``, then the connection breaks as urllib3 reports it through requests."""

    def iter_content(self, size: int) -> Iterator[bytes]:
        yield self._body
        raise requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead")


class RecordingSession(ScriptedSession):
    def __init__(self, outcomes: list[Response | Exception]) -> None:
        super().__init__(outcomes)
        self.get_headers: list[dict[str, str]] = []

    def get(self, url: str, **kwargs: Any) -> Response:
        self.get_headers.append(dict(kwargs.get("headers") or {}))
        return self._next()


DATA = bytes(range(256)) * 64


def _file() -> RemoteFile:
    return RemoteFile("w.bin", len(DATA), hashlib.sha256(DATA).hexdigest())


def test_a_broken_download_resumes_with_a_range_and_says_so(tmp_path: Path) -> None:
    half = len(DATA) // 2
    tail = {"Content-Range": f"bytes {half}-{len(DATA) - 1}/{len(DATA)}"}
    session = RecordingSession(
        [
            BrokenResponse(200, DATA[:half], {"Content-Length": str(len(DATA))}),
            Response(206, DATA[half:], {**tail, "Content-Length": str(len(DATA) - half)}),
        ]
    )
    lines: list[str] = []
    sleeps: list[float] = []
    moved = Transfer(
        session,  # type: ignore[arg-type]
        headers={"Authorization": "Bearer t"},
        timeout=5,
        policy=RetryPolicy(attempts=3, base_delay=1.0),
        sleep=sleeps.append,
        notify=lines.append,
    )

    moved.get("http://x/f", _file(), tmp_path / "w.bin")

    assert (tmp_path / "w.bin").read_bytes() == DATA
    assert session.get_headers[0] == {"Authorization": "Bearer t"}
    assert session.get_headers[1] == {"Authorization": "Bearer t", "Range": f"bytes={half}-"}
    assert lines == [
        f"retrying downloading w.bin in {sleeps[0]:.1f} s (attempt 2/3): connection broken"
    ]


def test_a_server_ignoring_the_range_restarts_the_file(tmp_path: Path) -> None:
    session = RecordingSession(
        [BrokenResponse(200, DATA[:100]), Response(200, DATA, {"Content-Length": str(len(DATA))})]
    )

    transfer(session, []).get("http://x/f", _file(), tmp_path / "w.bin")  # type: ignore[arg-type]

    assert (tmp_path / "w.bin").read_bytes() == DATA
    assert session.get_headers[1]["Range"] == "bytes=100-"


def test_a_body_shorter_than_its_length_is_retried(tmp_path: Path) -> None:
    session = ScriptedSession(
        [
            Response(200, DATA[:10], {"Content-Length": str(len(DATA))}),
            Response(200, DATA, {"Content-Length": str(len(DATA))}),
        ]
    )
    sleeps: list[float] = []

    transfer(session, sleeps).get("http://x/f", _file(), tmp_path / "w.bin")

    assert (tmp_path / "w.bin").read_bytes() == DATA and len(sleeps) == 1


def test_broken_reads_exhaust_into_a_registry_error_and_leave_the_part_to_resume(
    tmp_path: Path,
) -> None:
    session = ScriptedSession([BrokenResponse(200, b"")] * 4)

    with pytest.raises(TransferError, match="after 4 attempts: connection broken") as error:
        transfer(session, []).get("http://x/f", _file(), tmp_path / "w.bin")
    assert error.value.exit_code == 3
    # Never the file itself; the part stays for a next try of the download (``resuming``).
    assert [p.name for p in tmp_path.iterdir()] == ["w.bin.part"]


@pytest.mark.parametrize(
    "error",
    [
        requests.exceptions.ContentDecodingError("bad gzip"),
        requests.exceptions.ChunkedEncodingError("IncompleteRead"),
    ],
)
def test_put_retries_an_answer_broken_mid_body(upload: UploadFile, error: Exception) -> None:
    session = ScriptedSession([error, Response(201)])

    transfer(session, []).put("http://x/f", upload)

    assert len(session.bodies) == 2


def test_a_background_digest_is_the_digest_of_the_chunks_in_order_even_after_an_error() -> None:
    import hashlib
    import threading

    from gitlab_model_registry._digesting import BackgroundDigest

    chunks = [bytes([n]) * 70_000 for n in range(20)]  # more chunks than the queue holds
    with BackgroundDigest(hashlib.sha256(), depth=2) as hashing:
        for chunk in chunks:
            hashing.update(chunk)
    assert hashing.digest.hexdigest() == hashlib.sha256(b"".join(chunks)).hexdigest()

    with pytest.raises(RuntimeError), BackgroundDigest(hashlib.sha256()) as failing:
        failing.update(b"x")
        raise RuntimeError("connection broken")
    assert not any(t.name == "gmr-sha256" for t in threading.enumerate())
