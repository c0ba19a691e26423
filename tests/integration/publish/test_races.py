"""Publishers racing for versions on a GitLab that answers like GitLab: the double widens its
check-then-insert window, so every overlap ends in the unique index's answer (or, for the
first checks, a translated validation message), never in an English "already been taken"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.gitlab_double.pytest_plugin import Double
from tests.integration.publish.conftest import Gmr, Run, assert_no_secret, seed_versions, writes

PUBLISHERS = 20
WINDOW_MS = 150


@pytest.mark.parametrize("language", ["en", "de"])
def test_twenty_racing_bump_publishers_get_distinct_consecutive_complete_versions(
    gmr: Gmr, double: Double, model_dir: Path, language: str
) -> None:
    double.control.set_language(double.developer_token, language)
    double.control.set_faults(race_window_ms=WINDOW_MS)
    seed_versions(double, "iris", ["1.0.0"])
    procs = [
        gmr.start(
            "publish",
            "iris",
            str(model_dir / "config.json"),
            "--bump",
            "patch",
            "--metric",
            f"rank={n}",
            "--json",
            env={"CI_PIPELINE_ID": str(700 + n)},  # 20 pipelines: none resumes another's version
        )
        for n in range(PUBLISHERS)
    ]
    outputs = [proc.communicate(timeout=240) for proc in procs]
    runs = [
        assert_no_secret(Run(p.returncode, out, err))
        for p, (out, err) in zip(procs, outputs, strict=True)
    ]

    assert [r.code for r in runs] == [0] * PUBLISHERS, [r.stderr for r in runs if r.code]
    published = {json.loads(r.stdout)["version"]: r for r in runs}
    assert sorted(published) == sorted(f"1.0.{n}" for n in range(1, PUBLISHERS + 1))
    refused = [w for w in writes(double) if w["path"].endswith("model-versions/create")]
    assert any(w["status"] == 400 for w in refused), "the window never made two creates overlap"
    for semver in published:
        version = double.control.version("iris", semver)
        assert version is not None
        assert [f["name"] for f in version["files"]] == ["config.json"]
        assert set(version["run"]["metrics"]) == {"rank"}
        assert version["ci_job_id"] == double.job_id
    ranks = {double.control.version("iris", v)["run"]["metrics"]["rank"] for v in published}
    assert ranks == set(range(PUBLISHERS))  # each publisher completed its own version


def test_racing_first_publishers_share_the_model_one_of_them_creates(
    gmr: Gmr, double: Double, model_dir: Path
) -> None:
    double.control.set_faults(race_window_ms=1000)  # wide: the four start at different speeds
    procs = [
        gmr.start(
            "publish",
            "fresh",
            str(model_dir / "config.json"),
            "--json",
            env={"CI_PIPELINE_ID": str(800 + n)},
        )
        for n in range(4)
    ]
    outputs = [proc.communicate(timeout=120) for proc in procs]

    assert [p.returncode for p in procs] == [0] * 4, [err for _, err in outputs]
    assert sorted(json.loads(out)["version"] for out, _ in outputs) == [
        "1.0.0",
        "1.0.1",
        "1.0.2",
        "1.0.3",
    ]
    model_creates = [w for w in writes(double) if w["path"].endswith("registered-models/create")]
    statuses = sorted(w["status"] for w in model_creates)
    assert statuses[0] == 200 and set(statuses[1:]) == {400}, statuses  # overlaps lost, once
