"""The "complete" rule and version lookup, over an in-memory registry."""

from __future__ import annotations

from typing import Any

import pytest

from gitlab_model_registry import catalog
from gitlab_model_registry.errors import NotFoundError, UsageError
from gitlab_model_registry.models import ModelVersion, RegisteredModel

TRACKED = catalog.completion_tags()


class Registry:
    """Just what the catalog reads: a model, its versions, their runs' statuses."""

    def __init__(self, versions: dict[str, tuple[dict[str, str], str]]) -> None:
        self.versions = {
            semver: ModelVersion("m", semver, str(n), run_id=f"run-{semver}", tags=tags)
            for n, (semver, (tags, _)) in enumerate(versions.items())
        }
        self.statuses = {f"run-{s}": status for s, (_, status) in versions.items()}
        self.run_lookups = 0

    def describe(self) -> str:
        return "memory"

    def get_model(self, name: str) -> RegisteredModel | None:
        return RegisteredModel(name)

    def list_versions(self, model: str) -> list[ModelVersion]:
        return list(self.versions.values())

    def get_version(self, model: str, version: str) -> ModelVersion | None:
        return self.versions.get(version)

    def run_status(self, run_id: str) -> str:
        self.run_lookups += 1
        return self.statuses[run_id]


def backend(registry: Registry) -> Any:
    return registry


def test_latest_and_constraints_skip_incomplete_versions() -> None:
    registry = Registry(
        {"1.0.0": (TRACKED, "FINISHED"), "1.1.0": (TRACKED, "RUNNING"), "0.9.0": ({}, "RUNNING")}
    )

    assert catalog.resolve(backend(registry), "m", "latest").version == "1.0.0"
    assert catalog.resolve(backend(registry), "m", "<1").version == "0.9.0"
    with pytest.raises(NotFoundError, match="no complete version"):
        catalog.resolve(backend(registry), "m", ">1.0.0")


def test_an_exact_incomplete_version_is_refused_with_the_command_that_finishes_it() -> None:
    registry = Registry({"1.1.0": (TRACKED, "KILLED")})

    with pytest.raises(catalog.IncompleteVersionError) as raised:
        catalog.resolve(backend(registry), "m", "1.1.0")

    assert "gmr publish m PATH... --version 1.1.0" in raised.value.hint
    shown = catalog.resolve(backend(registry), "m", "1.1.0", incomplete=True)
    assert shown.complete is False


def test_versions_without_the_completion_tag_are_complete_without_a_run_lookup() -> None:
    registry = Registry({"1.0.0": ({"gmr.tool_version": "0.1.0"}, "RUNNING")})

    listed = catalog.all_versions(backend(registry), "m")

    assert [v.complete for v in listed] == [True]
    assert registry.run_lookups == 0


def test_a_bad_constraint_fails_before_any_lookup() -> None:
    with pytest.raises(UsageError, match="'>>1'"):
        catalog.check_spec(">>1")


def test_the_finish_command_quotes_what_a_shell_would_split() -> None:
    assert catalog.finish_command("m", "1.0.0", ["my model/"]) == (
        "gmr publish m 'my model/' --version 1.0.0"
    )
