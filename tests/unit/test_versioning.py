from __future__ import annotations

import pytest

from gitlab_model_registry import versioning
from gitlab_model_registry.errors import UsageError
from gitlab_model_registry.models import CiContext

# A registry as publish sees it: releases, prereleases, a run candidate and build metadata.
REGISTRY = ["1.0.0", "1.2.0", "1.3.0-rc.1", "1.3.0-rc.2", "candidate_3", "1.2.1+build.7"]
NO_CI = CiContext()
BRANCH = CiContext(job_id="11", pipeline_iid="7", ref_name="main")
MR = CiContext(job_id="11", pipeline_iid="7", merge_request_iid="42", ref_name="feature")


def tag_pipeline(tag: str) -> CiContext:
    return CiContext(job_id="11", pipeline_iid="7", commit_tag=tag, ref_name=tag)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.4.0", (1, 4, 0, None, None)),
        ("0.0.0", (0, 0, 0, None, None)),
        ("1.4.0-rc.1", (1, 4, 0, "rc.1", None)),
        ("1.4.0-rc.1+sha.abc", (1, 4, 0, "rc.1", "sha.abc")),
        ("10.20.30-alpha-beta.0.x", (10, 20, 30, "alpha-beta.0.x", None)),
    ],
)
def test_parse_accepts_semver(text: str, expected: tuple[object, ...]) -> None:
    assert tuple(versioning.parse(text)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "v1.2.3",
        "v1.2",
        "1.2",
        "1",
        "",
        "01.2.3",
        "1.2.3-01",
        "1.2.3\n",
        "1.2.3 ",
        "\u0661.2.3",
        "1.2.3-",
    ],
)
def test_parse_rejects_what_gitlab_rejects(text: str) -> None:
    with pytest.raises(UsageError) as raised:
        versioning.parse(text)
    message = str(raised.value)
    assert repr(text) in message
    assert "MAJOR.MINOR.PATCH" in message
    assert "\n" not in message
    assert raised.value.exit_code == 2
    assert not versioning.is_semver(text)


def test_is_semver() -> None:
    assert versioning.is_semver("1.3.0-rc.2+b.1")
    assert not versioning.is_semver("candidate_3")


def test_latest_uses_full_precedence_and_ignores_non_semver() -> None:
    assert versioning.latest(REGISTRY) == "1.3.0-rc.2"
    assert versioning.latest([*REGISTRY, "1.3.0"]) == "1.3.0"
    assert versioning.latest(["candidate_1", "v2.0.0", "latest"]) is None
    assert versioning.latest([]) is None


@pytest.mark.parametrize(
    ("versions", "expected"),
    [
        (["1.0.0-rc.9", "1.0.0-rc.10"], "1.0.0-rc.10"),
        (["1.0.0-rc.10", "1.0.0-rc.9"], "1.0.0-rc.10"),
        (["1.0.0", "1.0.0-rc.1"], "1.0.0"),
        (["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta"], "1.0.0-beta"),
        (["1.0.0-rc.1", "1.0.0-rc.1.1"], "1.0.0-rc.1.1"),
        (["1.9.0", "1.10.0"], "1.10.0"),
        (["2.0.0-rc.1", "1.99.99"], "2.0.0-rc.1"),
        (["1.0.0+build.1", "0.9.0"], "1.0.0+build.1"),
    ],
)
def test_latest_precedence_edge_cases(versions: list[str], expected: str) -> None:
    assert versioning.latest(versions) == expected


