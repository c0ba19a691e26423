"""The functional tier: the scenario suite against a real GitLab (``real_gitlab.py``), skipped
unless GMR_FUNCTIONAL_URL, GMR_FUNCTIONAL_TOKEN, GMR_FUNCTIONAL_PROJECT and
GMR_FUNCTIONAL_JOB_ID are set. Not a CI tier: a skip here never trips GMR_REQUIRE_TIERS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.functional.real_gitlab import RealGitLabRegistry, Target, unique_model
from tests.integration.scenarios.conftest import gmr as gmr  # the same fixtures
from tests.integration.scenarios.conftest import model_dir as model_dir


@pytest.fixture(scope="session")
def functional_target() -> Target:
    return Target.from_environ()


@pytest.fixture
def registry(functional_target: Target, tmp_path: Path) -> Iterator[RealGitLabRegistry]:
    cwd = tmp_path / "work"
    cwd.mkdir()
    registry = RealGitLabRegistry(functional_target, cwd)
    try:
        yield registry
    finally:
        registry.clean_up()


@pytest.fixture
def model(registry: RealGitLabRegistry) -> str:
    """A fresh model name per test: the project is shared with whatever else lives there."""
    name = unique_model()
    registry.models.add(name)
    return name
