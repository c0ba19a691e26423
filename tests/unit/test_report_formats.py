"""The report's three formats, checked as their readers read them: the note through a markdown
parser (table shape), the metrics through prometheus_client's OpenMetrics parser, and the
annotations against GitLab's JSON schema for that report; plus golden files of each."""

from __future__ import annotations

import json
import os
import re
import shlex
from pathlib import Path

import jsonschema
import pytest
from markdown_it import MarkdownIt
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from gitlab_model_registry import gates, report_formats
from gitlab_model_registry.models import ModelVersion, RemoteFile, RunData
from gitlab_model_registry.report import Baseline, Links, Report, Snapshot

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("GMR_UPDATE_GOLDEN") == "1"
URL = "https://gitlab.example.com/group/project"

# GitLab's schemas for an annotations list (app/validators/json_schemas/ci_job_annotation_data.json
# and ci_job_external_link_data.json, gitlabhq/gitlabhq); the file maps list names to lists
# (app/services/ci/parse_annotations_artifact_service.rb: a JSON object, at most 20 lists).
EXTERNAL_LINK = {
    "properties": {"label": {"type": "string"}, "url": {"type": "string"}},
    "additionalProperties": False,
}
ANNOTATION_LIST = {
    "type": "array",
    "items": {
        "anyOf": [
            {
                "type": "object",
                "properties": {"external_link": EXTERNAL_LINK},
                "additionalProperties": False,
            }
        ]
    },
    "maxItems": 1000,
}
ANNOTATIONS_FILE = {
    "type": "object",
    "additionalProperties": ANNOTATION_LIST,
    "maxProperties": 20,
    "propertyNames": {"maxLength": 255},
}


def _version(version: str, run: str) -> ModelVersion:
    return ModelVersion(
        "iris", version, run, run_id=run, web_url=f"{URL}/-/ml/models/1/versions/{run}"
    )


def _report() -> Report:
    current = Snapshot(
        _version("1.3.0-mr.7.12", "9"),
        RunData(
            params={"lr": "0.01", "layers": "3", "api_token": "s3cr3t", "note": "a|b <i>x</i>"},
            metrics={"accuracy": 0.93, "loss": 0.21, "val.f1": 0.88},
        ),
        (
            RemoteFile("weights.bin", 2_000_000, "b" * 64),
            RemoteFile("config.json", 120, "c" * 64),
            RemoteFile("extra/tokenizer.json", 5_000, "d" * 64),
        ),
    )
    main = Snapshot(
        _version("1.2.0", "5"),
        RunData(
            params={"lr": "0.02", "layers": "3", "api_token": "old"},
            metrics={"accuracy": 0.9, "loss": 0.25},
        ),
        (
            RemoteFile("weights.bin", 1_900_000, "a" * 64),
            RemoteFile("config.json", 120, "c" * 64),
            RemoteFile("old.bin", 10, "e" * 64),
        ),
    )
    return Report(
        model="iris",
        current=current,
        baselines=(
            Baseline("main", main),
            Baseline("@production", missing="@production holds no version of iris yet"),
        ),
        gates=(gates.parse("accuracy>=0.92"), gates.parse("loss<0.2")),
        links=Links(
            version=current.version.web_url,
            package=f"{URL}/-/packages/3",
            job=f"{URL}/-/jobs/1001",
            pipeline=f"{URL}/-/pipelines/500",
            commit=f"{URL}/-/commit/0123456789abcdef",
        ),
    )


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text)
    assert text == path.read_text(), f"{name} changed; GMR_UPDATE_GOLDEN=1 rewrites it"


def _tables(text: str) -> list[list[list[str]]]:
    """Every table of the rendered markdown as rows of cell texts (GFM tables on)."""
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    tables: list[list[list[str]]] = []
    for token in tokens:
        if token.type == "table_open":
            tables.append([])
        elif token.type == "tr_open":
            tables[-1].append([])
        elif token.type == "inline" and tables and tables[-1] and _in_cell(tokens, token):
            tables[-1][-1].append(token.content)
    return tables


def _in_cell(tokens: list, token: object) -> bool:
    index = tokens.index(token)
    return tokens[index - 1].type in ("th_open", "td_open")


