"""`gmr publish` and `gmr next-version` against the GitLab double, end to end over HTTP."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.gitlab_double.pytest_plugin import Double
from tests.integration.publish.conftest import Gmr, seed_versions, writes

MIXED = ["1.0.0", "1.1.0", "1.2.0-rc.1", "1.1.1", "2.0.0-beta.1", "0.9.0"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_new_model_is_created_with_version_files_and_ci_link(
    gmr: Gmr, double: Double, model_dir: Path
) -> None:
    run = gmr("publish", "iris", str(model_dir), "--dotenv", "model.env")

    assert run.code == 0, run.stderr
    version = double.control.version("iris", "1.0.0")
    assert version is not None
    files = {f["name"]: f for f in version["files"]}
    assert set(files) == {"config.json", "weights/layer 1.bin", "weights/layer+2.bin"}
    for name, stored in files.items():
        assert stored["sha256"] == sha256(model_dir / name)
        assert stored["size"] == (model_dir / name).stat().st_size
    assert version["ci_job_id"] == double.job_id
    assert version["run"]["tags"]["ci.pipeline_id"] == "500"
    assert "publish-model" in version["description"]
    assert run.stdout.strip().splitlines()[-1].strip().startswith(double.url)
    dotenv = dict(line.split("=", 1) for line in (gmr.cwd / "model.env").read_text().splitlines())
    assert dotenv["MODEL_NAME"] == "iris"
    assert dotenv["MODEL_VERSION"] == "1.0.0"
    assert dotenv["MODEL_VERSION_ID"] == str(version["id"])
    assert dotenv["MODEL_PACKAGE_URL"].startswith(f"{double.url}/{double.project_path}/-/packages/")


def test_existing_model_gets_the_next_patch(gmr: Gmr, double: Double, model_dir: Path) -> None:
    seed_versions(double, "iris", ["1.0.0", "1.0.1"])

    run = gmr("publish", "iris", str(model_dir / "config.json"))

    assert run.code == 0, run.stderr
    assert double.control.version("iris", "1.0.2") is not None
    assert len(double.control.model("iris")["versions"]) == 3


def test_explicit_version(gmr: Gmr, double: Double, model_dir: Path) -> None:
    run = gmr("publish", "iris", str(model_dir), "--version", "3.1.4-rc.1+build.7", "--json")

    assert run.code == 0, run.stderr
    assert run.json["version"] == "3.1.4-rc.1+build.7"
    assert double.control.version("iris", "3.1.4-rc.1+build.7") is not None


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
    gmr: Gmr, double: Double, model_dir: Path, bump: str, expected: str
) -> None:
    seed_versions(double, "iris", MIXED)

    predicted = gmr("next-version", "iris", "--bump", bump)
    run = gmr("publish", "iris", str(model_dir), "--bump", bump, "--json")

    assert predicted.code == 0, predicted.stderr
    assert predicted.stdout.strip() == expected
    assert run.code == 0, run.stderr
    assert run.json["version"] == expected
    assert double.control.version("iris", expected) is not None


def test_bumps_from_a_registry_of_releases(gmr: Gmr, double: Double) -> None:
    seed_versions(double, "iris", ["1.0.0", "1.4.2", "1.10.0", "0.3.0"])

    bumped = {
        kind: gmr("next-version", "iris", "--bump", kind).stdout.strip()
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
    gmr: Gmr, double: Double, model_dir: Path, ci_env: dict[str, str], expected: str
) -> None:
    seed_versions(double, "iris", ["1.0.0", "1.1.1"])

    run = gmr("publish", "iris", str(model_dir), "--version", "auto", "--json", env=ci_env)

    assert run.code == 0, run.stderr
    assert run.json["version"] == expected
    assert double.control.version("iris", expected) is not None


def test_dry_run_writes_nothing(gmr: Gmr, double: Double, model_dir: Path) -> None:
    seed_versions(double, "iris", ["1.0.0"])
    before, writes_before = double.control.state(), len(writes(double))

    run = gmr("publish", "iris", str(model_dir), "--param", "lr=0.1", "--dry-run")

    assert run.code == 0, run.stderr
    assert "1.0.1" in run.stdout and "weights/layer 1.bin" in run.stdout
    assert "1 param(s)" in run.stdout
    assert double.control.state() == before
    assert len(writes(double)) == writes_before


def test_next_version_agrees_with_publish_and_writes_nothing(
    gmr: Gmr, double: Double, model_dir: Path
) -> None:
    seed_versions(double, "iris", MIXED)
    writes_before = len(writes(double))

    predicted = gmr("next-version", "iris", "--bump", "minor")

    assert predicted.code == 0, predicted.stderr
    assert len(writes(double)) == writes_before
    published = gmr("publish", "iris", str(model_dir), "--bump", "minor", "--json")
    assert published.json["version"] == predicted.stdout.strip()


def test_params_and_metrics_from_flags_and_files(gmr: Gmr, double: Double, model_dir: Path) -> None:
    (gmr.cwd / "params.yaml").write_text("optimizer:\n  name: adam\n  lr: 0.001\nepochs: 10\n")
    (gmr.cwd / "metrics.json").write_text(json.dumps({"eval": {"accuracy": 0.93, "f1": 0.9}}))

    run = gmr(
        "publish",
        "iris",
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
    data = double.control.version("iris", "1.0.0")["run"]
    assert data["params"] == {"optimizer.name": "adam", "optimizer.lr": "0.001", "epochs": "12"}
    assert data["metrics"] == {"eval.accuracy": 0.93, "eval.f1": 0.9, "loss": 0.2}


def test_many_params_are_sent_in_batches(gmr: Gmr, double: Double, model_dir: Path) -> None:
    (gmr.cwd / "params.json").write_text(json.dumps({f"p{i}": i for i in range(250)}))

    run = gmr("publish", "iris", str(model_dir), "--params-file", "params.json")

    assert run.code == 0, run.stderr
    assert len(double.control.version("iris", "1.0.0")["run"]["params"]) == 250
    batches = [r for r in double.control.requests() if r["path"].endswith("runs/log-batch")]
    assert len(batches) == 3


def test_rerun_of_the_same_job_completes_the_same_version(
    gmr: Gmr, double: Double, model_dir: Path
) -> None:
    first = gmr("publish", "iris", str(model_dir), "--json")
    (model_dir / "extra.txt").write_text("added before the retry")

    retry = gmr("publish", "iris", str(model_dir), "--json")

    assert first.code == 0 and retry.code == 0, retry.stderr
    assert retry.json["version"] == first.json["version"] == "1.0.0"
    assert retry.json["resumed"] is True
    assert len(retry.json["skipped"]) == 3 and [f["name"] for f in retry.json["uploaded"]] == [
        "extra.txt"
    ]
    assert len(double.control.model("iris")["versions"]) == 1


def test_another_pipeline_publishes_a_new_version(
    gmr: Gmr, double: Double, model_dir: Path
) -> None:
    gmr("publish", "iris", str(model_dir))

    run = gmr("publish", "iris", str(model_dir), "--json", env={"CI_PIPELINE_ID": "501"})

    assert run.json["version"] == "1.0.1"


def test_upload_uses_the_job_token_in_ci_and_the_api_token_on_request(
    gmr: Gmr, double: Double, model_dir: Path
) -> None:
    gmr("publish", "iris", str(model_dir / "config.json"))
    gmr(
        "publish",
        "iris",
        str(model_dir / "config.json"),
        "--upload-token",
        "api",
        env={"CI_PIPELINE_ID": "9"},
    )

    puts = [r for r in double.control.requests() if r["method"] == "PUT"]
    assert [r["credential"] for r in puts] == ["bearer", "bearer"]
    assert all(
        r["credential"] == "bearer" for r in double.control.requests() if "/ml/mlflow/" in r["path"]
    )


def test_publish_off_ci_with_flags(gmr: Gmr, double: Double, model_dir: Path) -> None:
    run = gmr(
        "publish",
        "iris",
        str(model_dir),
        "--gitlab-url",
        double.url,
        "--project",
        double.project_path,
        "--token",
        double.developer_token,
        ci=False,
    )

    assert run.code == 0, run.stderr
    version = double.control.version("iris", "1.0.0")
    assert version["ci_job_id"] is None
    assert len(version["files"]) == 3


def test_tracking_uri_of_gitlab_selects_gitlab(gmr: Gmr, double: Double, model_dir: Path) -> None:
    env = {
        "MLFLOW_TRACKING_URI": double.tracking_uri(),
        "MLFLOW_TRACKING_TOKEN": double.developer_token,
    }

    run = gmr("publish", "iris", str(model_dir), ci=False, env=env)

    assert run.code == 0, run.stderr
    assert double.control.version("iris", "1.0.0") is not None


def test_files_from_gmr_files_json_array(gmr: Gmr, double: Double, model_dir: Path) -> None:
    env = {
        "GMR_MODEL": "iris",
        "GMR_FILES": json.dumps([str(model_dir / "weights"), str(model_dir / "config.json")]),
    }

    run = gmr("publish", env=env)

    assert run.code == 0, run.stderr
    names = {f["name"] for f in double.control.version("iris", "1.0.0")["files"]}
    assert names == {"layer 1.bin", "layer+2.bin", "config.json"}


def test_eight_concurrent_publishers_get_distinct_consecutive_versions(
    gmr: Gmr, double: Double, model_dir: Path
) -> None:
    seed_versions(double, "iris", ["1.0.0"])
    procs = [
        gmr.start(
            "publish",
            "iris",
            str(model_dir / "config.json"),
            "--bump",
            "patch",
            "--json",
            env={"CI_PIPELINE_ID": str(600 + i)},
        )
        for i in range(8)
    ]
    outputs = [proc.communicate(timeout=180) for proc in procs]

    assert [p.returncode for p in procs] == [0] * 8, [err for _, err in outputs]
    versions = sorted(json.loads(out)["version"] for out, _ in outputs)
    assert versions == sorted(f"1.0.{n}" for n in range(1, 9))
