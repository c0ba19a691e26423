"""GitLab's semantic-version rules for model versions (reference §1.5, §4)."""

from __future__ import annotations

import re
from collections.abc import Iterable

# GitLab's Gitlab::Regex.semver_regex (= semver.org's suggested regex), ASCII digits only.
SEMVER = re.compile(
    r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
    r"(?:-((?:[0-9]*[a-zA-Z-][0-9a-zA-Z-]*|[1-9][0-9]*|0)"
    r"(?:\.(?:[0-9]*[a-zA-Z-][0-9a-zA-Z-]*|[1-9][0-9]*|0))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)


def is_semver(text: str) -> bool:
    return SEMVER.match(text) is not None


def core(text: str) -> tuple[int, int, int]:
    """(major, minor, patch): GitLab orders versions by these only, prerelease ignored."""
    match = SEMVER.match(text)
    if match is None:
        return (-1, -1, -1)
    return (int(match[1]), int(match[2]), int(match[3]))


def highest(versions: Iterable[str]) -> str | None:
    """The "latest" version; ties between equal cores go to the first seen (arbitrary in GitLab)."""
    best: str | None = None
    for version in versions:
        if best is None or core(version) > core(best):
            best = version
    return best


def next_version(existing: Iterable[str]) -> str:
    """Auto-increment: patch + 1 of the highest version, keeping its suffix; 1.0.0 when none."""
    latest = highest(existing)
    if latest is None:
        return "1.0.0"
    major, minor, patch = core(latest)
    suffix = latest[len(f"{major}.{minor}.{patch}") :]
    return f"{major}.{minor}.{patch + 1}{suffix}"