def test_the_note_matches_its_golden_file_and_its_tables_have_the_right_shape() -> None:
    text = report_formats.markdown(_report())
    _golden("report.md", text)
    assert text.startswith(report_formats.marker("iris") + "\n")
    metrics, params, files = _tables(text)
    assert metrics[0] == ["metric", "this version", "main (1.2.0)", "Δ", "gate"]
    assert all(len(row) == 5 for row in metrics)
    assert metrics[1] == ["accuracy", "0.93", "0.9", "▲ +0.03", "✅ <code>accuracy&gt;=0.92</code>"]
    assert [row[0] for row in params[1:]] == ["api_token", "lr", "note"]
    assert all(len(row) == 3 for row in params)
    assert "s3cr3t" not in text and "old" not in text.split("api_token", 1)[1].split("\n")[0]
    assert "<i>" not in text  # param values cannot inject HTML
    assert [row[1] for row in files[1:]] == ["added", "removed", "changed"]
    assert "@production holds no version of iris yet" in text


def test_long_tables_collapse_and_the_note_stays_under_gitlabs_limit() -> None:
    report = _report()
    many = {f"m{i:05d}": float(i) for i in range(5000)}
    big = Snapshot(
        report.current.version,
        RunData(params={f"p{i}": "x" * 500 for i in range(5000)}, metrics=many),
    )
    huge = Report("iris", big, report.baselines, links=report.links)
    text = report_formats.markdown(huge)
    assert len(text) <= report_formats.NOTE_LIMIT
    assert "<details><summary>5000 metrics</summary>" in text
    assert "_… and 4800 more metrics._" in text
    metrics = _tables(text)[0]
    assert len(metrics) == report_formats.MAX_ROWS + 1


def test_openmetrics_parses_back_with_prometheus_client() -> None:
    text = report_formats.openmetrics(_report())
    _golden("metrics.txt", text)
    assert text.endswith("# EOF\n")
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert set(families) == {"gmr_accuracy", "gmr_loss", "gmr_val_f1"}
    (sample,) = families["gmr_accuracy"].samples
    assert (sample.labels, sample.value) == ({"model": "iris"}, 0.93)


def _as_gitlab_reads_it(text: str) -> dict[str, str]:
    """GitLab's metrics parser: strip ``#...``, shell-split, first word = name, second = value."""
    found = {}
    for line in text.splitlines():
        words = shlex.split(re.sub(r"#.*$", "", line))
        if len(words) >= 2:
            found[words[0]] = words[1]
    return found


def test_the_metrics_widget_sees_stable_names_and_values() -> None:
    seen = _as_gitlab_reads_it(report_formats.openmetrics(_report()))
    assert seen == {
        "gmr_accuracy{model=iris}": "0.93",
        "gmr_loss{model=iris}": "0.21",
        "gmr_val_f1{model=iris}": "0.88",
    }


def test_metric_names_that_clash_after_cleaning_stay_apart() -> None:
    report = _report()
    clash = Snapshot(report.current.version, RunData(metrics={"val.f1": 1.0, "val_f1": 2.0}))
    text = report_formats.openmetrics(Report('a"b', clash, ()))
    families = {f.name: f.samples[0] for f in text_string_to_metric_families(text)}
    assert {name: s.value for name, s in families.items()} == {
        "gmr_val_f1": 1.0,
        "gmr_val_f1_2": 2.0,
    }
    assert families["gmr_val_f1"].labels == {"model": 'a"b'}


def test_annotations_follow_gitlabs_schema() -> None:
    found = report_formats.job_annotations(_report())
    _golden("annotations.json", json.dumps(found, indent=2) + "\n")
    jsonschema.validate(found, ANNOTATIONS_FILE)
    urls = [item["external_link"]["url"] for item in found["model_registry"]]
    assert urls == [f"{URL}/-/ml/models/1/versions/9", f"{URL}/-/packages/3"]


@pytest.mark.parametrize("bad", [{"x": [{"external_link": {"label": "a", "href": "b"}}]}, [1]])
def test_the_schema_check_can_fail(bad: object) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, ANNOTATIONS_FILE)


def test_the_readme_shows_the_golden_note() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert (GOLDEN / "report.md").read_text() in readme
