"""The retention policy over generated registries: protections hold under every policy, a second
run deletes nothing more, and the rules each do what the plan says."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitlab_model_registry import retention
from gitlab_model_registry.retention import Facts, Placement, Policy, VersionFacts

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)


def facts(*versions: VersionFacts, **kwargs: object) -> Facts:
    return Facts(now=NOW, versions=versions, **kwargs)  # type: ignore[arg-type]


def v(version: str, age_days: float = 100, **kwargs: object) -> VersionFacts:
    return VersionFacts(
        version,
        created_at=NOW - timedelta(days=age_days),
        mr_iid=retention.mr_iid_of(version),
        **kwargs,  # type: ignore[arg-type]
    )


def deleted(found: Facts, policy: Policy) -> set[str]:
    return {d.version for d in retention.plan(found, policy) if d.delete}


# -- generated registries --------------------------------------------------------------------


@st.composite
def registries(draw: st.DrawFn) -> Facts:
    """Releases, rc prereleases and MR prereleases of a few MRs, of random ages and states,
    some incomplete or signed, some in environments or promoted from."""
    count = draw(st.integers(1, 30))
    names: set[str] = set()
    for _ in range(count):
        major, minor, patch = draw(st.tuples(*[st.integers(0, 3)] * 3))
        kind = draw(st.sampled_from(["release", "rc", "mr"]))
        base = f"{major}.{minor}.{patch}"
        if kind == "rc":
            base += f"-rc.{draw(st.integers(1, 3))}"
        elif kind == "mr":
            base += f"-mr.{draw(st.integers(1, 4))}.{draw(st.integers(1, 50))}"
        names.add(base)
    versions = [
        VersionFacts(
            name,
            created_at=draw(st.one_of(st.none(), st.integers(0, 90).map(lambda d: NOW - d * DAY))),
            complete=draw(st.booleans()),
            signed=draw(st.booleans()),
            mr_iid=retention.mr_iid_of(name),
        )
        for name in sorted(names)
    ]
    states = st.sampled_from(["opened", "closed", "merged", "locked"])
    mr_states = draw(st.dictionaries(st.sampled_from(["1", "2", "3", "4"]), states))
    chosen = st.sampled_from(sorted(names))
    environments = draw(st.dictionaries(chosen, st.just("in production"), max_size=3))
    sources = frozenset(draw(st.lists(chosen, max_size=3)))
    return Facts(NOW, versions, mr_states, environments, sources)


policies = st.builds(
    Policy,
    keep_last=st.one_of(st.none(), st.integers(0, 5)),
    older_than=st.one_of(st.none(), st.integers(1, 60).map(lambda d: d * DAY)),
    mr=st.sampled_from(sorted(retention.MR_CHOICES)),
    include_releases=st.booleans(),
)


def protected(found: Facts) -> set[str]:
    """Independent statement of the protections (not the module's own helper)."""
    complete_releases = [
        x for x in found.versions if retention.is_release(x.version) and x.complete
    ]
    latest = max(
        (x.version for x in complete_releases),
        key=lambda s: tuple(map(int, s.split("."))),
        default=None,
    )
    keep = set(found.environments) | set(found.promotion_sources) | {latest}
    for x in found.versions:
        if x.signed and retention.is_release(x.version):
            keep.add(x.version)
        young = x.created_at is None or NOW - x.created_at < retention.DEFAULT_JOB_LIFETIME
        if not x.complete and young:
            keep.add(x.version)
    return keep - {None}  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(registries(), policies)
def test_protected_versions_survive_every_policy(found: Facts, policy: Policy) -> None:
    assert not deleted(found, policy) & protected(found)


@settings(max_examples=200, deadline=None)
@given(registries(), policies)
def test_releases_survive_without_include_releases(found: Facts, policy: Policy) -> None:
    gone = deleted(found, replace(policy, include_releases=False))
    assert not {x for x in gone if retention.is_release(x)}


@settings(max_examples=200, deadline=None)
@given(registries(), policies)
def test_a_second_run_deletes_nothing_more(found: Facts, policy: Policy) -> None:
    gone = deleted(found, policy)
    left = replace(found, versions=[x for x in found.versions if x.version not in gone])
    assert deleted(left, policy) == set()


@settings(max_examples=100, deadline=None)
@given(registries(), policies)
def test_every_version_gets_one_decision_with_a_reason(found: Facts, policy: Policy) -> None:
    decisions = retention.plan(found, policy)
    assert sorted(d.version for d in decisions) == sorted(x.version for x in found.versions)
    assert all(d.reason for d in decisions)


# -- each rule, by example -----------------------------------------------------------------------


def test_mr_prereleases_of_merged_and_closed_mrs_go_open_ones_keep_their_newest() -> None:
    found = facts(
        v("1.0.0"),
        v("1.0.1-mr.1.10"),
        v("1.0.1-mr.2.11"),
        v("1.0.1-mr.3.12"),
        v("1.0.1-mr.3.13"),
        mr_states={"1": "merged", "2": "closed", "3": "opened"},
    )
    assert deleted(found, Policy()) == {"1.0.1-mr.1.10", "1.0.1-mr.2.11", "1.0.1-mr.3.12"}
    assert deleted(found, Policy(mr="merged")) == {"1.0.1-mr.1.10"}
    assert deleted(found, Policy(mr="closed")) == {"1.0.1-mr.2.11"}


def test_an_mr_of_unknown_state_keeps_its_prereleases() -> None:
    plan = retention.plan(facts(v("1.0.0"), v("1.0.1-mr.9.1")), Policy())
    first = plan[0]
    assert (first.version, first.delete, first.reason) == (
        "1.0.1-mr.9.1",
        False,
        "MR !9: state unknown",
    )


def test_keep_last_and_older_than_select_other_prereleases() -> None:
    found = facts(v("2.0.0"), v("2.1.0-rc.3", 1), v("2.1.0-rc.2", 10), v("2.1.0-rc.1", 20))
    assert deleted(found, Policy()) == set()
    assert deleted(found, Policy(keep_last=1)) == {"2.1.0-rc.2", "2.1.0-rc.1"}
    assert deleted(found, Policy(older_than=15 * DAY)) == {"2.1.0-rc.1"}
    assert deleted(found, Policy(keep_last=1, older_than=15 * DAY)) == {"2.1.0-rc.1"}


def test_include_releases_still_keeps_the_latest_the_signed_and_promotion_sources() -> None:
    found = facts(
        v("3.0.0"),
        v("2.0.0", signed=True),
        v("1.1.0"),
        v("1.0.0"),
        promotion_sources=frozenset({"1.1.0"}),
    )
    plan = {d.version: d for d in retention.plan(found, Policy(keep_last=0, include_releases=True))}
    assert {k for k, d in plan.items() if d.delete} == {"1.0.0"}
    assert plan["3.0.0"].reason == "the latest release"
    assert plan["2.0.0"].reason == "a signed release"
    assert plan["1.1.0"].reason == "another version was promoted from it"


def test_incomplete_versions_are_protected_within_the_job_lifetime_only() -> None:
    found = facts(
        v("1.0.0"), v("1.1.0-rc.1", 0.1, complete=False), v("1.1.0-rc.2", 3, complete=False)
    )
    assert deleted(found, Policy(keep_last=0)) == {"1.1.0-rc.2"}
    # An incomplete release is not "the latest release": the complete 1.0.0 is.
    assert retention.plan(facts(v("2.0.0", complete=False), v("1.0.0")), Policy())[1].reason == (
        "the latest release"
    )


def test_environment_protections_current_rollback_target_and_recent() -> None:
    def dep(env: str, version: str, days: float, status: str = "success") -> Placement:
        return Placement(env, version, NOW - days * DAY, status)

    found = retention.environment_protections(
        [
            dep("production", "1.0.0", 200),
            dep("production", "1.1.0", 100),
            dep("production", "1.2.0", 90),
            dep("staging", "1.3.0-rc.1", 5, "failed"),
            dep("staging", "1.2.0", 60),
        ],
        NOW,
    )
    assert found == {
        "1.2.0": "in production",
        "1.1.0": "rollback target of production",
        "1.3.0-rc.1": "recently in staging",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30d", 30 * DAY),
        ("12h", timedelta(hours=12)),
        ("2w", 14 * DAY),
        ("90m", timedelta(minutes=90)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert retention.parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "30", "d", "0d", "-1d", "1y"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        retention.parse_duration(text)


def test_mr_iid_of() -> None:
    assert retention.mr_iid_of("1.2.4-mr.42.7") == "42"
    assert retention.mr_iid_of("1.2.4-rc.1") == ""
    assert retention.mr_iid_of("1.2.4") == ""


def test_the_registry_says_which_version_an_environment_holds() -> None:
    placements = [
        Placement("production", "1.0.0", NOW - 200 * DAY),
        Placement("production", "1.2.0", NOW - 100 * DAY),
    ]
    # Rolled back by hand (no newer deployment record): the registry's word wins.
    found = retention.environment_protections(placements, NOW, current={"production": "1.0.0"})
    assert found == {"1.0.0": "in production", "1.2.0": "rollback target of production"}


def test_only_prune_deletes() -> None:
    """No other command reaches a deletion: ``delete_version`` is called from prune alone, and
    GitLab's package and file DELETE routes are never used."""
    from pathlib import Path

    src = Path(retention.__file__).parent
    callers = sorted(
        p.relative_to(src).as_posix()
        for p in src.rglob("*.py")
        if ".delete_version(" in p.read_text()
    )
    assert callers == ["prune.py"]
    sources = "".join(p.read_text() for p in src.rglob("*.py"))
    assert '"delete", f"/projects' not in sources and "http_delete" not in sources


def test_promotion_sources_and_registry_times() -> None:
    from gitlab_model_registry import prune
    from gitlab_model_registry.models import ModelVersion

    versions = [
        ModelVersion("m", "1.0.0", "3", tags={"promoted-from": "group/project/m@1.0.0-rc.2"}),
        ModelVersion("m", "2.0.0", "4", tags={"promoted-from": "mlflow/other@2.0.0-rc.1"}),
        ModelVersion("m", "1.0.0-rc.2", "2"),
    ]
    assert prune.promotion_sources(versions) == {"1.0.0-rc.2"}
    assert prune.parse_time("2026-12-01T12:00:00Z") == NOW
    assert prune.parse_time("1796126400") == NOW
    assert prune.parse_time("1796126400000") == NOW
    assert prune.parse_time("") is None and prune.parse_time("yesterday") is None
