"""`gmr promote` and `gmr download` where only GitLab applies: another project, a later job's
dotenv variables, transient faults of the double.

Everything else they do is run on every registry in ``tests/integration/scenarios/``.
"""

from __future__ import annotations

import hashlib
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


def test_promote_to_another_project(gmr: Gmr, double: Double, rc: dict[str, object]) -> None:
    run = gmr("promote", "iris", "1.4.0-rc.1", "--to", "2.0.0", env=PROD)

    assert run.code == 0, run.stderr
    assert files_of(double, "2.0.0", project_id=2) == files_of(double, "1.4.0-rc.1")
    assert double.control.version("iris", "2.0.0", project_id=1) is None
    promoted = double.control.version("iris", "2.0.0", project_id=2)
    assert promoted is not None
    assert promoted["run"]["params"] == {"lr": "0.1"}
    assert promoted["run"]["metrics"] == {"accuracy": 0.93, "loss": 0.2}
    assert promoted["run"]["tags"]["promoted-from"] == "group/project/iris@1.4.0-rc.1"


def test_download_in_a_later_job_uses_the_dotenv_variables(
    gmr: Gmr, double: Double, rc: dict[str, object]
) -> None:
    run = gmr(
        "download", "--dest", "deployed", env={"MODEL_NAME": "iris", "MODEL_VERSION": "1.4.0-rc.1"}
    )

    assert run.code == 0, run.stderr
    assert "Downloaded iris 1.4.0-rc.1: 3 file(s)" in run.stdout


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
