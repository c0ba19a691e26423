"""Test tiers: each test is marked by its directory (unit, integration, e2e, image, functional).

``GMR_REQUIRE_TIERS=e2e,image`` (set by ``.ci/run``) turns a skipped test of those tiers into a
failure, so a CI run cannot pass by silently skipping what it was meant to exercise.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path

import pytest

pytest_plugins = ["tests.gitlab_double.pytest_plugin", "tests.integration.mlflow.fixtures"]

TIERS = ("unit", "integration", "e2e", "image", "functional")
TESTS_DIR = Path(__file__).parent


def _tier_of(item: pytest.Item) -> str | None:
    for marker in item.iter_markers():
        if marker.name in TIERS:
            return marker.name
    relative = Path(str(item.fspath)).relative_to(TESTS_DIR)
    return relative.parts[0] if relative.parts[0] in TIERS else None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        tier = _tier_of(item)
        if tier and not item.get_closest_marker(tier):
            item.add_marker(getattr(pytest.mark, tier))


def _required_tiers() -> set[str]:
    return {t.strip() for t in os.environ.get("GMR_REQUIRE_TIERS", "").split(",") if t.strip()}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    tier = _tier_of(item)
    if report.skipped and tier in _required_tiers() and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"tier '{tier}' is required (GMR_REQUIRE_TIERS) but was skipped: {reason}"
