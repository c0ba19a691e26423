"""One attempt of a download: a GET into its ``.part`` file, or into its ``Placement`` in a bigger
file, continued after the bytes earlier attempts wrote when the server answers 206 and started
again otherwise. Retrying it, pacing it and checking its sha256 are ``transfer``'s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests

from gitlab_model_registry._bodies import (
    Placement,
    content_length,
    copy_body,
    prefix_digest,
    range_start,
)
from gitlab_model_registry.models import RemoteFile
from gitlab_model_registry.retry import TransferError, Transient, check_response


@dataclass(frozen=True)
class Fetcher:
    """A transfer's session, credentials, timeout and TLS check, for the GETs of its downloads."""

    session: requests.Session
    headers: dict[str, str]
    timeout: float
    verify: bool | str

    def fetch(self, url: str, name: str, part: Path, on_bytes: Callable[[int], None]) -> str:
        """One GET into ``part``: continued from its current size if the server answers 206."""
        have = part.stat().st_size if part.exists() else 0
        headers = {**self.headers, "Range": f"bytes={have}-"} if have else self.headers
        with self.session.get(
            url, headers=headers, timeout=self.timeout, verify=self.verify, stream=True
        ) as response:
            if have and response.status_code == 416:
                part.unlink()  # the part file is not a prefix of this file: start again
                raise Transient("range not satisfiable")
            check_response(response, name)
            resumed = have > 0 and range_start(response) == have
            with part.open("r+b" if resumed else "wb") as out:
                digest, done = prefix_digest(out, have if resumed else 0)
                expected = content_length(response)
                received = copy_body(response, out, digest, done, on_bytes) - done
        if expected is not None and received != expected:
            raise Transient("connection broken")  # a body shorter than its Content-Length
        return digest.hexdigest()

    def fetch_at(
        self, url: str, file: RemoteFile, place: Placement, on_bytes: Callable[[int], None]
    ) -> str:
        """One GET into ``place``: continued after what earlier attempts wrote (206)."""
        have = place.written
        headers = {**self.headers, "Range": f"bytes={have}-"} if have else self.headers
        with self.session.get(
            url, headers=headers, timeout=self.timeout, verify=self.verify, stream=True
        ) as response:
            check_response(response, file.name)
            if have and range_start(response) != have:
                place.restart()  # a whole answer: start the range again
            expected = content_length(response)
            if expected is not None and expected != file.size - place.written:
                raise TransferError(f"{file.name}: {expected} bytes where {file.size} were listed")
            place.copy(response, on_bytes)
        if place.written != file.size:
            raise Transient("connection broken")  # a body shorter than the file
        return place.digest.hexdigest()
