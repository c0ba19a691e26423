"""`gmr publish --mr-report` and `gmr report` as a user runs them (subprocess, real HTTP)."""

from __future__ import annotations

import json
from pathlib import Path

import requests

from tests.gitlab_double.pytest_plugin import Double
from tests.integration.publish.conftest import Gmr

MR = {
    "CI_MERGE_REQUEST_IID": "3",
    "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
    "CI_COMMIT_REF_NAME": "feature-3",
    "CI_PROJECT_URL": "http://gitlab.example/group/project",
}


def _notes(double: Double) -> list[dict[str, object]]:
    url = f"{double.api_url}/projects/1/merge_requests/3/notes"
    got = requests.get(url, headers={"PRIVATE-TOKEN": double.owner_token}, timeout=10)
    got.raise_for_status()
    notes: list[dict[str, object]] = got.json()
    return notes


def test_two_mr_pipelines_update_one_note_and_write_both_reports(
    gmr: Gmr, double: Double, model_dir: Path, tmp_path: Path
) -> None:
    double.control.add_merge_request(3, source_branch="feature-3")
    main = gmr("publish", "m", str(model_dir), "--metric", "accuracy=0.9")
    assert main.code == 0, main.stderr
    outputs = ["--metrics-report", "metrics.txt", "--annotations", "annotations.json"]
    for pipeline, accuracy in (("801", "0.91"), ("802", "0.95")):
        env = {**MR, "CI_PIPELINE_ID": pipeline, "CI_PIPELINE_IID": pipeline}
        ran = gmr(
            "publish",
            "m",
            str(model_dir),
            "--metric",
            f"accuracy={accuracy}",
            "--version",
            "auto",
            "--mr-report",
            *outputs,
            env=env,
        )
        assert ran.code == 0, ran.stderr
        assert "warning" not in ran.stderr
    (note,) = _notes(double)
    assert "0.95" in str(note["body"]) and "main (1.0.0)" in str(note["body"])
    assert (tmp_path / "metrics.txt").read_text() == (
        '# TYPE gmr_accuracy gauge\ngmr_accuracy{model="m"} 0.95\n# EOF\n'
    )
    links = json.loads((tmp_path / "annotations.json").read_text())["model_registry"]
    assert links[0]["external_link"]["label"].startswith("m 1.0.1-mr.3.802")


def test_a_report_failure_is_one_warning_and_the_publish_succeeds(
    gmr: Gmr, double: Double, model_dir: Path
) -> None:
    env = {**MR, "CI_MERGE_REQUEST_IID": "4"}  # no such merge request on the double
    ran = gmr("publish", "m", str(model_dir), "--mr-report", env=env)
    assert ran.code == 0, ran.stderr
    assert ran.stderr.count("warning:") == 1 and "!4" in ran.stderr
    assert double.control.version("m", "1.0.0") is not None


def test_report_on_the_embedded_registry_prints_and_writes_markdown(
    gmr: Gmr, model_dir: Path, tmp_path: Path
) -> None:
    published = gmr("publish", "m", str(model_dir), "--metric", "accuracy=0.9", ci=False)
    assert published.code == 0, published.stderr
    ran = gmr("report", "m", "1.0.0", "--markdown", "report.md", "--mr", "5", ci=False)
    assert ran.code == 0, ran.stderr
    assert "| accuracy | 0.9 |" in ran.stdout
    assert (tmp_path / "report.md").read_text() == ran.stdout.removesuffix("\n")
    assert "not GitLab" in ran.stderr
