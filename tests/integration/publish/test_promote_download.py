"""`gmr promote`, `download`, `versions` and `show` against the GitLab double."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.gitlab_double.pytest_plugin import Double
from tests.integration.publish.conftest import Gmr

PROD = {"GMR_TO_PROJECT": "group/production"}


@pytest.fixture
def rc(gmr: Gmr, model_dir: Path) -> dict[str, object]:
    """iris 1.4.0-rc.1 with files, params and metrics, published by an earlier pipeline."""
    run = gmr(
        "publish",
        "iris",
        str(model_dir),
        "--version",
        "1.4.0-rc.1",
        "--param",
        "lr=0.1",
        "--metric",
        "accuracy=0.93",
        "--metric",
        "loss=0.2",
        "--json",
        env={"CI_PIPELINE_ID": "400", "CI_JOB_NAME": "train-and-publish"},
    )
    assert run.code == 0, run.stderr
    return run.json  # type: ignore[no-any-return]


def files_of(double: Double, version: str, project_id: int = 1) -> dict[str, str]:
    found = double.control.version("iris", version, project_id=project_id)
    assert found is not None, f"iris {version} missing in project {project_id}"
    return {f["name"]: f["sha256"] for f in found["files"]}


def test_promote_rc_to_release_keeps_files_params_and_metrics(
    gmr: Gmr, double: Double, rc: dict[str, object]
) -> None:
    run = gmr(
        "promote",
        "iris",
        "1.4.0-rc.1",
        "--release",
        "--require",
        "accuracy>=0.9",
        "--dotenv",
        "p.env",
    )

    assert run.code == 0, run.stderr
    assert files_of(double, "1.4.0") == files_of(double, "1.4.0-rc.1")
    release = double.control.version("iris", "1.4.0")
    assert release["run"]["params"] == {"lr": "0.1"}
    assert release["run"]["metrics"] == {"accuracy": 0.93, "loss": 0.2}
    assert release["run"]["tags"]["promoted-from"] == "group/project/iris@1.4.0-rc.1"
    assert release["ci_job_id"] == double.job_id
    assert "MODEL_VERSION=1.4.0\n" in (gmr.cwd / "p.env").read_text()


def test_promote_to_another_project(gmr: Gmr, double: Double, rc: dict[str, object]) -> None:
    run = gmr("promote", "iris", "1.4.0-rc.1", "--to", "2.0.0", env=PROD)

    assert run.code == 0, run.stderr
    assert files_of(double, "2.0.0", project_id=2) == files_of(double, "1.4.0-rc.1")
    assert double.control.version("iris", "2.0.0", project_id=1) is None


def test_failing_gate_exits_5_and_promotes_nothing(
    gmr: Gmr, double: Double, rc: dict[str, object]
) -> None:
    run = gmr(
        "promote",
        "iris",
        "1.4.0-rc.1",
        "--release",
        "--require",
        "accuracy>=0.95",
        "--require",
        "loss<0.5",
    )

    assert run.code == 5, run.stderr
    assert (
        "accuracy>=0.95 (accuracy=0.93)" in run.stderr
        and "loss" not in run.stderr.split("gates:")[1]
    )
    assert double.control.version("iris", "1.4.0") is None


def test_gate_on_a_metric_never_logged_fails(
    gmr: Gmr, double: Double, rc: dict[str, object]
) -> None:
    run = gmr("promote", "iris", "1.4.0-rc.1", "--release", "--require", "f1>0.5")

    assert run.code == 5
    assert "'f1' was not logged" in run.stderr


def test_rerunning_a_promotion_completes_it(
    gmr: Gmr, double: Double, rc: dict[str, object]
) -> None:
    first = gmr("promote", "iris", "1.4.0-rc.1", "--release", "--json")
    again = gmr("promote", "iris", "1.4.0-rc.1", "--release", "--json")

    assert first.code == 0 and again.code == 0, again.stderr
    assert again.json["resumed"] is True and again.json["copied"] == []
    assert len(double.control.model("iris")["versions"]) == 2


def test_promoting_onto_a_different_existing_version_is_refused(
    gmr: Gmr, double: Double, rc: dict[str, object], tmp_path: Path
) -> None:
    other = tmp_path / "other.bin"
    other.write_bytes(b"different model")
    gmr("publish", "iris", str(other), "--version", "1.4.0", env={"CI_PIPELINE_ID": "1"})

    run = gmr("promote", "iris", "1.4.0-rc.1", "--release")

    assert run.code == 5
    assert "already exists with other content" in run.stderr


def test_download_exact_latest_and_constraint(
    gmr: Gmr, double: Double, rc: dict[str, object], model_dir: Path
) -> None:
    gmr("promote", "iris", "1.4.0-rc.1", "--release")
    gmr(
        "publish",
        "iris",
        str(model_dir / "config.json"),
        "--version",
        "2.1.0",
        env={"CI_PIPELINE_ID": "2"},
    )

    exact = gmr("download", "iris", "1.4.0-rc.1", "--dest", "exact", "--json")
    latest = gmr("download", "iris", "latest", "--dest", "latest", "--json")
    ranged = gmr("download", "iris", ">=1.2,<2", "--dest", "ranged", "--json")

    assert (exact.code, latest.code, ranged.code) == (0, 0, 0), ranged.stderr
    assert (exact.json["version"], latest.json["version"], ranged.json["version"]) == (
        "1.4.0-rc.1",
        "2.1.0",
        "1.4.0",
    )
    for name in ("config.json", "weights/layer 1.bin", "weights/layer+2.bin"):
        assert (gmr.cwd / "ranged" / name).read_bytes() == (model_dir / name).read_bytes()
    assert sorted(p.name for p in (gmr.cwd / "latest").iterdir()) == ["config.json"]


def test_download_in_a_later_job_uses_the_dotenv_variables(
    gmr: Gmr, double: Double, rc: dict[str, object]
) -> None:
    run = gmr(
        "download", "--dest", "deployed", env={"MODEL_NAME": "iris", "MODEL_VERSION": "1.4.0-rc.1"}
    )

    assert run.code == 0, run.stderr
    assert "Downloaded iris 1.4.0-rc.1: 3 file(s)" in run.stdout


def test_download_refuses_a_non_empty_destination_unless_forced(
    gmr: Gmr, double: Double, rc: dict[str, object]
) -> None:
    (gmr.cwd / "dest").mkdir()
    (gmr.cwd / "dest" / "old.txt").write_text("keep me")

    refused = gmr("download", "iris", "latest", "--dest", "dest")
    forced = gmr("download", "iris", "latest", "--dest", "dest", "--force")

    assert refused.code == 2 and "not empty" in refused.stderr
    assert forced.code == 0, forced.stderr
    assert (
        not (gmr.cwd / "dest" / "old.txt").exists() and (gmr.cwd / "dest" / "config.json").exists()
    )


def test_corrupted_download_is_retried_and_never_left_in_place(
    gmr: Gmr, double: Double, rc: dict[str, object], model_dir: Path
) -> None:
    # Replace a stored file's bytes behind GitLab's back: its recorded sha256 no longer matches.
    double.control.corrupt_file("iris", "1.4.0-rc.1", "config.json")

    run = gmr("download", "iris", "1.4.0-rc.1", "--dest", "out")

    assert run.code == 3, run.stderr
    assert "config.json" in run.stderr and "sha256" in run.stderr
    assert not (gmr.cwd / "out").exists()
    assert [p.name for p in gmr.cwd.iterdir() if p.name.startswith(".out")] == []


def test_download_survives_transient_faults(
    gmr: Gmr, double: Double, rc: dict[str, object], model_dir: Path
) -> None:
    double.control.set_faults(fault_rate=0.3, fault_statuses=[502, 503], drop_rate=0.0, seed=11)

    run = gmr("download", "iris", "1.4.0-rc.1", "--dest", "out")

    assert run.code == 0, run.stderr
    digest = hashlib.sha256((gmr.cwd / "out" / "weights" / "layer 1.bin").read_bytes()).hexdigest()
    assert (
        digest == hashlib.sha256((model_dir / "weights" / "layer 1.bin").read_bytes()).hexdigest()
    )


def test_versions_and_show(gmr: Gmr, double: Double, rc: dict[str, object]) -> None:
    gmr("promote", "iris", "1.4.0-rc.1", "--release")

    listed = gmr("versions", "iris", "--json")
    shown = gmr("show", "iris", "1.4.0", "--json")
    text = gmr("show", "iris", "1.4.0")

    assert [v["version"] for v in listed.json] == ["1.4.0", "1.4.0-rc.1"]
    assert {f["name"] for f in shown.json["files"]} == {
        "config.json",
        "weights/layer 1.bin",
        "weights/layer+2.bin",
    }
    assert shown.json["metrics"] == {"accuracy": 0.93, "loss": 0.2}
    assert "promoted-from = group/project/iris@1.4.0-rc.1" in text.stdout
    assert json.loads(listed.stdout)[0]["web_url"].startswith(double.url)
