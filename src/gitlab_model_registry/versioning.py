"""Pure semver logic: parse, find the latest, bump, and choose a version from the CI context.

Parsing, comparison and bumping are the ``semver`` library's; this module only decides which of
its operations a user's request means and turns its errors into one-line ``UsageError``s.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import semver

from .errors import UsageError
from .models import CiContext

BUMP_KINDS = ("major", "minor", "patch", "premajor", "preminor", "prepatch", "prerelease")
AUTO = "auto"
FIRST_RELEASE = semver.Version(1, 0, 0)
MR_LABEL = "mr"

_SEMVER_HELP = "use MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD], e.g. 1.4.0 or 1.4.0-rc.1"
_OPERATORS = (">=", "<=", "==", "!=", ">", "<")
_CONSTRAINT = re.compile(r"(>=|<=|==|!=|>|<)?\s*(\S+)")


def parse(text: str) -> semver.Version:
    """Parse ``text`` by GitLab's rule: semver.org (ASCII digits), no ``v`` prefix."""
    version = _try_parse(text)
    if version is None:
        raise UsageError(f"{text!r} is not a semantic version: {_SEMVER_HELP}")
    return version


def is_semver(text: str) -> bool:
    """Whether ``text`` is a version GitLab accepts (``candidate_3`` and ``v1.0.0`` are not)."""
    return _try_parse(text) is not None


def _try_parse(text: str) -> semver.Version | None:
    try:
        return semver.Version.parse(text)
    except (ValueError, TypeError):
        return None


def latest(versions: Iterable[str]) -> str | None:
    """The highest semver among ``versions`` (prereleases before their release), else None.

    Strings that are not semvers (GitLab's ``candidate_<n>`` packages) are ignored.
    """
    parsed = [v for v in map(_try_parse, versions) if v is not None]
    return str(max(parsed)) if parsed else None


def bump(latest: str | None, kind: str, label: str = "rc") -> str:
    """The version after ``latest`` for a bump ``kind``; build metadata is dropped.

    major/minor/patch follow ``semver``'s ``next_version`` (a prerelease ``1.3.0-rc.2`` bumped
    ``patch`` or ``minor`` is released as ``1.3.0``). premajor/preminor/prepatch always raise
    their part, then start prerelease ``<label>.1``. prerelease continues a prerelease with the
    same label (``rc.1`` -> ``rc.2``), otherwise starts ``<label>.1`` on the same release if that
    sorts higher, else on the next patch. With no ``latest``: ``1.0.0`` or ``1.0.0-<label>.1``.
    """
    _check_kind(kind)
    _check_label(label)
    if latest is None:
        first = FIRST_RELEASE
        return str(first if kind in BUMP_KINDS[:3] else first.replace(prerelease=f"{label}.1"))
    current = parse(latest)
    if kind.startswith("pre") and kind != "prerelease":
        raised: semver.Version = getattr(current, f"bump_{kind[3:]}")()
        result = raised.replace(prerelease=f"{label}.1", build=None)
    else:
        result = current.next_version(kind, prerelease_token=label).replace(build=None)
    if result.compare(current) <= 0:  # a semver upgrade changing its rules must not go unseen
        raise AssertionError(f"bump {kind} of {latest} gave {result}, not a higher version")
    return str(result)


def auto(ci: CiContext, latest: str | None, kind: str = "patch", label: str = "rc") -> str:
    """The version ``--version auto`` means in this CI context (design, "Versions").

    Tag pipeline: the tag itself (a leading ``v`` removed). Merge-request pipeline: a prerelease
    of the next patch, ``X.Y.Z-mr.<MR iid>.<pipeline iid>``. Anything else: ``bump(kind)``.
    """
    if ci.commit_tag:
        return _version_of_tag(ci.commit_tag)
    if ci.merge_request_iid:
        return _merge_request_version(ci, latest)
    return bump(latest, kind, label)


def _version_of_tag(tag: str) -> str:
    version = _try_parse(tag[1:] if tag.startswith("v") else tag)
    if version is None:
        raise UsageError(
            f"tag {tag!r} is not a semantic version, so --version auto cannot publish it: "
            "tag with a semver such as 1.4.0 or v1.4.0, or pass --version or --bump"
        )
    return str(version)


def _merge_request_version(ci: CiContext, latest: str | None) -> str:
    iids = (ci.merge_request_iid, ci.pipeline_iid)
    release = parse(bump(latest, "patch"))
    version = release.replace(prerelease=".".join((MR_LABEL, *iids)))
    if not all(iid.isascii() and iid.isdigit() for iid in iids) or _try_parse(str(version)) is None:
        raise UsageError(
            f"merge request iid {iids[0]!r} and pipeline iid {iids[1]!r} do not make a "
            "prerelease: CI_MERGE_REQUEST_IID and CI_PIPELINE_IID must be numbers; "
            "pass --version or --bump instead of auto"
        )
    return str(version)


def choose(
    explicit: str | None,
    kind: str | None,
    ci: CiContext,
    existing: Iterable[str],
    label: str = "rc",
) -> str:
    """The version publish will create: the single entry point for ``--version``/``--bump``.

    ``explicit`` is a semver or ``auto``; an empty string counts as not given. ``kind`` defaults
    to ``patch``; it may accompany ``auto`` (used outside tag and merge-request pipelines).
    """
    if explicit and explicit != AUTO:
        if kind:
            raise UsageError(
                "--version and --bump are exclusive: pass an exact --version, or --bump "
                "(optionally with --version auto)"
            )
        return str(parse(explicit))
    kind = kind or "patch"
    _check_kind(kind)
    highest = latest(existing)
    return auto(ci, highest, kind, label) if explicit == AUTO else bump(highest, kind, label)


def satisfies(version: str, constraint: str) -> bool:
    """Whether ``version`` meets ``constraint``: comma-separated ``<op><semver>`` terms, all of
    which must hold (``>=1.2,<2``, ``==1.4.0``, ``>1.0.0-rc.1``); ``2`` or ``1.2`` are padded
    with zeros; a term without an operator means ``==``."""
    target = parse(version)
    terms = [_normalized_term(term.strip(), constraint) for term in constraint.split(",")]
    return all(target.match(term) for term in terms)


def _normalized_term(term: str, constraint: str) -> str:
    match = _CONSTRAINT.fullmatch(term)
    bound = _try_parse_partial(match.group(2)) if match else None
    if match is None or bound is None:
        raise UsageError(
            f"version constraint {constraint!r} is not valid: use comma-separated terms "
            f"<op><version> with op one of {' '.join(_OPERATORS)}, e.g. '>=1.2,<2'"
        )
    return f"{match.group(1) or '=='}{bound}"


def _try_parse_partial(text: str) -> semver.Version | None:
    try:
        return semver.Version.parse(text, optional_minor_and_patch=True)
    except (ValueError, TypeError):
        return None


def _check_kind(kind: str) -> None:
    if kind not in BUMP_KINDS:
        raise UsageError(f"unknown bump {kind!r}: use one of {', '.join(BUMP_KINDS)}")


def _check_label(label: str) -> None:
    # One alphanumeric identifier, so "<label>.<n>" has a counter to increment.
    parsed = _try_parse(f"1.0.0-{label}.1")
    if parsed is None or parsed.prerelease != f"{label}.1" or "." in label or label.isdigit():
        raise UsageError(
            f"prerelease label {label!r} is not valid: use letters, digits and '-', "
            "with at least one letter, e.g. rc or beta"
        )
