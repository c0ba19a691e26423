"""`gmr prune` against the GitLab double: the plan, --dry-run writing nothing, deletions that
GitLab's own routes confirm (version, package and files gone, nothing else changed), refusals
reported per version, and a re-run that finishes the job."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from tests.gitlab_double.pytest_plugin import Double
from tests.integration.publish.conftest import Gmr, seed_versions, writes

TIMEOUT = 10
VERSIONS = [
    "1.0.0",
    "1.1.0",
    "1.1.1-mr.5.20",
    "1.1.1-mr.5.21",
    "1.1.1-mr.6.22",
    "1.1.1-mr.6.23",
    "1.1.1-mr.7.24",
    "1.2.0-rc.1",
]
GONE = {"1.1.1-mr.5.20", "1.1.1-mr.5.21", "1.1.1-mr.6.22", "1.1.1-mr.7.24"}


@pytest.fixture
def gmr(double: Double, tmp_path: Path) -> Gmr:
    return Gmr(double, tmp_path)


@pytest.fixture
def seeded(double: Double) -> Double:
    seed_versions(double, "m", VERSIONS)
    for version in ("1.1.1-mr.5.20", "1.1.0"):
        found = double.control.version("m", version)
        assert found is not None
        url = f"{double.api_url}/projects/1/packages/ml_models/{found['id']}/files/w.bin"
        put = requests.put(url, data=b"weights", headers=_bearer(double), timeout=TIMEOUT)
        assert put.status_code == 201
    double.control.add_merge_request(5, state="merged")
    double.control.add_merge_request(6, state="opened")
    double.control.add_merge_request(7, state="closed")
    return double


def _bearer(double: Double, token: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token or double.maintainer_token}"}


def _as(double: Double, token: str) -> dict[str, str]:
    return {"GMR_TOKEN": token}


def _semvers(double: Double) -> set[str]:
    found = double.control.model("m")
    return {v["version"] for v in found["versions"]} if found else set()


def _others(double: Double) -> dict[str, Any]:
    """Everything stored for the versions that must stay."""
    found = double.control.model("m") or {"versions": []}
    return {v["version"]: v for v in found["versions"] if v["version"] not in GONE}


def test_dry_run_prints_the_plan_and_writes_nothing(gmr: Gmr, seeded: Double) -> None:
    before = len(writes(seeded))
    run = gmr("prune", "m", "--dry-run", env=_as(seeded, seeded.maintainer_token))
    assert run.code == 0, run.stderr
    assert "delete  1.1.1-mr.5.21  MR !5 is merged" in run.stdout
    assert "keep    1.1.1-mr.6.23  newest prerelease of open MR !6" in run.stdout
    assert "keep    1.1.0          the latest release" in run.stdout
    assert "4 version(s) would be deleted; nothing was deleted" in run.stdout
    assert len(writes(seeded)) == before
    assert not [r for r in seeded.control.requests() if r["path"] == "/api/graphql"]


def test_prune_deletes_as_gitlab_means_it_and_a_second_run_deletes_nothing(
    gmr: Gmr, seeded: Double
) -> None:
    kept_before = _others(seeded)
    gone_ids = {v: seeded.control.version("m", v)["id"] for v in GONE}  # type: ignore[index]
    run = gmr("prune", "m", "--json", env=_as(seeded, seeded.maintainer_token))
    assert run.code == 0, run.stderr
    assert set(run.json["deleted"]) == GONE
    by_version = {v["version"]: v for v in run.json["versions"]}
    assert by_version["1.1.1-mr.7.24"]["reason"] == "MR !7 is closed"
    assert by_version["1.1.1-mr.7.24"]["action"] == "delete"
    assert by_version["1.0.0"]["reason"] == "a release (pass --include-releases)"
    # GitLab's own routes: each version, its package and its files are gone.
    for version in GONE:
        got = requests.get(
            f"{seeded.tracking_uri()}/api/2.0/mlflow/model-versions/get",
            params={"name": "m", "version": version},
            headers=_bearer(seeded),
            timeout=TIMEOUT,
        )
        assert got.status_code == 404
        url = f"{seeded.api_url}/projects/1/packages/ml_models/{gone_ids[version]}/files/w.bin"
        assert requests.get(url, headers=_bearer(seeded), timeout=TIMEOUT).status_code == 404
    packages = requests.get(
        f"{seeded.api_url}/projects/1/packages",
        params={"package_type": "ml_model", "per_page": 100},
        headers=_bearer(seeded),
        timeout=TIMEOUT,
    ).json()
    assert {p["version"] for p in packages} == set(VERSIONS) - GONE
    assert _others(seeded) == kept_before  # nothing else changed
    again = gmr("prune", "m", "--json", env=_as(seeded, seeded.maintainer_token))
    assert again.code == 0 and again.json["deleted"] == []


def test_a_developer_token_is_refused_per_version_and_a_rerun_finishes(
    gmr: Gmr, seeded: Double
) -> None:
    run = gmr("prune", "m", "--mr", "merged")  # the developer token of ci_environ
    assert run.code == 3, run.stderr
    assert "FAILED  1.1.1-mr.5.20" in run.stdout
    assert "You don't have access to this package" in run.stderr
    assert "Maintainer" in run.stderr
    assert _semvers(seeded) >= GONE
    finish = gmr("prune", "m", "--mr", "merged", env=_as(seeded, seeded.maintainer_token))
    assert finish.code == 0, finish.stderr
    assert "deleted 2 of 2 version(s)" in finish.stdout


def test_a_reporter_is_refused_by_graphql_with_exit_4(gmr: Gmr, seeded: Double) -> None:
    run = gmr("prune", "m", env=_as(seeded, seeded.reporter_token))
    assert run.code == 4, run.stderr
    assert "GitLab refused to delete" in run.stderr
    assert _semvers(seeded) == set(VERSIONS)


def test_include_releases_keep_last_still_keeps_the_latest_release(
    gmr: Gmr, seeded: Double
) -> None:
    run = gmr(
        "prune",
        "m",
        "--include-releases",
        "--keep-last",
        "0",
        "--mr",
        "closed",
        "--json",
        env=_as(seeded, seeded.maintainer_token),
    )
    assert run.code == 0, run.stderr
    assert set(run.json["deleted"]) == {"1.0.0", "1.2.0-rc.1", "1.1.1-mr.7.24"}
    assert "1.1.0" in _semvers(seeded)


def test_a_bad_duration_is_a_usage_error_before_any_request(gmr: Gmr, seeded: Double) -> None:
    before = len(seeded.control.requests())
    run = gmr("prune", "m", "--older-than", "soon")
    assert run.code == 2
    assert "--older-than" in run.stderr
    assert len(seeded.control.requests()) == before


def test_a_version_in_an_environment_is_kept_whatever_the_flags(
    gmr: Gmr, seeded: Double, tmp_path: Path
) -> None:
    from gitlab_model_registry import Flags, Settings, environments, open_registry
    from gitlab_model_registry.models import CiContext

    flags = Flags(gitlab_url=seeded.url, project=seeded.project_path, token=seeded.developer_token)
    registry = open_registry(Settings.resolve(flags, environ={}, cwd=tmp_path))
    for version, environment in (("1.1.1-mr.5.20", "staging"), ("1.0.0", "production")):
        found = registry.get_version("m", version)
        assert found is not None
        ci = CiContext(commit_sha="0123456789abcdef0123456789abcdef01234567", ref_name="main")
        environments.deploy(registry, found, environment, ci)
    run = gmr(
        "prune",
        "m",
        "--include-releases",
        "--keep-last",
        "0",
        "--json",
        env=_as(seeded, seeded.maintainer_token),
    )
    assert run.code == 0, run.stderr
    by_version = {v["version"]: v for v in run.json["versions"]}
    assert by_version["1.1.1-mr.5.20"]["reason"] == "in staging"
    assert by_version["1.0.0"]["reason"] == "in production"
    assert by_version["1.1.1-mr.5.21"]["deleted"]  # its MR sibling was not protected
    assert {"1.1.1-mr.5.20", "1.0.0"} <= _semvers(seeded)


def test_protections_read_from_the_registry(gmr: Gmr, double: Double) -> None:
    """An incomplete version of a job that may still run, a promotion source and a signed
    release survive --include-releases --keep-last 0; a plain old release does not."""
    base = f"{double.tracking_uri()}/api/2.0/mlflow"

    def post(route: str, body: dict[str, Any]) -> dict[str, Any]:
        resp = requests.post(f"{base}/{route}", json=body, headers=_bearer(double), timeout=TIMEOUT)
        assert resp.status_code == 200, resp.text
        found: dict[str, Any] = resp.json()
        return found

    post("registered-models/create", {"name": "m"})

    def version(semver: str, **tags: str) -> dict[str, Any]:
        pairs = [{"key": k, "value": v} for k, v in {"gitlab.version": semver, **tags}.items()]
        created: dict[str, Any] = post("model-versions/create", {"name": "m", "tags": pairs})
        return created["model_version"]

    for semver in ("1.0.0", "1.1.0", "1.3.0", "2.0.0-rc.1"):
        version(semver)
    version("2.0.0", **{"promoted-from": f"{double.project_path}/m@2.0.0-rc.1"})
    version("2.1.0-rc.1", **{"gmr.completion": "run-finished"})  # its run is still RUNNING
    signed = version("1.2.0")
    post("runs/set-tag", {"run_id": signed["run_id"], "key": "gmr.signer", "value": "ci@x"})

    run = gmr(
        "prune",
        "m",
        "--include-releases",
        "--keep-last",
        "0",
        "--json",
        env=_as(double, double.maintainer_token),
    )
    assert run.code == 0, run.stderr
    reasons = {v["version"]: v["reason"] for v in run.json["versions"]}
    assert reasons["2.0.0"] == "the latest release"
    assert reasons["2.0.0-rc.1"] == "another version was promoted from it"
    assert reasons["2.1.0-rc.1"] == "incomplete, its publish may still be running"
    assert reasons["1.2.0"] == "a signed release"
    assert set(run.json["deleted"]) == {"1.0.0", "1.1.0", "1.3.0"}
    assert _semvers(double) == {"2.0.0", "2.0.0-rc.1", "2.1.0-rc.1", "1.2.0"}
