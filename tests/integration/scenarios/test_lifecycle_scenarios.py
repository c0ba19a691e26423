"""`gmr promote`, `download`, `versions` and `show` scenarios, each run against every registry.

Promotion within one registry (rc -> release, gates, re-runs, conflicts) and downloads (exact,
latest, constraint, verified) are the same on GitLab and MLflow; promotion into another project
is GitLab's alone (``tests/integration/publish/test_promote_download.py``), and here MLflow is
shown to refuse it. Each `gmr` run on MLflow costs ~3 s: scenarios share their set-up steps.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from tests.integration.publish.conftest import Run, assert_no_secret
from tests.integration.scenarios.conftest import Gmr
from tests.integration.scenarios.registries import CI_CONTEXT, Registry

RC = "1.4.0-rc.1"
#: The job that published the release candidate, and a later one that promotes it.
PUBLISH_JOB = {"CI_JOB_NAME": "train-and-publish", "CI_PIPELINE_ID": "400"}
PROMOTE_JOB = {"CI_JOB_NAME": "promote-model", "CI_PIPELINE_ID": "600"}


class LifecycleGmr:
    """`gmr` in the registry's cwd with its own TMPDIR (so temp leftovers show); no run prints
    a token."""

    def __init__(self, registry: Registry, tmp: Path) -> None:
        self.run, self.tmp = Gmr(registry), tmp

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Run:
        return assert_no_secret(self.run(*args, env={"TMPDIR": str(self.tmp), **(env or {})}))


@pytest.fixture
def gmr(registry: Registry, tmp_path: Path) -> LifecycleGmr:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    return LifecycleGmr(registry, tmp)


@pytest.fixture
def rc(gmr: LifecycleGmr, registry: Registry, model: str, model_dir: Path) -> Run:
    """``model`` 1.4.0-rc.1 with files, params and metrics, published by an earlier pipeline."""
    run = gmr(
        "publish",
        model,
        str(model_dir),
        "--version",
        RC,
        "--param",
        "lr=0.1",
        "--metric",
        "accuracy=0.93",
        "--metric",
        "loss=0.2",
        "--json",
        env=PUBLISH_JOB,
    )
    assert run.code == 0, run.stderr
    return run


def digests(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in root.rglob("*")
        if path.is_file()
    }


def dotenv(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


def test_promote_rc_to_release_keeps_files_params_and_metrics_and_a_rerun_changes_nothing(
    gmr: LifecycleGmr, registry: Registry, model: str, model_dir: Path, rc: Run
) -> None:
    promote = ("promote", model, RC, "--release", "--require", "accuracy>=0.9")
    args = (*promote, "--require", "loss<0.3", "--dotenv", "promoted.env", "--json")

    run = gmr(*args, env=PROMOTE_JOB)

    assert run.code == 0, run.stderr
    assert run.json["version"] == "1.4.0"
    assert registry.semvers(model) == ["1.4.0", RC]
    release, source = registry.version(model, "1.4.0"), registry.version(model, RC)
    assert release is not None and source is not None
    assert release.files == source.files == digests(model_dir)
    assert release.params == {"lr": "0.1"}
    assert release.metrics == {"accuracy": 0.93, "loss": 0.2}
    assert release.tags["promoted-from"] == f"{registry.project_ref}/{model}@{RC}"
    # The promoting job is linked, not the source's: its tags were not copied over.
    assert release.ci_job_id == CI_CONTEXT["CI_JOB_ID"]
    assert (release.tags["ci.job_name"], release.tags["ci.pipeline_id"]) == ("promote-model", "600")
    assert (source.tags["ci.job_name"], source.tags["ci.pipeline_id"]) == (
        "train-and-publish",
        "400",
    )
    written = dotenv(registry.cwd / "promoted.env")
    assert (written["MODEL_NAME"], written["MODEL_VERSION"]) == (model, "1.4.0")
    assert (written["MODEL_VERSION_ID"], written["MODEL_RUN_ID"]) == (release.id, release.run_id)
    assert list(gmr.tmp.iterdir()) == []  # the copy's temp files (MLflow) are gone

    again = gmr(*args, env=PROMOTE_JOB)

    assert again.code == 0, again.stderr
    assert again.json["resumed"] is True and again.json["copied"] == []
    assert registry.semvers(model) == ["1.4.0", RC]
    assert registry.version(model, "1.4.0") == release


def test_failing_gates_exit_5_name_each_failure_and_write_nothing(
    gmr: LifecycleGmr, registry: Registry, model: str, rc: Run
) -> None:
    before = registry.snapshot()
    gates = ["--require", "accuracy>=0.95", "--require", "loss<0.5", "--require", "f1>0.5"]

    run = gmr("promote", model, RC, "--release", *gates)

    assert run.code == 5, run.stderr
    failures = run.stderr.split("promotion gates:")[1]
    assert "accuracy>=0.95 (accuracy=0.93)" in failures
    assert "f1>0.5 (metric 'f1' was not logged)" in failures
    assert "loss" not in failures
    assert registry.snapshot() == before


def test_promoting_onto_a_version_with_other_files_is_refused(
    gmr: LifecycleGmr, registry: Registry, model: str, rc: Run
) -> None:
    other = registry.cwd / "other.bin"
    other.write_bytes(b"a different model")
    taken = gmr("publish", model, str(other), "--version", "1.4.0", env={"CI_PIPELINE_ID": "1"})
    assert taken.code == 0, taken.stderr
    before = registry.version(model, "1.4.0")

    run = gmr("promote", model, RC, "--release")

    assert run.code == 5, run.stderr
    assert f"{model} 1.4.0 already exists with other content" in run.stderr
    assert registry.semvers(model) == ["1.4.0", RC]
    assert registry.version(model, "1.4.0") == before


def test_download_exact_latest_and_constraint_into_an_empty_or_forced_destination(
    gmr: LifecycleGmr, registry: Registry, model: str, model_dir: Path, rc: Run
) -> None:
    assert gmr("promote", model, RC, "--release").code == 0
    config = str(model_dir / "config.json")
    later = gmr("publish", model, config, "--version", "2.1.0", env={"CI_PIPELINE_ID": "2"})
    assert later.code == 0, later.stderr

    exact = gmr("download", model, RC, "--dest", "out", "--json")
    latest = gmr("download", model, "latest", "--dest", "latest", "--json")
    refused = gmr("download", model, ">=1.2,<2", "--dest", "out")
    ranged = gmr("download", model, ">=1.2,<2", "--dest", "out", "--force", "--json")

    assert (exact.code, latest.code, ranged.code) == (0, 0, 0), exact.stderr + ranged.stderr
    assert (exact.json["version"], latest.json["version"], ranged.json["version"]) == (
        RC,
        "2.1.0",
        "1.4.0",
    )
    assert digests(registry.cwd / "latest") == {"config.json": digests(model_dir)["config.json"]}
    assert refused.code == 2 and "not empty" in refused.stderr
    assert digests(registry.cwd / "out") == digests(model_dir)  # the release replaced the rc
    assert sorted(p.name for p in registry.cwd.iterdir() if p.name.startswith(".")) == []
    assert list(gmr.tmp.iterdir()) == []


def test_versions_newest_first_and_show_a_promoted_version(
    gmr: LifecycleGmr, registry: Registry, model: str, model_dir: Path, rc: Run
) -> None:
    assert gmr("promote", model, RC, "--release").code == 0

    listed = gmr("versions", model, "--json")
    shown = gmr("show", model, "1.4.0")

    assert (listed.code, shown.code) == (0, 0), listed.stderr + shown.stderr
    assert [v["version"] for v in listed.json] == ["1.4.0", RC]
    # One format whichever registry answered: ISO 8601 UTC to the second.
    assert all(
        re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", v["created_at"]) for v in listed.json
    )
    # The web page where there is one (GitLab, a tracking server), else the files' location.
    link = listed.json[0]["web_url"] or listed.json[0]["package_url"]
    assert link.startswith(registry.link_prefix)
    lines = [line.strip() for line in shown.stdout.splitlines()]
    assert lines[0].startswith(f"{model} 1.4.0  ({registry.link_prefix}")
    assert re.fullmatch(r"created: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", lines[1])
    assert "CI job: " + registry.env()["CI_JOB_URL"] in lines
    for name, digest in digests(model_dir).items():
        assert any(line.startswith(f"{name}  ") and f"sha256 {digest}" in line for line in lines)
    assert {"lr = 0.1", "accuracy = 0.93", "loss = 0.2"} <= set(lines)
    assert f"promoted-from = {registry.project_ref}/{model}@{RC}" in lines


def test_a_corrupted_download_is_detected_and_never_left_in_place(
    gmr: LifecycleGmr, registry: Registry, model: str, rc: Run
) -> None:
    registry.corrupt(model, RC, "weights/layer 1.bin")
    served = registry.reads(model, RC, "weights/layer 1.bin")

    run = gmr("download", model, RC, "--dest", "out")

    assert run.code == 3, run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, run.stderr
    assert "weights/layer 1.bin" in errors[0] and "sha256" in errors[0]
    assert not (registry.cwd / "out").exists()
    assert sorted(p.name for p in registry.cwd.iterdir() if p.name.startswith(".")) == []
    assert list(gmr.tmp.iterdir()) == []
    # Retried (bytes may be damaged on the way) where the registry shows what it served.
    reads = registry.reads(model, RC, "weights/layer 1.bin")
    if reads is not None and served is not None:
        assert reads - served > 1, f"{reads - served} download(s) of it; {errors[0]}"


@pytest.mark.parametrize("registry", ["mlflow-server", "sqlite"], indirect=True)
def test_mlflow_has_no_projects_to_promote_into(
    gmr: LifecycleGmr, registry: Registry, model: str
) -> None:
    before = registry.snapshot()

    run = gmr("promote", model, RC, "--to-project", "group/production")

    assert run.code == 2, run.stderr
    assert "--to-project needs the GitLab backend" in run.stderr
    assert "an MLflow registry has no projects" in run.stderr
    assert registry.snapshot() == before
