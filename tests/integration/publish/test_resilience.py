"""Every fault at once, interrupted downloads, object storage, and where GitLab tokens go.

The fault mix (a bounded number of seeded runs): error statuses 500/502/503/429 (Retry-After),
uploads dropped midway, answers cut off halfway with an honest Content-Length (JSON and files),
downloads reset after 64 KiB, and in one run every download redirected to object storage.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from gitlab_model_registry.transfer import CHUNK
from tests.gitlab_double.pytest_plugin import Double
from tests.integration.publish.conftest import Gmr

MIX = {
    "fault_rate": 0.12,
    "fault_statuses": [500, 502, 503, 429],
    "drop_rate": 0.15,
    "truncate_rate": 0.12,
    "reset_rate": 0.3,
    "reset_after": 64 * 1024,
}
NO_FAULTS = {"fault_rate": 0.0, "drop_rate": 0.0, "truncate_rate": 0.0, "reset_rate": 0.0}
RETRY_LINE = re.compile(
    r"^retrying [\w -]+ .+ in \d+\.\d s \(attempt [2-6]/6\): (connection broken|connection "
    r"failed|HTTP 5\d\d|HTTP 429|timed out|the answer was not complete JSON)$"
)


def _tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def faulty(double: Double) -> Iterator[Double]:
    """The double for a test that injects faults; reset again afterwards."""
    yield double
    double.control.reset()


@pytest.mark.parametrize(("seed", "direct"), [(1, False), (2, True), (3, False)])
def test_publish_promote_and_download_survive_every_fault_at_once(
    gmr: Gmr, faulty: Double, model_dir: Path, seed: int, direct: bool
) -> None:
    faulty.control.set_faults(**MIX, seed=seed, direct_download=direct)

    runs = [
        gmr("publish", "iris", str(model_dir), "--version", "1.0.0-rc.1"),
        gmr("promote", "iris", "1.0.0-rc.1", "--release"),
        gmr("download", "iris", "1.0.0", "--dest", "out"),
    ]

    for run in runs:
        assert run.code == 0, run.stderr
    retries = [line for run in runs for line in run.stderr.splitlines() if "retrying" in line]
    assert retries, "the mix caused no retry at all"
    assert all(RETRY_LINE.match(line) for line in retries), retries
    faulty.control.set_faults(**NO_FAULTS)
    versions = faulty.control.model("iris")["versions"]  # type: ignore[index]
    assert sorted(v["version"] for v in versions) == ["1.0.0", "1.0.0-rc.1"]
    assert _tree(gmr.cwd / "out") == _tree(model_dir)
    if direct:
        store = faulty.control.object_store()
        assert store["requests"] and {r["authorization"] for r in store["requests"]} == {None}


def test_an_interrupted_download_resumes_where_it_broke(
    gmr: Gmr, faulty: Double, tmp_path: Path
) -> None:
    size = 4 * CHUNK  # a cut keeps the whole chunks written before it
    (tmp_path / "big").mkdir()
    (tmp_path / "big" / "model.bin").write_bytes(os.urandom(size))
    assert gmr("publish", "big", str(tmp_path / "big"), "--version", "1.0.0").code == 0
    faulty.control.set_faults(reset_rate=1.0, reset_after=size // 2)

    run = gmr("download", "big", "1.0.0", "--dest", "out")

    assert run.code == 0, run.stderr
    assert (gmr.cwd / "out" / "model.bin").read_bytes() == (
        tmp_path / "big" / "model.bin"
    ).read_bytes()
    served = {
        urlsplit(p).path.rsplit("/", 1)[-1]: n for p, n in faulty.control.served_bytes().items()
    }
    # Cut at half, then only the missing half again: the size in all, not 1.5 times it.
    assert served == {"model.bin": size}
    assert "retrying downloading model.bin in" in run.stderr and "connection broken" in run.stderr


def test_broken_connections_after_the_retries_exit_3(gmr: Gmr, faulty: Double) -> None:
    faulty.control.set_faults(truncate_rate=1.0)

    run = gmr("versions", "iris")

    assert run.code == 3, run.stderr
    assert "failed after 6 attempts: connection broken" in run.stderr
    assert run.stderr.count("retrying") == 5


def test_a_job_on_another_gitlab_sends_neither_its_job_token_nor_its_job_id(
    gmr: Gmr, double: Double, model_dir: Path
) -> None:
    elsewhere = {
        "CI_API_V4_URL": "https://gitlab-a.example/api/v4",
        "CI_SERVER_URL": "https://gitlab-a.example",
        "CI_JOB_TOKEN": "glcbt-of-gitlab-a",  # unknown here: sending it would be a 401
        "CI_JOB_ID": "424242",  # unknown here: linking it would be a 500
        "GMR_GITLAB_URL": double.url,
        "GMR_PROJECT": str(double.project_id),
    }

    run = gmr("publish", "iris", str(model_dir), "--version", "1.0.0", env=elsewhere)

    assert run.code == 0, run.stderr
    version = double.control.version("iris", "1.0.0")
    assert version is not None and "gitlab.CI_JOB_ID" not in version["run"]["tags"]
    assert version["run"]["tags"]["ci.job_url"]  # the job is still recorded, as a plain tag


def test_another_project_gets_the_api_token_and_a_refusal_names_the_setting(
    gmr: Gmr, double: Double, model_dir: Path
) -> None:
    default = gmr("publish", "iris", str(model_dir), "--project", "2", "--version", "1.0.0")
    forced = gmr(
        "publish",
        "iris",
        str(model_dir),
        "--project",
        "2",
        "--version",
        "1.0.1",
        "--upload-token",
        "job",
        env={"CI_PIPELINE_ID": "501"},  # another pipeline: not a re-run of the first
    )

    assert default.code == 0, default.stderr
    assert forced.code == 4, forced.stderr
    assert "job token allowlist" in forced.stderr and "GMR_UPLOAD_TOKEN" in forced.stderr


def test_json_calls_wait_as_long_as_retry_after_says(gmr: Gmr, faulty: Double) -> None:
    faulty.control.set_faults(fault_rate=1.0, fault_statuses=[429])

    run = gmr("versions", "iris")

    assert run.code == 3, run.stderr
    lines = [line for line in run.stderr.splitlines() if line.startswith("retrying")]
    assert lines[0].endswith("in 1.0 s (attempt 2/6): HTTP 429"), lines