@pytest.mark.parametrize(
    ("latest", "kind", "expected"),
    [
        # from a release
        ("1.2.0", "major", "2.0.0"),
        ("1.2.0", "minor", "1.3.0"),
        ("1.2.0", "patch", "1.2.1"),
        ("1.2.0", "premajor", "2.0.0-rc.1"),
        ("1.2.0", "preminor", "1.3.0-rc.1"),
        ("1.2.0", "prepatch", "1.2.1-rc.1"),
        ("1.2.0", "prerelease", "1.2.1-rc.1"),
        # from a prerelease: major/minor/patch release it when that is enough
        ("1.3.0-rc.2", "major", "2.0.0"),
        ("1.3.0-rc.2", "minor", "1.3.0"),
        ("1.3.0-rc.2", "patch", "1.3.0"),
        ("2.0.0-rc.2", "major", "2.0.0"),
        ("1.3.1-rc.2", "minor", "1.4.0"),
        # pre* always raise their part, so the result sorts above the prerelease
        ("1.3.0-rc.2", "premajor", "2.0.0-rc.1"),
        ("1.3.0-rc.2", "preminor", "1.4.0-rc.1"),
        ("1.3.0-rc.2", "prepatch", "1.3.1-rc.1"),
        ("1.3.0-rc.2", "prerelease", "1.3.0-rc.3"),
        ("1.0.0-rc.9", "prerelease", "1.0.0-rc.10"),
        # build metadata is dropped
        ("1.2.1+build.7", "patch", "1.2.2"),
        ("1.2.1-rc.1+build.7", "prerelease", "1.2.1-rc.2"),
        ("1.2.1-rc.1+build.7", "patch", "1.2.1"),
        # no version yet
        (None, "major", "1.0.0"),
        (None, "minor", "1.0.0"),
        (None, "patch", "1.0.0"),
        (None, "premajor", "1.0.0-rc.1"),
        (None, "preminor", "1.0.0-rc.1"),
        (None, "prepatch", "1.0.0-rc.1"),
        (None, "prerelease", "1.0.0-rc.1"),
    ],
)
def test_bump(latest: str | None, kind: str, expected: str) -> None:
    assert versioning.bump(latest, kind) == expected


@pytest.mark.parametrize(
    ("latest", "label", "expected"),
    [
        ("1.4.0-beta.3", "rc", "1.4.0-rc.1"),  # a later label continues the same release
        ("1.4.0-rc.2", "beta", "1.4.1-beta.1"),  # an earlier label would sort lower
        ("1.4.0-mr.5.7", "rc", "1.4.0-rc.1"),
        ("1.4.0-rc.1", "rc", "1.4.0-rc.2"),
        ("1.4.0", "beta", "1.4.1-beta.1"),
        (None, "alpha", "1.0.0-alpha.1"),
    ],
)
def test_prerelease_with_labels(latest: str | None, label: str, expected: str) -> None:
    assert versioning.bump(latest, "prerelease", label) == expected


@pytest.mark.parametrize("kind", versioning.BUMP_KINDS)
def test_every_bump_from_the_registry_is_above_everything_in_it(kind: str) -> None:
    current = versioning.latest(REGISTRY)
    bumped = versioning.bump(current, kind)
    assert versioning.latest([*REGISTRY, bumped]) == bumped
    assert bumped not in REGISTRY


@pytest.mark.parametrize("label", ["", "rc.1", "r c", "1", "rc+1", "é"])
def test_bump_rejects_a_bad_label(label: str) -> None:
    with pytest.raises(UsageError, match="prerelease label"):
        versioning.bump("1.0.0", "prerelease", label)


def test_bump_rejects_an_unknown_kind() -> None:
    with pytest.raises(UsageError, match="unknown bump 'build': use one of major, minor"):
        versioning.bump("1.0.0", "build")


@pytest.mark.parametrize(
    ("tag", "expected"),
    [("1.4.0", "1.4.0"), ("v1.4.0", "1.4.0"), ("v2.0.0-rc.1+b.3", "2.0.0-rc.1+b.3")],
)
def test_auto_in_a_tag_pipeline_publishes_the_tag(tag: str, expected: str) -> None:
    assert versioning.auto(tag_pipeline(tag), "9.9.9") == expected


@pytest.mark.parametrize("tag", ["release-7", "V1.4.0", "vv1.4.0", "1.4", "v"])
def test_auto_in_a_tag_pipeline_with_a_non_semver_tag(tag: str) -> None:
    with pytest.raises(UsageError, match=f"tag {tag!r} is not a semantic version"):
        versioning.auto(tag_pipeline(tag), "1.0.0")


@pytest.mark.parametrize(
    ("latest", "expected"),
    [
        ("1.2.0", "1.2.1-mr.42.7"),
        ("1.3.0-rc.2", "1.3.0-mr.42.7"),
        ("1.2.1-mr.42.6", "1.2.1-mr.42.7"),  # MR builds do not push the release further
        ("1.2.1+b.1", "1.2.2-mr.42.7"),
        (None, "1.0.0-mr.42.7"),
    ],
)
def test_auto_in_a_merge_request_pipeline(latest: str | None, expected: str) -> None:
    assert versioning.auto(MR, latest) == expected
    assert versioning.auto(MR, latest, "major") == expected  # the bump kind is for branches


@pytest.mark.parametrize(("mr_iid", "pipeline_iid"), [("42", ""), ("x", "7"), ("042", "7")])
def test_auto_in_a_merge_request_pipeline_without_usable_iids(
    mr_iid: str, pipeline_iid: str
) -> None:
    ci = CiContext(job_id="1", merge_request_iid=mr_iid, pipeline_iid=pipeline_iid)
    with pytest.raises(UsageError, match="must be numbers"):
        versioning.auto(ci, "1.0.0")


