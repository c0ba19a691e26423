"""Failures against the GitLab double: one clear line, the design's exit code, no secret shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gitlab_double import seed
from tests.gitlab_double.pytest_plugin import Double
from tests.integration.publish.conftest import Gmr, Run, writes

ALL_SECRETS = [value for value, _, _ in seed.TOKENS] + [token for _, token, _ in seed.JOBS]


def assert_no_secret(run: Run) -> None:
    for secret in [*ALL_SECRETS, "glpat-unknown-token"]:
        assert secret not in run.stdout and secret not in run.stderr


def error_line(run: Run) -> str:
    lines = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, run.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("token", "code", "message"),
    [
        ("glpat-unknown-token", 4, "refused the API token"),
        (seed.READ_API_TOKEN, 4, "api scope"),
        (seed.GUEST_TOKEN, 4, "Developer"),
        (seed.REPORTER_TOKEN, 4, "Developer"),
        (seed.JOB_TOKEN, 4, "CI_JOB_TOKEN is not accepted"),
    ],
    ids=["unknown", "read_api", "guest", "reporter", "job-token-as-api-token"],
)
def test_refused_credentials_exit_4_with_what_to_do(
    gmr: Gmr, double: Double, model_dir: Path, token: str, code: int, message: str
) -> None:
    run = gmr("publish", "iris", str(model_dir), "-vv", env={"GMR_TOKEN": token})

    assert run.code == code, run.stderr
    assert message in error_line(run)
    assert_no_secret(run)
    assert double.control.state()["projects"][0]["models"] == []


def test_reporter_job_token_cannot_upload(gmr: Gmr, double: Double, model_dir: Path) -> None:
    env = {"CI_JOB_ID": double.reporter_job_id, "CI_JOB_TOKEN": double.reporter_job_token}

    run = gmr("publish", "iris", str(model_dir), env=env)

    assert run.code == 4, run.stderr
    assert "CI job token" in error_line(run) and "--upload-token" in error_line(run)
    assert_no_secret(run)


def test_unknown_project_exits_4(gmr: Gmr, double: Double, model_dir: Path) -> None:
    run = gmr("publish", "iris", str(model_dir), env={"CI_PROJECT_ID": "999"})

    assert run.code == 4
    assert "project '999' not found" in error_line(run)


def test_missing_file_writes_nothing(gmr: Gmr, double: Double, model_dir: Path) -> None:
    run = gmr("publish", "iris", str(model_dir), "missing.bin")

    assert run.code == 2
    assert "missing.bin" in error_line(run)
    assert double.control.requests() == []


@pytest.mark.parametrize("bad", ["../outside.bin", "we%ird.bin", "semi;colon.bin"])
def test_invalid_remote_names_are_refused_before_any_request(
    gmr: Gmr, double: Double, tmp_path: Path, bad: str
) -> None:
    root = tmp_path / "tree" / "inner"
    root.mkdir(parents=True)
    target = (root / bad).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("x")
    if bad.startswith(".."):
        (root / "link.bin").symlink_to(target)

    run = gmr("publish", "iris", str(root))

    assert run.code == 2, run.stderr
    assert double.control.requests() == []


def test_transient_server_errors_are_retried(gmr: Gmr, double: Double, model_dir: Path) -> None:
    double.control.set_faults(fault_rate=0.3, fault_statuses=[500, 502, 503, 429], seed=7)

    run = gmr("publish", "iris", str(model_dir))

    assert run.code == 0, run.stderr
    version = double.control.version("iris", "1.0.0")
    assert version is not None and len(version["files"]) == 3
    assert len(double.control.model("iris")["versions"]) == 1
    statuses = {r["status"] for r in double.control.requests()}
    assert statuses & {500, 502, 503, 429}


def test_dropped_uploads_are_retried_and_verified(
    gmr: Gmr, double: Double, model_dir: Path
) -> None:
    double.control.set_faults(drop_rate=0.5, seed=3)

    run = gmr("publish", "iris", str(model_dir), "--json")

    assert run.code == 0, run.stderr
    stored = {f["name"]: f["sha256"] for f in double.control.version("iris", "1.0.0")["files"]}
    assert stored == {f["name"]: f["sha256"] for f in run.json["uploaded"]}


def test_a_registry_that_keeps_failing_exits_3(gmr: Gmr, double: Double, model_dir: Path) -> None:
    double.control.set_faults(fault_rate=1.0, fault_statuses=[503])

    run = gmr("publish", "iris", str(model_dir), env={"GMR_TIMEOUT": "5"})

    assert run.code == 3, run.stderr
    assert "503" in error_line(run)


def test_dry_run_reports_problems_without_writing(gmr: Gmr, double: Double) -> None:
    run = gmr("publish", "iris", "nothing-here", "--dry-run")

    assert run.code == 2
    assert writes(double) == []
