"""Start the standalone double as a subprocess, wait for its READY line, stop it with SIGTERM."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

READY_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0
REPO_ROOT = Path(__file__).resolve().parents[2]


class DoubleStartError(RuntimeError):
    """The double did not print READY in time; the message carries the tail of its stderr."""


def command(data_dir: Path, extra_args: Sequence[str] = ()) -> list[str]:
    base = [sys.executable, "-m", "tests.gitlab_double", "--host", "127.0.0.1", "--port", "0"]
    return [*base, "--data-dir", str(data_dir), *extra_args]


@contextmanager
def running_double(data_dir: Path, extra_args: Sequence[str] = ()) -> Iterator[str]:
    """Yield the base URL of a double started with ``extra_args``; always stopped on exit."""
    data_dir.mkdir(parents=True, exist_ok=True)
    stderr_path = data_dir.parent / f"{data_dir.name}.stderr.log"
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            command(data_dir, extra_args),
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            yield _wait_ready(process, stderr_path)
        finally:
            stop(process)


def _wait_ready(process: subprocess.Popen[bytes], stderr_path: Path) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + READY_TIMEOUT_S
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while (remaining := deadline - time.monotonic()) > 0:
            if not selector.select(timeout=remaining):
                break
            line = process.stdout.readline().decode().strip()
            if line.startswith("READY "):
                return line.split(" ", 1)[1]
            if not line and process.poll() is not None:
                break
    tail = stderr_path.read_text(errors="replace")[-2000:]
    raise DoubleStartError(f"GitLab double not ready within {READY_TIMEOUT_S}s; stderr:\n{tail}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it has not exited in time."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)
    if process.stdout is not None:
        process.stdout.close()
