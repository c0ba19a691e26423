"""Test tiers: each test is marked by its directory (unit, integration, e2e, image, functional).

``GMR_REQUIRE_TIERS=e2e,image`` (set by ``.ci/run`` and ``make test-all``) turns a skipped test
of those tiers into a failure, so a run cannot pass by silently skipping what it was meant to
exercise. Every run ends with one line per tier: ran, or skipped with why and what enables it.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Generator
from pathlib import Path

import pytest

pytest_plugins = ["tests.gitlab_double.pytest_plugin", "tests.integration.mlflow.fixtures"]

TIERS = ("unit", "integration", "e2e", "image", "functional")
TESTS_DIR = Path(__file__).parent
#: The one command that makes a skipped tier run.
ENABLE_TIER = {
    "integration": "make install (the test extra brings the full mlflow with its server)",
    "e2e": "make test-all (provisions gitlab-ci-local and rsync, then runs every tier)",
    "image": "make test-all (provisions podman, buildah, runc and debootstrap, then runs every tier)",
    "functional": "set GMR_FUNCTIONAL_URL, _TOKEN, _PROJECT and _JOB_ID to a GitLab of yours",
}
_outcomes: dict[str, Counter[str]] = {}
_skip_reasons: dict[str, set[str]] = {}


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
    _count(tier, report)


def _count(tier: str | None, report: pytest.TestReport) -> None:
    if tier is None or (report.when != "call" and report.passed):
        return
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        _skip_reasons.setdefault(tier, set()).add(str(reason).removeprefix("Skipped: "))
    _outcomes.setdefault(tier, Counter())[report.outcome] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line per tier, so a run that skipped a tier says so at its very end."""
    terminalreporter.section("tiers")
    for tier in TIERS:
        counts = _outcomes.get(tier, Counter())
        ran = counts["passed"] + counts["failed"]
        skipped = counts["skipped"]
        if not ran and not skipped:
            continue
        line = f"{tier}: ran {ran}" + (f" ({counts['failed']} failed)" if counts["failed"] else "")
        if skipped:
            reasons = "; ".join(sorted(_skip_reasons.get(tier, ())))
            line += f", skipped {skipped}: {reasons}"
            if tier in ENABLE_TIER:
                line += f"; enable with: {ENABLE_TIER[tier]}"
        terminalreporter.write_line(line)
