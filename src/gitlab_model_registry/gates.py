"""Promotion gates: ``metric>=0.9`` style comparisons against a version's logged metrics, or
against the version an environment holds: ``accuracy>=@production``,
``latency_ms<=@production*1.05``, ``f1>=@production-0.01``. Pure: the caller looks the
environments' versions up (``Baseline``)."""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from gitlab_model_registry.errors import GateError, UsageError

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    ">": operator.gt,
    "<": operator.lt,
}
_GATE = re.compile(r"^\s*(?P<metric>[^<>=\s]+)\s*(?P<op>>=|<=|==|>|<)\s*(?P<value>\S+)\s*$")
#: ``@env``, optionally scaled (``*1.05``) or shifted (``+0.01``, ``-0.01``).
_REFERENCE = re.compile(
    r"^@(?P<env>[A-Za-z0-9_./-]+?)(?:(?P<mod>[*+-])(?P<num>(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?))?$"
)
_SYNTAX = (
    "write METRIC OP NUMBER or METRIC OP @ENVIRONMENT[*N|+N|-N] with OP one of >=, >, <=, <, ==, "
    "e.g. 'accuracy>=0.9' or 'latency_ms<=@production*1.05'"
)


@dataclass(frozen=True)
class Baseline:
    """What an environment holds: its version (None when empty) and that version's metrics."""

    environment: str
    version: str | None
    metrics: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Gate:
    """One ``--require`` condition: a metric compared with a number or an environment's value."""

    metric: str
    op: str
    threshold: float  # the number; for an environment gate, the factor or the shift
    environment: str | None = None
    modifier: str = ""  # "", "*", "+" or "-" (environment gates)

    def __str__(self) -> str:
        if self.environment is None:
            return f"{self.metric}{self.op}{self.threshold:g}"
        shift = f"{self.modifier}{self.threshold:g}" if self.modifier else ""
        return f"{self.metric}{self.op}@{self.environment}{shift}"

    def limit(self, reference: float) -> float:
        if self.modifier == "*":
            return reference * self.threshold
        if self.modifier == "+":
            return reference + self.threshold
        if self.modifier == "-":
            return reference - self.threshold
        return reference

    def failure(self, metrics: Mapping[str, float]) -> str | None:
        """Why the gate refuses these metrics, or None when it passes (number gates)."""
        passed, text = self.verdict(metrics, {})
        return None if passed else text

    def verdict(
        self, metrics: Mapping[str, float], baselines: Mapping[str, Baseline]
    ) -> tuple[bool, str]:
        """(passed, a line saying so with both values and the margin)."""
        if self.metric not in metrics:
            return False, f"{self} (metric {self.metric!r} was not logged)"
        value = metrics[self.metric]
        if self.environment is None:
            passed = _OPERATORS[self.op](value, self.threshold)
            return passed, f"{self} ({self.metric}={value:g})"
        base = baselines.get(self.environment, Baseline(self.environment, None))
        if base.version is None:
            return True, f"{self}: passes, nothing is in {self.environment} yet"
        if self.metric not in base.metrics:
            return False, (
                f"{self} ({self.metric!r} was not logged on {base.version} in {self.environment})"
            )
        reference = base.metrics[self.metric]
        limit = self.limit(reference)
        passed = _OPERATORS[self.op](value, limit)
        margin = value - limit if self.op in (">=", ">") else limit - value
        return passed, (
            f"{self} ({self.metric}={value:g} vs {reference:g} of {base.version} in "
            f"{self.environment}, limit {limit:g}, margin {margin:+g})"
        )


def parse(text: str) -> Gate:
    match = _GATE.match(text)
    if match is not None and match["value"].startswith("@"):
        reference = _REFERENCE.match(match["value"])
        number = _number(reference["num"]) if reference and reference["num"] else None
        if reference is not None and (number is not None or not reference["mod"]):
            modifier = reference["mod"] or ""
            return Gate(match["metric"], match["op"], number or 0.0, reference["env"], modifier)
        raise UsageError(f"bad gate {text!r}", hint=_SYNTAX)
    threshold = _number(match["value"]) if match else None
    if match is None or threshold is None:
        raise UsageError(f"bad gate {text!r}", hint=_SYNTAX)
    return Gate(match["metric"], match["op"], threshold)


def environments(gates: Iterable[Gate]) -> list[str]:
    """The environments the gates compare against, each once, in order."""
    return list(dict.fromkeys(g.environment for g in gates if g.environment))


def check(
    gates: Sequence[Gate],
    metrics: Mapping[str, float],
    version: str,
    baselines: Mapping[str, Baseline] | None = None,
) -> list[str]:
    """One line per gate; raise GateError naming every failing comparison."""
    verdicts = [gate.verdict(metrics, baselines or {}) for gate in gates]
    failures = [text for passed, text in verdicts if not passed]
    if failures:
        raise GateError(
            f"{version} does not pass the promotion gates: {'; '.join(failures)}",
            hint="nothing was promoted",
        )
    return [text for _, text in verdicts]


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
