"""The retention policy of ``gmr prune``: a pure function from facts about a model's versions to a
plan that keeps or deletes each one, with the reason. No I/O here (``prune`` gathers the facts).

Protections hold whatever the flags (``protection``): a version in an environment or recently
in one, the latest release, a version another existing version was promoted from, a signed
release, an incomplete version still within its job's lifetime. Releases are candidates only
with ``include_releases``. Among candidates:

- the ``keep_last`` newest (by semver) are kept, and so is anything younger than ``older_than``;
- an MR prerelease (``X.Y.Z-mr.<iid>.<pipeline>``) goes when its MR's state is one ``mr``
  selects; an open MR keeps its newest prerelease (older ones go with ``mr="any"``); an MR whose
  state is unknown keeps its prereleases;
- any other candidate goes only when ``keep_last`` or ``older_than`` was given and it is outside
  what they keep.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import semver

#: ``--mr`` choices and the MR states each deletes (GitLab's ``state`` field).
MR_CHOICES: Mapping[str, frozenset[str]] = {
    "closed": frozenset({"closed"}),
    "merged": frozenset({"merged"}),
    "any": frozenset({"closed", "merged"}),
}
OPEN = "opened"
#: How long an incomplete version may still be being published (GitLab's longest job timeout
#: is set per runner and project; a day covers the usual limits).
DEFAULT_JOB_LIFETIME = timedelta(days=1)
#: How long a version stays protected after an environment held it.
RECENT_IN_ENVIRONMENT = timedelta(days=30)
_MR_PRERELEASE = re.compile(r"mr\.(\d+)(?:\.\d+)?")


@dataclass(frozen=True)
class VersionFacts:
    """What the policy knows about one version. ``created_at``: aware, None when unknown."""

    version: str
    created_at: datetime | None = None
    complete: bool = True
    signed: bool = False
    #: The MR iid from the version's prerelease (or its CI tag), "" when not an MR prerelease.
    mr_iid: str = ""


@dataclass(frozen=True)
class Facts:
    """Everything a retention decision depends on, gathered before any is made."""

    now: datetime
    versions: Sequence[VersionFacts]
    #: MR iid -> GitLab state (opened, merged, closed, locked); a missing iid is unknown.
    mr_states: Mapping[str, str] = field(default_factory=dict)
    #: Version -> why an environment protects it ("in production", "recently in staging").
    environments: Mapping[str, str] = field(default_factory=dict)
    #: Versions that another existing version was promoted from.
    promotion_sources: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Policy:
    """``prune``'s rules: how many to keep, how old, which MRs' versions, releases or not."""

    keep_last: int | None = None
    older_than: timedelta | None = None
    mr: str = "any"
    include_releases: bool = False
    job_lifetime: timedelta = DEFAULT_JOB_LIFETIME

    def __post_init__(self) -> None:
        if self.mr not in MR_CHOICES:
            raise ValueError(f"mr must be one of {', '.join(MR_CHOICES)}")


@dataclass(frozen=True)
class Decision:
    """One version's verdict: deleted or kept, and why."""

    version: str
    delete: bool
    reason: str
    protected: bool = False


def mr_iid_of(version: str) -> str:
    """The MR iid of an ``X.Y.Z-mr.<iid>.<pipeline>`` prerelease, else ""."""
    pre = semver.Version.parse(version).prerelease or ""
    found = _MR_PRERELEASE.fullmatch(pre)
    return found.group(1) if found else ""


def is_release(version: str) -> bool:
    return semver.Version.parse(version).prerelease is None


def plan(facts: Facts, policy: Policy) -> list[Decision]:
    """One decision per version, newest first."""
    ordered = sorted(facts.versions, key=lambda v: semver.Version.parse(v.version), reverse=True)
    latest_release = next(
        (v.version for v in ordered if is_release(v.version) and v.complete), None
    )
    newest_of_mr: dict[str, str] = {}
    for v in ordered:
        if v.mr_iid:
            newest_of_mr.setdefault(v.mr_iid, v.version)
    decisions = []
    kept_newest = 0
    for v in ordered:
        shield = protection(v, facts, policy, latest_release)
        if shield:
            decisions.append(Decision(v.version, False, shield, protected=True))
            continue
        if is_release(v.version) and not policy.include_releases:
            decisions.append(Decision(v.version, False, "a release (pass --include-releases)"))
            continue
        if policy.keep_last is not None and kept_newest < policy.keep_last:
            kept_newest += 1
            decisions.append(Decision(v.version, False, f"among the {policy.keep_last} newest"))
            continue
        decisions.append(_select(v, facts, policy, newest_of_mr))
    return decisions


