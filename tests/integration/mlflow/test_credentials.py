"""Which credential reaches a plain MLflow server, and which timeout applies: `gmr` against the
real ``mlflow server`` behind a recording proxy (``recording_proxy.py``).

A plain MLflow server gets ``--token``/``GMR_TOKEN`` or its own ``MLFLOW_TRACKING_*``
credentials, on every request (JSON calls and artifact transfers alike); never ``GITLAB_TOKEN``
or a CI job token. Flag > ``GMR_*`` > ``MLFLOW_*`` fallback > default, for the token and the
timeout.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.mlflow.recording_proxy import ProxyState, recording_proxy

GITLAB = "glpat-gitlab-only"
MLFLOW = "mlflow-own-token"
FLAG = "flag-token"
JOB = "glcbt-job-token"
BASIC = "Basic " + base64.b64encode(b"alice:wonderland").decode()


@pytest.fixture(scope="module")
def proxy(mlflow_server: str) -> Iterator[tuple[str, ProxyState]]:
    with recording_proxy(mlflow_server) as running:
        yield running


def gmr(cwd: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GMR_", "CI_", "GITLAB_", "MLFLOW_"))
    }
    return subprocess.run(
        [sys.executable, "-m", "gitlab_model_registry", *args],
        cwd=cwd,
        env=base | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


CASES = {
    "GITLAB_TOKEN only": ([], {"GITLAB_TOKEN": GITLAB}, None),
    "MLFLOW_TRACKING_TOKEN only": ([], {"MLFLOW_TRACKING_TOKEN": MLFLOW}, f"Bearer {MLFLOW}"),
    "both": ([], {"GITLAB_TOKEN": GITLAB, "MLFLOW_TRACKING_TOKEN": MLFLOW}, f"Bearer {MLFLOW}"),
    "--token with GITLAB_TOKEN": (["--token", FLAG], {"GITLAB_TOKEN": GITLAB}, f"Bearer {FLAG}"),
    "--token with MLFLOW_TRACKING_TOKEN": (
        ["--token", FLAG],
        {"MLFLOW_TRACKING_TOKEN": MLFLOW},
        f"Bearer {FLAG}",
    ),
    "GMR_TOKEN with MLFLOW_TRACKING_TOKEN": (
        [],
        {"GMR_TOKEN": FLAG, "MLFLOW_TRACKING_TOKEN": MLFLOW},
        f"Bearer {FLAG}",
    ),
    "basic auth": (
        [],
        {"MLFLOW_TRACKING_USERNAME": "alice", "MLFLOW_TRACKING_PASSWORD": "wonderland"},
        BASIC,
    ),
    "in a CI job": (
        [],
        {"CI_JOB_TOKEN": JOB, "CI_API_V4_URL": "https://gitlab.example/api/v4", "CI_JOB_ID": "7"},
        None,
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_each_configuration_sends_only_the_mlflow_credential(
    case: str, proxy: tuple[str, ProxyState], tmp_path: Path, unique_model: str
) -> None:
    url, state = proxy
    args, env, expected = CASES[case]
    (tmp_path / "model.bin").write_bytes(os.urandom(2048))
    state.seen.clear()

    run = gmr(tmp_path, "publish", unique_model, "model.bin", "--tracking-uri", url, *args, env=env)

    assert run.returncode == 0, run.stderr
    assert {seen.authorization for seen in state.seen} == {expected}
    assert any("mlflow-artifacts" in seen.path for seen in state.seen)  # uploads included
    for secret in (GITLAB, MLFLOW, FLAG, JOB, "wonderland"):
        assert secret not in run.stdout + run.stderr


TIMEOUTS = {
    "MLFLOW_HTTP_REQUEST_TIMEOUT applies": ([], {"MLFLOW_HTTP_REQUEST_TIMEOUT": "0.3"}, 3),
    "--timeout beats it": (["--timeout", "5"], {"MLFLOW_HTTP_REQUEST_TIMEOUT": "0.3"}, 0),
    "GMR_TIMEOUT beats it": ([], {"GMR_TIMEOUT": "5", "MLFLOW_HTTP_REQUEST_TIMEOUT": "0.3"}, 0),
    "--timeout 0.3 beats GMR_TIMEOUT": (["--timeout", "0.3"], {"GMR_TIMEOUT": "5"}, 3),
    "--timeout 0 is refused": (["--timeout", "0"], {}, 2),
}


@pytest.mark.parametrize("case", TIMEOUTS, ids=list(TIMEOUTS))
def test_timeout_precedence(
    case: str, proxy: tuple[str, ProxyState], tmp_path: Path, unique_model: str
) -> None:
    url, state = proxy
    args, env, code = TIMEOUTS[case]
    state.delay_s = 1.0
    try:
        run = gmr(
            tmp_path,
            "versions",
            unique_model,
            "--tracking-uri",
            url,
            *args,
            env={**env, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"},
        )
    finally:
        state.delay_s = 0.0

    # The model does not exist: reaching the server in time means "not found" (3) too, so
    # a timeout is told apart by its message.
    assert run.returncode == (code or 3), run.stderr
    timed_out = "timed out" in run.stderr
    assert timed_out == (code == 3), run.stderr
    if code == 2:
        assert "--timeout must be a positive number" in run.stderr


def test_answers_cut_off_midway_are_retried_on_an_mlflow_server(
    proxy: tuple[str, ProxyState], tmp_path: Path, unique_model: str
) -> None:
    url, state = proxy
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "w.bin").write_bytes(os.urandom(300_000))
    state.cut_every, state.cut = 4, 0
    try:
        published = gmr(tmp_path, "publish", unique_model, "model", "--tracking-uri", url, env={})
        downloaded = gmr(
            tmp_path, "download", unique_model, "--dest", "out", "--tracking-uri", url, env={}
        )
    finally:
        state.cut_every = 0

    assert published.returncode == 0, published.stderr
    assert downloaded.returncode == 0, downloaded.stderr
    assert (tmp_path / "out" / "w.bin").read_bytes() == (tmp_path / "model" / "w.bin").read_bytes()
    assert state.cut > 0
    lines = (published.stderr + downloaded.stderr).splitlines()
    assert any(line.startswith("retrying ") and "connection broken" in line for line in lines)
