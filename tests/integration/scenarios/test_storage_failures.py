"""The embedded registry's storage failures are one line, fast, with the exit code of who can fix
them; and the commands that write nothing create nothing."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.integration.publish.conftest import GMR_TIMEOUT, Run, clean_environ


def gmr(cwd: Path, *args: str, env: dict[str, str] | None = None) -> tuple[Run, float]:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "gitlab_model_registry", *args],
        cwd=cwd,
        env=clean_environ() | (env or {}),
        capture_output=True,
        text=True,
        timeout=GMR_TIMEOUT,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr), time.monotonic() - started


@pytest.fixture
def weights(tmp_path: Path) -> Path:
    path = tmp_path / "model" / "weights.bin"
    path.parent.mkdir()
    path.write_bytes(b"w" * 1000)
    return path


def error_lines(run: Run) -> list[str]:
    return [line for line in run.stderr.splitlines() if line.startswith("error:")]


def assert_one_line_failure(run: Run, took: float, code: int) -> None:
    assert run.code == code, run.stderr
    assert len(error_lines(run)) == 1, run.stderr
    assert "Traceback" not in run.stderr and "sqlalche.me" not in run.stderr, run.stderr
    assert "SELECT" not in run.stderr and "INSERT" not in run.stderr, run.stderr
    assert took < 5, f"took {took:.1f}s"


def test_a_directory_nobody_can_write_is_a_usage_error_at_once(weights: Path) -> None:
    run, took = gmr(Path("/proc"), "publish", "m", str(weights))  # not writable, even as root

    assert_one_line_failure(run, took, 2)
    assert "/proc/mlruns.db" in error_lines(run)[0]


def test_a_missing_folder_is_a_usage_error_and_is_not_created(
    tmp_path: Path, weights: Path
) -> None:
    run, took = gmr(tmp_path, "publish", "m", str(weights), "--tracking-uri", "sqlite:///no/m.db")

    assert_one_line_failure(run, took, 2)
    assert "does not exist" in error_lines(run)[0]
    assert not (tmp_path / "no").exists()


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Read-only for this user: immutable for root (who ignores modes), mode 0444 otherwise."""
    if os.geteuid() == 0:
        if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)]).returncode:
            pytest.skip("root, and no chattr +i to make a file read-only")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        return
    path.chmod(stat.S_IRUSR)
    yield


def test_a_read_only_database_is_a_usage_error_at_once(
    tmp_path: Path, weights: Path, empty_mlflow_database: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(empty_mlflow_database, work / "mlruns.db")

    with read_only(work / "mlruns.db"):
        run, took = gmr(work, "publish", "m", str(weights))

    assert_one_line_failure(run, took, 2)
    assert "read-only" in error_lines(run)[0]


def test_a_tracking_server_that_does_not_answer_is_a_registry_error_without_raw_retries(
    tmp_path: Path,
) -> None:
    # One attempt keeps the test short; the retries themselves are mlflow's.
    env = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}
    run, took = gmr(tmp_path, "versions", "m", "--tracking-uri", "http://127.0.0.1:9", env=env)

    assert_one_line_failure(run, took, 3)
    assert "Retrying (Retry(" not in run.stderr


@pytest.mark.parametrize(
    "args",
    [["publish", "m", "{weights}", "--dry-run"], ["next-version", "m"], ["versions", "m"]],
    ids=["dry-run", "next-version", "versions"],
)
def test_commands_that_write_nothing_leave_an_empty_directory_empty(
    tmp_path: Path, weights: Path, args: list[str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()

    run, _ = gmr(empty, *[a.replace("{weights}", str(weights)) for a in args])

    assert run.code in (0, 3), run.stderr  # versions of an unknown model: not found
    assert list(empty.iterdir()) == []
