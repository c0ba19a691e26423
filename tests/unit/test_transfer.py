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
