"""Gates against an environment's version (``accuracy>=@production``): pure comparisons."""

from __future__ import annotations

import pytest

from gitlab_model_registry import gates
from gitlab_model_registry.errors import GateError, UsageError

PRODUCTION = {"production": gates.Baseline("production", "1.0.0", {"accuracy": 0.9, "lat": 100})}


def _check(*texts: str, accuracy: float = 0.92, lat: float = 104) -> list[str]:
    checks = [gates.parse(t) for t in texts]
    return gates.check(checks, {"accuracy": accuracy, "lat": lat}, "m 1.1.0", PRODUCTION)


def test_a_better_candidate_passes_and_shows_both_values_and_the_margin() -> None:
    assert _check("accuracy>=@production") == [
        "accuracy>=@production (accuracy=0.92 vs 0.9 of 1.0.0 in production, limit 0.9, "
        "margin +0.02)"
    ]


def test_a_worse_candidate_is_refused() -> None:
    with pytest.raises(GateError, match=r"accuracy=0.85 vs 0.9 .* margin -0.05"):
        _check("accuracy>=@production", accuracy=0.85)


@pytest.mark.parametrize(
    ("gate", "passes"),
    [
        ("accuracy>=@production-0.01", True),  # 0.895 is within 0.01 below 0.9
        ("accuracy>=@production+0.01", False),
        ("lat<=@production*1.05", True),  # 104 <= 105
        ("lat<=@production*1.03", False),
    ],
)
def test_tolerances(gate: str, passes: bool) -> None:
    if passes:
        assert _check(gate, accuracy=0.895)
    else:
        with pytest.raises(GateError):
            _check(gate, accuracy=0.895)


def test_nothing_deployed_passes_and_says_so() -> None:
    checks = [gates.parse("accuracy>=@staging")]
    baselines = {"staging": gates.Baseline("staging", None)}
    assert gates.check(checks, {"accuracy": 0.1}, "m 1.1.0", baselines) == [
        "accuracy>=@staging: passes, nothing is in staging yet"
    ]


def test_a_metric_missing_on_the_deployed_version_refuses() -> None:
    with pytest.raises(GateError, match=r"'lat' was not logged on 1\.0\.0 in staging"):
        checks = [gates.parse("lat<=@staging")]
        baselines = {"staging": gates.Baseline("staging", "1.0.0", {})}
        gates.check(checks, {"lat": 1}, "m 1.1.0", baselines)


@pytest.mark.parametrize("text", ["accuracy>=@", "accuracy>=@prod*x", "accuracy>=@prod*", "a>=@@p"])
def test_malformed_environment_gates_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError, match="bad gate"):
        gates.parse(text)


def test_environments_named_by_gates_in_order() -> None:
    checks = [
        gates.parse(t) for t in ("a>=@production", "b<=@staging*2", "c>=@production-1", "d>1")
    ]
    assert gates.environments(checks) == ["production", "staging"]
    assert [str(c) for c in checks] == [
        "a>=@production",
        "b<=@staging*2",
        "c>=@production-1",
        "d>1",
    ]
