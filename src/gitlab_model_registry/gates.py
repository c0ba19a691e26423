"""Promotion gates: ``metric>=0.9`` style comparisons against a version's logged metrics."""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from gitlab_model_registry.errors import GateError, UsageError

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    ">": operator.gt,
    "<": operator.lt,
}
_GATE = re.compile(r"^\s*(?P<metric>[^<>=\s]+)\s*(?P<op>>=|<=|==|>|<)\s*(?P<value>\S+)\s*$")


@dataclass(frozen=True)
class Gate:
    metric: str
    op: str
    threshold: float

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{self.threshold:g}"

    def failure(self, metrics: Mapping[str, float]) -> str | None:
        """Why the gate refuses these metrics, or None when it passes."""
        if self.metric not in metrics:
            return f"{self} (metric {self.metric!r} was not logged)"
        value = metrics[self.metric]
        return (
            None
            if _OPERATORS[self.op](value, self.threshold)
            else f"{self} ({self.metric}={value:g})"
        )


def parse(text: str) -> Gate:
    match = _GATE.match(text)
    threshold = _number(match["value"]) if match else None
    if match is None or threshold is None:
        raise UsageError(
            f"bad gate {text!r}",
            hint="write METRIC OP NUMBER with OP one of >=, >, <=, <, ==, e.g. 'accuracy>=0.9'",
        )
    return Gate(match["metric"], match["op"], threshold)


def check(gates: Sequence[Gate], metrics: Mapping[str, float], version: str) -> None:
    """Raise GateError naming every failing comparison."""
    failures = [reason for gate in gates if (reason := gate.failure(metrics))]
    if failures:
        raise GateError(
            f"{version} does not pass the promotion gates: {'; '.join(failures)}",
            hint="nothing was promoted",
        )


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
