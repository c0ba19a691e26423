"""The components write the metrics and annotations reports; publish posts the MR note unless
its input turns it off (the report options read these variables)."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest

from tests.unit.test_templates import (
    PROMOTE,
    REPORTING_TEMPLATES,
    TEMPLATE,
    by_name,
    interpolated_job,
)


@pytest.mark.parametrize("template", REPORTING_TEMPLATES, ids=by_name)
def test_both_reports_are_written_and_declared(template: Path) -> None:
    _, job = interpolated_job(template)
    variables, artifacts = job["variables"], job["artifacts"]
    assert artifacts["reports"]["metrics"] == variables["GMR_METRICS_REPORT"]
    assert artifacts["reports"]["annotations"] == variables["GMR_ANNOTATIONS"]
    assert {variables["GMR_METRICS_REPORT"], variables["GMR_ANNOTATIONS"]} <= set(
        artifacts["paths"]
    )


@pytest.mark.parametrize(("given", "wanted"), [({}, True), ({"mr-report": False}, False)])
def test_the_mr_report_input_reaches_gmr_as_a_boolean_it_reads(
    given: dict[str, bool], wanted: bool
) -> None:
    _, job = interpolated_job(TEMPLATE, **given)
    assert click.BOOL.convert(job["variables"]["GMR_MR_REPORT"], None, None) is wanted


def test_baselines_reach_gmr_as_a_json_array() -> None:
    _, job = interpolated_job(TEMPLATE, against=["@production", "release/1.x"])
    assert json.loads(job["variables"]["GMR_AGAINST"]) == ["@production", "release/1.x"]


def test_promote_posts_no_note() -> None:
    _, job = interpolated_job(PROMOTE)
    assert "GMR_MR_REPORT" not in job["variables"]
