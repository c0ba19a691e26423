"""Start and stop test-local doubles through the standalone command, exactly as other tools do."""

from __future__ import annotations

import re
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.gitlab_double.seed import command_args

REPO_ROOT = Path(__file__).resolve().parents[3]
READY_LINE = re.compile(r"READY http://127\.0\.0\.1:(\d+)\n")
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0


@dataclass
class Standalone:
    process: subprocess.Popen[str]
    ready_line: str
    startup_seconds: float

    @property
    def url(self) -> str:
        match = READY_LINE.fullmatch(self.ready_line)
        assert match, f"unexpected first stdout line: {self.ready_line!r}"
        return f"http://127.0.0.1:{match.group(1)}"


def _read_line(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            return ""
    return process.stdout.readline()


def start(workdir: Path, *extra: str, seeded: bool = True) -> Standalone:
    """Run ``python -m tests.gitlab_double`` with the seeded credentials; wait for its READY line.

    ``seeded=False`` passes only ``extra``. Data go to ``workdir/data``; stderr to
    ``workdir/stderr.log`` (a pipe nobody reads could fill up and block the server).
    """
    (workdir / "data").mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "tests.gitlab_double", "--host", "127.0.0.1", "--port", "0"]
    command += ["--data-dir", str(workdir / "data"), *(command_args() if seeded else []), *extra]
    began = time.monotonic()
    with (workdir / "stderr.log").open("w") as stderr:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True
        )
    line = _read_line(process, START_TIMEOUT)
    elapsed = time.monotonic() - began
    if not line:
        stop(process)
        raise AssertionError(f"no READY line within {START_TIMEOUT} s")
    return Standalone(process, line, elapsed)


def stop(process: subprocess.Popen[str], sig: signal.Signals = signal.SIGTERM) -> tuple[int, str]:
    """Signal the server, wait (kill it if it hangs); returns (exit code, rest of stdout)."""
    if process.poll() is None:
        process.send_signal(sig)
    try:
        rest, _ = process.communicate(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        rest, _ = process.communicate(timeout=STOP_TIMEOUT)
        return -int(signal.SIGKILL), rest
    return process.returncode, rest


@contextmanager
def running(workdir: Path, *extra: str) -> Iterator[Standalone]:
    server = start(workdir, *extra)
    try:
        yield server
    finally:
        stop(server.process)
