"""`gmr publish` and `gmr next-version` scenarios, each run against every registry.

The ``registry`` fixture is the GitLab double, a real ``mlflow server`` (chosen by
MLFLOW_TRACKING_URI in a CI job) and the embedded SQLite default (nothing configured).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.integration.scenarios.conftest import GITLAB_SHAPES, Gmr
from tests.integration.scenarios.registries import CI_CONTEXT, Registry

MIXED = ["1.0.0", "1.1.0", "1.2.0-rc.1", "1.1.1", "2.0.0-beta.1", "0.9.0"]


def digests(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in root.rglob("*")
        if path.is_file()
    }


def test_new_model_gets_1_0_0_with_its_files_and_ci_link(
    gmr: Gmr, registry: Registry, model: str, model_dir: Path
) -> None:
    run = gmr("publish", model, str(model_dir), "--dotenv", "model.env")

    assert run.code == 0, run.stderr
    assert registry.semvers(model) == ["1.0.0"]
    version = registry.version(model, "1.0.0")
    assert version is not None
    assert version.files == digests(model_dir)
    assert set(version.files) == {"config.json", "weights/layer 1.bin", "weights/layer+2.bin"}
    for key, variable in [("gitlab.CI_JOB_ID", "CI_JOB_ID"), ("ci.commit_sha", "CI_COMMIT_SHA")]:
        assert version.tags[key] == CI_CONTEXT[variable]
    assert version.tags["ci.pipeline_id"] == CI_CONTEXT["CI_PIPELINE_ID"]
    assert "publish-model" in version.description
    assert run.stdout.strip().splitlines()[-1].strip().startswith(registry.link_prefix)
    lines = (registry.cwd / "model.env").read_text().splitlines()
    dotenv = dict(line.split("=", 1) for line in lines)
    assert dotenv["MODEL_NAME"] == model
    assert dotenv["MODEL_VERSION"] == "1.0.0"
    assert dotenv["MODEL_VERSION_ID"] == version.id
    assert dotenv["MODEL_RUN_ID"] == version.run_id


def test_existing_model_gets_the_next_patch(
    gmr: Gmr, registry: Registry, model: str, model_dir: Path
) -> None:
    registry.seed(model, ["1.0.0", "1.0.1"])

    run = gmr("publish", model, str(model_dir / "config.json"))

    assert run.code == 0, run.stderr
    assert registry.semvers(model) == ["1.0.0", "1.0.1", "1.0.2"]
    version = registry.version(model, "1.0.2")
    assert version is not None
    assert version.files == {"config.json": digests(model_dir)["config.json"]}


def test_explicit_version(gmr: Gmr, registry: Registry, model: str, model_dir: Path) -> None:
    run = gmr("publish", model, str(model_dir), "--version", "3.1.4-rc.1+build.7", "--json")

    assert run.code == 0, run.stderr
    assert run.json["version"] == "3.1.4-rc.1+build.7"
    version = registry.version(model, "3.1.4-rc.1+build.7")
    assert version is not None and version.files == digests(model_dir)


@pytest.mark.parametrize(
    ("bump", "expected"),
    [
        ("major", "2.0.0"),  # latest is 2.0.0-beta.1: releasing it
        ("minor", "2.0.0"),
        ("patch", "2.0.0"),
        ("premajor", "3.0.0-rc.1"),
        ("preminor", "2.1.0-rc.1"),
        ("prepatch", "2.0.1-rc.1"),
        ("prerelease", "2.0.0-rc.1"),
    ],
)
def test_every_bump_kind_from_a_mixed_registry(
    gmr: Gmr, registry: Registry, model: str, model_dir: Path, bump: str, expected: str
) -> None:
    registry.seed(model, MIXED)

    run = gmr("publish", model, str(model_dir / "config.json"), "--bump", bump, "--json")

    assert run.code == 0, run.stderr
    assert run.json["version"] == expected
    assert registry.semvers(model) == sorted([*MIXED, expected])


def test_bumps_follow_semver_order_not_string_order(
    gmr: Gmr, registry: Registry, model: str
) -> None:
    registry.seed(model, ["1.0.0", "1.4.2", "1.10.0", "0.3.0"])

    bumped = {
        kind: gmr("next-version", model, "--bump", kind).stdout.strip()
        for kind in ("major", "minor", "patch", "prerelease")
    }

    assert bumped == {
        "major": "2.0.0",
        "minor": "1.11.0",
        "patch": "1.10.1",
        "prerelease": "1.10.1-rc.1",
    }


@pytest.mark.parametrize(
    ("ci_env", "expected"),
    [
        ({"CI_COMMIT_TAG": "v2.5.0"}, "2.5.0"),
        ({"CI_COMMIT_TAG": "2.5.0-rc.3"}, "2.5.0-rc.3"),
        ({"CI_MERGE_REQUEST_IID": "17"}, "1.1.2-mr.17.42"),
        ({"CI_COMMIT_REF_NAME": "feature/x"}, "1.1.2"),
    ],
    ids=["tag-with-v", "tag-prerelease", "merge-request", "branch"],
)
def test_auto_version_from_the_ci_context(
    gmr: Gmr,
    registry: Registry,
    model: str,
    model_dir: Path,
    ci_env: dict[str, str],
    expected: str,
) -> None:
    registry.seed(model, ["1.0.0", "1.1.1"])

    run = gmr("publish", model, str(model_dir), "--version", "auto", "--json", env=ci_env)

    assert run.code == 0, run.stderr
    assert run.json["version"] == expected
    version = registry.version(model, expected)
    assert version is not None and version.files == digests(model_dir)


def test_dry_run_leaves_the_registry_untouched(
    gmr: Gmr, registry: Registry, model: str, model_dir: Path
) -> None:
    registry.seed(model, ["1.0.0"])
    before = registry.snapshot()

    run = gmr("publish", model, str(model_dir), "--param", "lr=0.1", "--dry-run")

    assert run.code == 0, run.stderr
    assert "1.0.1" in run.stdout and "weights/layer 1.bin" in run.stdout
    assert "1 param(s)" in run.stdout
    assert registry.snapshot() == before


def test_next_version_agrees_with_publish_and_writes_nothing(
    gmr: Gmr, registry: Registry, model: str, model_dir: Path
) -> None:
    registry.seed(model, MIXED)
    before = registry.snapshot()

    predicted = gmr("next-version", model, "--bump", "minor")

    assert predicted.code == 0, predicted.stderr
    assert registry.snapshot() == before
    published = gmr("publish", model, str(model_dir), "--bump", "minor", "--json")
    assert published.code == 0, published.stderr
    assert published.json["version"] == predicted.stdout.strip() == "2.0.0"
    assert registry.version(model, "2.0.0") is not None
    assert registry.snapshot() != before  # the snapshot does see writes


def test_params_and_metrics_from_flags_and_files(
    gmr: Gmr, registry: Registry, model: str, model_dir: Path
) -> None:
    (registry.cwd / "params.yaml").write_text("optimizer:\n  name: adam\n  lr: 0.001\nepochs: 10\n")
    (registry.cwd / "metrics.json").write_text(json.dumps({"eval": {"accuracy": 0.93, "f1": 0.9}}))

    run = gmr(
        "publish",
        model,
        str(model_dir),
        "--params-file",
        "params.yaml",
        "--param",
        "epochs=12",
        "--metrics-file",
        "metrics.json",
        "--metric",
        "loss=0.2",
    )

    assert run.code == 0, run.stderr
    version = registry.version(model, "1.0.0")
    assert version is not None
    assert version.params == {"optimizer.name": "adam", "optimizer.lr": "0.001", "epochs": "12"}
    assert version.metrics == {"eval.accuracy": 0.93, "eval.f1": 0.9, "loss": 0.2}


def test_republishing_an_explicit_existing_version_exits_5(
    gmr: Gmr, registry: Registry, model: str, model_dir: Path
) -> None:
    first = gmr("publish", model, str(model_dir), "--version", "2.0.0")
    assert first.code == 0, first.stderr
    before = registry.version(model, "2.0.0")

    # Another pipeline: not a retry of the same job, which would resume the version instead.
    run = gmr("publish", model, str(model_dir), "--version", "2.0.0", env={"CI_PIPELINE_ID": "77"})

    assert run.code == 5, run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and f"version 2.0.0 of {model} already exists" in errors[0]
    assert registry.semvers(model) == ["2.0.0"]
    assert registry.version(model, "2.0.0") == before


@pytest.mark.parametrize("registry", ["gitlab", *GITLAB_SHAPES], indirect=True)
def test_a_retried_job_resumes_its_version_in_every_gitlab_release_shape(
    gmr: Gmr, registry: Registry, model: str, model_dir: Path
) -> None:
    registry.seed(model, ["1.0.0"])
    first = gmr("publish", model, str(model_dir), "--bump", "patch", "--json")
    assert first.code == 0, first.stderr

    retried = gmr("publish", model, str(model_dir), "--bump", "patch", "--json")

    assert retried.code == 0, retried.stderr
    assert retried.json["version"] == first.json["version"] == "1.0.1"
    assert retried.json["resumed"] is True
    assert registry.semvers(model) == ["1.0.0", "1.0.1"]
