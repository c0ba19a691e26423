"""What a person at a terminal sees: one progress bar redrawn in place, not a line per MiB."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.gitlab_double.pytest_plugin import Double
from tests.integration.publish.conftest import SECRETS, clean_environ

MIB = 1024 * 1024
SIZE_MIB = 300


def _run_on_a_terminal(
    args: list[str], env: dict[str, str], cwd: Path, rows: int, columns: int
) -> tuple[int, str]:
    """Run gmr with stderr on a pseudo-terminal (stdout stays a pipe); returns (code, stderr)."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "gitlab_model_registry", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=terminal,
        stdin=subprocess.DEVNULL,
    )
    os.close(terminal)
    output, deadline = b"", time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 1.0)
            if ready:
                try:
                    chunk = os.read(controller, 65536)
                except OSError:  # the terminal closed: gmr exited
                    break
                if not chunk:
                    break
                output += chunk
            elif proc.poll() is not None:
                break
        return proc.wait(timeout=30), output.decode("utf-8", "replace")
    finally:
        proc.kill() if proc.poll() is None else None
        os.close(controller)


@pytest.mark.parametrize(
    ("rows", "columns"), [(24, 100), (0, 0)], ids=["sized-terminal", "terminal-without-size"]
)
def test_a_300_mib_upload_on_a_terminal_is_one_redrawn_bar(
    double: Double, tmp_path: Path, rows: int, columns: int
) -> None:
    weights = tmp_path / "weights.bin"
    with weights.open("wb") as out:
        for _ in range(SIZE_MIB):
            out.write(os.urandom(MIB))
    env = clean_environ() | {
        "GMR_GITLAB_URL": double.url,
        "GMR_PROJECT": str(double.project_id),
        "GMR_TOKEN": double.developer_token,
        "TERM": "xterm",
    }

    code, stderr = _run_on_a_terminal(
        ["publish", f"terminal-model-{rows}", str(weights), "--version", "1.0.0"],
        env,
        tmp_path,
        rows,
        columns,
    )

    assert code == 0, stderr
    assert not any(secret in stderr for secret in SECRETS)
    lines = stderr.replace("\r\n", "\n").split("\n")
    assert len(lines) < 20, stderr  # phases, a few log lines, the final bar
    assert stderr.count("\r") - stderr.count("\r\n") < 60  # redraws, not one per MiB
    assert not any("MiB / 300.0 MiB" in line for line in lines)  # no CI-style progress lines
    assert "300M/300M" in stderr and "100%" in stderr
