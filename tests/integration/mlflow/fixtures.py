"""MLflow registries for tests: a real ``mlflow server`` (once per session) and SQLite files.

A pytest plugin module, so any suite can use it: ``conftest.py`` here imports the fixtures,
and a suite elsewhere can list ``tests.integration.mlflow.fixtures`` in ``pytest_plugins``.
``mlflow_backend_uri`` is parametrized over both registries; tests share one registry per
session, so they use ``unique_model`` names.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitlab_model_registry.backends.mlflow import MlflowBackend

SERVER_START_TIMEOUT = 90.0  # measured ~8-13 s; slow CI machines get headroom
SERVER_STOP_TIMEOUT = 20.0
BACKEND_KINDS = ["server", "sqlite"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _log_tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _wait_healthy(process: subprocess.Popen[bytes], url: str, log: Path) -> float:
    started = time.monotonic()
    while time.monotonic() - started < SERVER_START_TIMEOUT:
        if process.poll() is not None:
            raise RuntimeError(f"mlflow server exited with {process.returncode}:\n{_log_tail(log)}")
        if _healthy(url):
            return time.monotonic() - started
        time.sleep(0.25)
    raise RuntimeError(
        f"mlflow server not healthy after {SERVER_START_TIMEOUT}s:\n{_log_tail(log)}"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM stops the server and its worker; the group kill is only a fallback."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=SERVER_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=SERVER_STOP_TIMEOUT)


@pytest.fixture(scope="session")
def mlflow_server_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The server's directory: database ``m.db``, artifacts ``art/``, access log ``server.log``."""
    return tmp_path_factory.mktemp("mlflow-server")


@pytest.fixture(scope="session")
def mlflow_server(mlflow_server_root: Path) -> Iterator[str]:
    """URL of a real ``mlflow server`` with the lean settings of tooling.md."""
    if importlib.util.find_spec("flask") is None or importlib.util.find_spec("mlflow") is None:
        pytest.skip("the full 'mlflow' package (with its server) is not installed")
    root = mlflow_server_root
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [str(Path(sys.executable).parent / "mlflow"), "server", "--workers", "1"]
    command += ["--backend-store-uri", f"sqlite:///{root}/m.db"]
    command += ["--artifacts-destination", str(root / "art")]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    log = root / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        seconds = _wait_healthy(process, url, log)
        print(f"\nmlflow server ready in {seconds:.1f}s at {url}", file=sys.stderr)
        yield url
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def sqlite_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An embedded registry: ``sqlite:///<tmp>/mlruns.db``; artifacts go to ``artifact_root_for``."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow-sqlite')}/mlruns.db"


def artifact_root_for(tracking_uri: str) -> str | None:
    """Where a test backend keeps artifacts: beside a SQLite file; the server decides itself."""
    if tracking_uri.startswith("sqlite:///"):
        return str(Path(tracking_uri.removeprefix("sqlite:///")).parent / "mlartifacts")
    return None


@pytest.fixture(params=BACKEND_KINDS)
def mlflow_backend_uri(request: pytest.FixtureRequest) -> str:
    """The tracking URI of each MLflow registry kind in turn (parametrized: server, sqlite)."""
    fixture = "mlflow_server" if request.param == "server" else "sqlite_uri"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def unique_model() -> str:
    """A model name no other test uses (registries are shared by the session)."""
    return f"model-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def mlflow_backend(mlflow_backend_uri: str) -> MlflowBackend:
    """A backend on each registry kind in turn, as the CLI would build it."""
    return MlflowBackend(mlflow_backend_uri, artifact_root=artifact_root_for(mlflow_backend_uri))
