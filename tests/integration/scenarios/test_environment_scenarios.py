"""Environments end to end through the CLI, the same on the GitLab double, an mlflow server and
the embedded registry: promote --environment, download/show --environment, history, versions
marks, rollback, a gate against @production that refuses, and two promotions racing.

(GitLab's side of a job with ``environment:`` and its rollback button are shown on the double in
``tests/integration/environments/test_library_double.py``.) Each MLflow run costs ~3 s, so
one scenario walks the whole flow."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gitlab_model_registry import (
    Flags,
    PublishRequest,
    Settings,
    environments,
    open_registry,
    publish,
    reading,
)
from tests.integration.publish.conftest import GMR_TIMEOUT, Run, assert_no_secret
from tests.integration.scenarios.conftest import Gmr
from tests.integration.scenarios.registries import (
    EmbeddedRegistry,
    GitLabRegistry,
    MlflowServerRegistry,
    Registry,
)


@pytest.fixture(params=["gitlab", "mlflow-server", "sqlite"])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Registry:
    cwd = tmp_path / "work"
    cwd.mkdir()
    if request.param == "gitlab":
        return GitLabRegistry(request.getfixturevalue("double"), cwd)
    if request.param == "mlflow-server":
        url = request.getfixturevalue("mlflow_server")
        return MlflowServerRegistry(url, cwd, request.getfixturevalue("mlflow_server_root"))
    return EmbeddedRegistry(cwd, request.getfixturevalue("empty_mlflow_database"))


def _ok(run: Run) -> Run:
    assert run.code == 0, run.stderr
    return assert_no_secret(run)


def _settings(environ: dict[str, str], cwd: Path) -> Settings:
    """What `gmr` resolves in that environment (click reads GMR_TOKEN into the flag)."""
    return Settings.resolve(Flags(token=environ.get("GMR_TOKEN")), environ, cwd)


def _publish(
    registry: Registry, model: str, model_dir: Path, version: str, accuracy: float
) -> None:
    """Set-up through the library in this process (a `gmr` run on MLflow costs seconds); each
    version by its own pipeline (a re-run of one job would resume its version)."""
    environ = registry.env(CI_PIPELINE_ID=str(400 + sum(map(ord, version))))
    settings = _settings(environ, registry.cwd)
    request = PublishRequest(
        model=model, paths=[str(model_dir)], version=version, metrics={"accuracy": accuracy}
    )
    publish(open_registry(settings), request, settings.ci)


def test_promote_download_history_rollback(
    gmr: Gmr, registry: Registry, model: str, model_dir: Path, tmp_path: Path
) -> None:
    _publish(registry, model, model_dir, "1.0.0", 0.90)
    _publish(registry, model, model_dir, "1.1.0", 0.93)
    first = _ok(
        gmr(
            "promote",
            model,
            "1.0.0",
            "--environment",
            "production",
            "--require",
            "accuracy>=@production",
        )
    )
    assert "nothing is in production yet" in first.stderr
    assert first.stdout.startswith(f"Deployed {model} 1.0.0 to production")

    second = _ok(
        gmr(
            "promote",
            model,
            "1.1.0",
            "--environment",
            "production",
            "--require",
            "accuracy>=@production-0.01",
        )
    )
    assert "accuracy=0.93 vs 0.9 of 1.0.0 in production, limit 0.89, margin +0.04" in second.stderr
    if registry.kind == "gitlab":  # the same code on MLflow, where each run costs seconds
        _refusal_and_reads(gmr, model)

    rolled = _ok(gmr("rollback", model, "--environment", "production", "--json")).json
    assert (rolled["previous"], rolled["version"]) == ("1.1.0", "1.0.0")
    dest = tmp_path / "deployed"
    got = _ok(gmr("download", model, "--environment", "production", "--dest", str(dest), "--json"))
    assert got.json["version"] == "1.0.0" and (dest / "config.json").read_text() == '{"layers": 2}'
    past = _ok(gmr("history", model, "--environment", "production", "--json")).json
    assert [d["version"] for d in past] == ["1.0.0", "1.1.0", "1.0.0"]
    assert all(d["status"] == "success" and d["created_at"].endswith("Z") for d in past)


def _refusal_and_reads(gmr: Gmr, model: str) -> None:
    """A worse candidate is refused against production; show and versions name what is there."""
    refused = gmr(
        "promote",
        model,
        "1.0.0",
        "--environment",
        "production",
        "--require",
        "accuracy>=@production",
    )
    assert refused.code == 5 and "accuracy=0.9 vs 0.93 of 1.1.0" in refused.stderr, refused.stderr
    shown = _ok(gmr("show", model, "--environment", "production", "--json")).json
    assert shown["model_version"]["version"] == "1.1.0"
    listed = _ok(gmr("versions", model)).stdout.splitlines()
    assert listed[0].startswith("1.1.0") and listed[0].endswith("  [production]")
    assert "[" not in listed[1]


def test_two_promotions_racing_leave_one_current_version(
    gmr: Gmr, registry: Registry, model: str, model_dir: Path
) -> None:
    _publish(registry, model, model_dir, "2.0.0", 0.9)
    _publish(registry, model, model_dir, "2.1.0", 0.9)
    racers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gitlab_model_registry",
                "promote",
                model,
                version,
                "--environment",
                "staging",
            ],
            cwd=registry.cwd,
            env=registry.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for version in ("2.0.0", "2.1.0")
    ]
    for racer in racers:
        _, err = racer.communicate(timeout=GMR_TIMEOUT)
        assert racer.returncode == 0, err

    backend = open_registry(_settings(registry.env(), registry.cwd))
    past = environments.history(backend, model)
    assert sorted(d.version for d in past) == ["2.0.0", "2.1.0"]
    assert reading.placements(backend, model) in ({"2.0.0": ["staging"]}, {"2.1.0": ["staging"]})