def protection(v: VersionFacts, facts: Facts, policy: Policy, latest_release: str | None) -> str:
    """Why ``v`` may never be deleted, or "" (the same answer whatever the other flags)."""
    if v.version in facts.environments:
        return facts.environments[v.version]
    if v.version == latest_release:
        return "the latest release"
    if v.version in facts.promotion_sources:
        return "another version was promoted from it"
    if v.signed and is_release(v.version):
        return "a signed release"
    if not v.complete and _younger(v, facts.now, policy.job_lifetime):
        return "incomplete, its publish may still be running"
    return ""


def _select(
    v: VersionFacts, facts: Facts, policy: Policy, newest_of_mr: Mapping[str, str]
) -> Decision:
    """The decision for an unprotected candidate outside ``keep_last``."""
    if policy.older_than is not None and _younger(v, facts.now, policy.older_than):
        return Decision(v.version, False, f"younger than {_days(policy.older_than)}")
    if v.mr_iid:
        return _mr_decision(v, facts.mr_states.get(v.mr_iid), policy, newest_of_mr)
    if policy.keep_last is None and policy.older_than is None:
        return Decision(v.version, False, "no --keep-last or --older-than selects it")
    if policy.keep_last is not None:
        return Decision(v.version, True, f"not among the {policy.keep_last} newest")
    return Decision(v.version, True, f"older than {_days(policy.older_than)}")


def _mr_decision(
    v: VersionFacts, state: str | None, policy: Policy, newest_of_mr: Mapping[str, str]
) -> Decision:
    mr = f"MR !{v.mr_iid}"
    if state is None:
        return Decision(v.version, False, f"{mr}: state unknown")
    if state == OPEN:
        if newest_of_mr.get(v.mr_iid) == v.version:
            return Decision(v.version, False, f"newest prerelease of open {mr}")
        if policy.mr == "any":
            return Decision(v.version, True, f"superseded prerelease of open {mr}")
        return Decision(v.version, False, f"{mr} is open (--mr {policy.mr})")
    if state in MR_CHOICES[policy.mr]:
        return Decision(v.version, True, f"{mr} is {state}")
    return Decision(v.version, False, f"{mr} is {state} (--mr {policy.mr})")


def _younger(v: VersionFacts, now: datetime, age: timedelta) -> bool:
    """Younger than ``age``; a version of unknown age counts as young (kept)."""
    return v.created_at is None or now - v.created_at < age


def _days(age: timedelta | None) -> str:
    assert age is not None
    if age % timedelta(days=1) == timedelta(0):
        return f"{age.days}d"
    if age % timedelta(hours=1) == timedelta(0):
        return f"{int(age.total_seconds() // 3600)}h"
    return f"{int(age.total_seconds() // 60)}m"


def parse_duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``90m``, ``2w`` -> a timedelta; ValueError otherwise."""
    found = re.fullmatch(r"\s*(\d+)\s*([mhdw])\s*", text)
    if not found or int(found.group(1)) == 0:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30d, 12h, 2w)")
    unit = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[found.group(2)]
    return timedelta(**{unit: int(found.group(1))})


@dataclass(frozen=True)
class Placement:
    """A version put into an environment (a GitLab deployment, an MLflow alias record)."""

    environment: str
    version: str
    at: datetime | None
    status: str = "success"  # GitLab's deployment statuses: running, success, failed, canceled


def environment_protections(
    placements: Sequence[Placement],
    now: datetime,
    current: Mapping[str, str] | None = None,
    recent: timedelta = RECENT_IN_ENVIRONMENT,
) -> dict[str, str]:
    """Version -> reason, for each environment's current version (``current``: environment ->
    version, as the registry says; else its last successful placement), the one before it (the
    rollback target), and every version placed there within ``recent`` (any status: a
    deployment still running counts)."""
    found = {version: f"in {env}" for env, version in sorted((current or {}).items())}
    by_env: dict[str, list[Placement]] = {}
    for p in placements:
        by_env.setdefault(p.environment, []).append(p)
    for env, items in sorted(by_env.items()):
        items.sort(key=lambda p: p.at or now, reverse=True)
        succeeded = [p.version for p in items if p.status == "success"]
        if succeeded and current is None:
            found.setdefault(succeeded[0], f"in {env}")
        held = (current or {}).get(env) or (succeeded[0] if succeeded else None)
        before = [v for v in succeeded if v != held]
        if before:
            found.setdefault(before[0], f"rollback target of {env}")
        for p in items:
            if p.at is None or now - p.at < recent:
                found.setdefault(p.version, f"recently in {env}")
    return found
