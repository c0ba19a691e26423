"""The prune component: GitLab's schema, scheduled pipelines only, a dry run unless opted out,
inputs reaching `gmr prune` only as variables it reads."""

from __future__ import annotations

from typing import Any

import click
import pytest

from gitlab_model_registry import __version__
from gitlab_model_registry.cli.prune import prune as prune_command
from tests.unit.test_templates import (
    IMAGE,
    ROOT,
    input_occurrences,
    inputs,
    interpolate,
    jobs_document,
    load_documents,
    schema_errors,
)

PRUNE = ROOT / "templates" / "prune.yml"


def job(**given: Any) -> tuple[str, dict[str, Any]]:
    declared = inputs(PRUNE)
    values = {n: s["default"] for n, s in declared.items() if "default" in s}
    document = interpolate(jobs_document(PRUNE), {**values, "model": "churn", **given})
    ((name, found),) = document.items()
    return name, found


def test_header_and_jobs_match_gitlab_schema() -> None:
    documents = load_documents(PRUNE)
    assert len(documents) == 2 and set(documents[0]) == {"spec"}
    assert schema_errors(documents[0]) == []
    assert schema_errors(dict([job()])) == []
    every = {"keep-last": "5", "older-than": "30d", "mr": "merged", "include-releases": True}
    assert schema_errors(dict([job(**every, **{"dry-run": False, "job-name": "prune-x"})])) == []


def test_inputs_are_described_only_model_is_required_and_the_image_is_this_release() -> None:
    declared = inputs(PRUNE)
    assert all(spec.get("description") for spec in declared.values())
    assert {name for name, spec in declared.items() if "default" not in spec} == {"model"}
    assert declared["image"]["default"] == f"{IMAGE}:{__version__}"


def test_runs_in_scheduled_pipelines_only_and_is_a_dry_run_by_default() -> None:
    _, found = job()
    assert found["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}]
    assert found["script"] == ["gmr prune"]
    assert found["variables"]["GMR_DRY_RUN"].strip() == "true"
    assert found["variables"]["GMR_INCLUDE_RELEASES"].strip() == "false"


def test_inputs_reach_the_job_only_as_variables_stage_image_and_name() -> None:
    occurrences = list(input_occurrences(jobs_document(PRUNE)))
    misplaced = [p for p, _ in occurrences if p and p[1] not in {"stage", "image", "variables"}]
    assert misplaced == []
    assert {name for _, name in occurrences} == set(inputs(PRUNE))
    assert "$[[" not in str(jobs_document(PRUNE)[next(iter(jobs_document(PRUNE)))]["script"])


@pytest.mark.parametrize("dry_run", [True, False])
def test_every_variable_is_one_gmr_prune_reads(dry_run: bool) -> None:
    _, found = job(**{"dry-run": dry_run, "keep-last": "3", "older-than": "2w"})
    variables = found["variables"]
    assert all(isinstance(v, str) for v in variables.values())
    read = {e for p in prune_command.params for e in _envvars(p)}
    read |= {"GMR_TOKEN_VARIABLE", "GMR_MODEL"}
    assert set(variables) <= read
    flag = next(p for p in prune_command.params if p.name == "dry_run")
    assert flag.type.convert(variables["GMR_DRY_RUN"], flag, None) is dry_run


def _envvars(param: click.Parameter) -> list[str]:
    value = param.envvar
    return [value] if isinstance(value, str) else list(value or [])