@pytest.mark.parametrize("ci", [BRANCH, NO_CI])
def test_auto_elsewhere_bumps(ci: CiContext) -> None:
    assert versioning.auto(ci, "1.2.0") == "1.2.1"
    assert versioning.auto(ci, "1.2.0", "minor") == "1.3.0"
    assert versioning.auto(ci, None, "prerelease", "beta") == "1.0.0-beta.1"


def test_a_tag_wins_over_a_merge_request() -> None:
    ci = CiContext(commit_tag="v3.0.0", merge_request_iid="42", pipeline_iid="7")
    assert versioning.auto(ci, "1.0.0") == "3.0.0"


@pytest.mark.parametrize(
    ("explicit", "kind", "ci", "expected"),
    [
        ("2.5.0", None, NO_CI, "2.5.0"),
        ("2.5.0-rc.1+b.1", None, MR, "2.5.0-rc.1+b.1"),
        (None, None, NO_CI, "1.3.0"),  # latest is 1.3.0-rc.2; patch releases it
        ("", "", BRANCH, "1.3.0"),
        (None, "prerelease", NO_CI, "1.3.0-rc.3"),
        (None, "major", tag_pipeline("v9.0.0"), "2.0.0"),  # without auto the tag is ignored
        ("auto", None, BRANCH, "1.3.0"),
        ("auto", "preminor", BRANCH, "1.4.0-rc.1"),
        ("auto", "minor", tag_pipeline("v9.0.0"), "9.0.0"),
        ("auto", None, MR, "1.3.0-mr.42.7"),
    ],
)
def test_choose(explicit: str | None, kind: str | None, ci: CiContext, expected: str) -> None:
    assert versioning.choose(explicit, kind, ci, REGISTRY) == expected


def test_choose_on_an_empty_registry() -> None:
    assert versioning.choose(None, "minor", NO_CI, []) == "1.0.0"
    assert versioning.choose("auto", "prerelease", BRANCH, ["candidate_1"], "beta") == (
        "1.0.0-beta.1"
    )


def test_choose_rejects_version_with_bump() -> None:
    with pytest.raises(UsageError, match="--version and --bump are exclusive"):
        versioning.choose("1.2.3", "patch", NO_CI, REGISTRY)


@pytest.mark.parametrize(
    ("explicit", "kind", "match"),
    [
        ("v1.2.3", None, "'v1.2.3' is not a semantic version"),
        ("Auto", None, "'Auto' is not a semantic version"),
        ("auto", "micro", "unknown bump 'micro'"),
        (None, "micro", "unknown bump 'micro'"),
    ],
)
def test_choose_errors(explicit: str | None, kind: str | None, match: str) -> None:
    with pytest.raises(UsageError, match=match):
        versioning.choose(explicit, kind, BRANCH, REGISTRY)


@pytest.mark.parametrize(
    ("version", "constraint", "expected"),
    [
        ("1.4.0", ">=1.2,<2", True),
        ("2.0.0", ">=1.2,<2", False),
        ("1.1.9", ">=1.2,<2", False),
        ("2.0.0-rc.1", "<2", True),  # a prerelease of 2.0.0 sorts before it
        ("1.4.0", "==1.4.0", True),
        ("1.4.0+b.2", "==1.4.0", True),  # build metadata has no precedence
        ("1.4.0", "1.4.0", True),
        ("1.4.1", " >= 1.4 , != 1.4.0 ", True),
        ("1.0.0-rc.2", ">1.0.0-rc.1", True),
        ("1.0.0-rc.1", ">1.0.0-rc.1", False),
        ("1.0.0", ">1.0.0-rc.1", True),
        ("0.9.0", "<=0.9", True),
    ],
)
def test_satisfies(version: str, constraint: str, expected: bool) -> None:
    assert versioning.satisfies(version, constraint) is expected


@pytest.mark.parametrize(
    "constraint", ["", ">=", "~=1.2", "^1.2", ">=1.2,", "=>1.2", ">=x", "1.2.3.4"]
)
def test_satisfies_rejects_bad_constraints(constraint: str) -> None:
    with pytest.raises(UsageError, match=r"version constraint .* is not valid"):
        versioning.satisfies("1.0.0", constraint)


def test_satisfies_rejects_a_bad_version() -> None:
    with pytest.raises(UsageError, match="not a semantic version"):
        versioning.satisfies("latest", ">=1")
