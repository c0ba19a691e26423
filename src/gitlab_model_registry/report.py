"""The comparison a merge request shows: a version against its baselines (the target branch's
latest complete version, environments), with gate verdicts, changed params and files.

This module composes facts only; ``report_formats`` renders them (markdown note, OpenMetrics,
annotations) and ``report_post`` delivers the note. Nothing here prints or fails a publish.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from gitlab_model_registry import catalog, environments, gates
from gitlab_model_registry.backends import Backend
from gitlab_model_registry.errors import GmrError
from gitlab_model_registry.gates import Baseline as EnvironmentHolds
from gitlab_model_registry.models import CiContext, ModelVersion, RemoteFile, RunData

#: Version tags that say where a version was published from (``catalog.ci_tags``).
REF_TAG = "ci.ref"
MR_TAG = "ci.merge_request_iid"


@dataclass(frozen=True)
class Snapshot:
    """One version's facts: the version, its run data and its files."""

    version: ModelVersion
    run: RunData = field(default_factory=RunData)
    files: tuple[RemoteFile, ...] = ()


@dataclass(frozen=True)
class Baseline:
    """What the version is compared with: ``label`` is a branch name or ``@environment``."""

    label: str
    snapshot: Snapshot | None = None
    missing: str = ""  # why there is nothing to compare with


@dataclass(frozen=True)
class Links:
    """Where the report's reader can look: the version, package, job, pipeline, commit, MR."""

    version: str = ""
    package: str = ""
    job: str = ""
    pipeline: str = ""
    commit: str = ""
    merge_request: str = ""


@dataclass(frozen=True)
class Report:
    """A version compared with its baselines, gates included."""

    model: str
    current: Snapshot
    baselines: tuple[Baseline, ...]
    gates: tuple[gates.Gate, ...] = ()
    links: Links = field(default_factory=Links)
    #: What each environment a gate names holds; an environment that could not be read is
    #: absent, and its gates show no verdict.
    gate_baselines: Mapping[str, EnvironmentHolds] = field(default_factory=dict)


def compose(
    backend: Backend,
    model: str,
    version: str,
    *,
    against: Sequence[str] = (),
    requires: Sequence[str] = (),
    ci: CiContext | None = None,
    commit_url: str = "",
    merge_request_url: str = "",
) -> Report:
    """The report for ``model`` ``version`` (complete) against each ``against`` entry: a branch
    name (its latest complete version published outside any merge request) or ``@environment``."""
    parsed_gates = tuple(gates.parse(text) for text in requires)
    mv = catalog.get_complete(backend, model, version)
    current = snapshot(backend, mv)
    baselines = tuple(_baseline(backend, model, mv, label) for label in _unique(against))
    ci = ci or CiContext()
    links = Links(
        version=mv.web_url,
        package=backend.package_url(mv),
        job=ci.job_url,
        pipeline=ci.pipeline_url,
        commit=commit_url,
        merge_request=merge_request_url,
    )
    held = _gate_baselines(backend, model, parsed_gates)
    return Report(model, current, baselines, parsed_gates, links, held)


def _gate_baselines(
    backend: Backend, model: str, checks: Sequence[gates.Gate]
) -> dict[str, EnvironmentHolds]:
    """As a promotion reads them, except that an environment which cannot be read is left out
    (its gates show no verdict) instead of failing the report."""
    found: dict[str, EnvironmentHolds] = {}
    for name in gates.environments(checks):
        try:
            found[name] = environments.holding(backend, model, name)
        except GmrError:
            continue
    return found


def snapshot(backend: Backend, mv: ModelVersion) -> Snapshot:
    run = backend.get_run_data(mv.run_id) if mv.run_id else RunData()
    return Snapshot(mv, run, tuple(backend.list_files(mv)))


def branch_baseline(backend: Backend, model: str, ref: str, exclude: str) -> ModelVersion | None:
    """The highest complete version published from ``ref`` itself: merge-request prereleases
    (whatever their source branch) and incomplete versions never count."""
    for candidate in catalog.newest_first(backend.list_versions(model)):
        tags = candidate.tags
        if candidate.version == exclude or tags.get(REF_TAG) != ref or tags.get(MR_TAG):
            continue
        found = catalog.with_status(backend, candidate)
        if found.complete:
            return found
    return None


def _baseline(backend: Backend, model: str, mv: ModelVersion, label: str) -> Baseline:
    if label.startswith("@"):
        return _environment_baseline(backend, model, mv, label)
    found = branch_baseline(backend, model, label, mv.version)
    if found is None:
        return Baseline(label, missing=f"no complete version published from {label} yet")
    return Baseline(label, snapshot(backend, found))


def _environment_baseline(backend: Backend, model: str, mv: ModelVersion, label: str) -> Baseline:
    """``@production``: the version the environment holds (``environments.current_version``)."""
    try:
        found = environments.current_version(backend, model, label[1:])
    except GmrError as error:
        return Baseline(label, missing=f"could not read {label}: {error}")
    if found is None:
        return Baseline(label, missing=f"{label} holds no version of {model} yet")
    if found.version == mv.version:
        return Baseline(label, missing=f"{label} already holds {mv.version}")
    return Baseline(label, snapshot(backend, found))


def _unique(labels: Sequence[str]) -> list[str]:
    seen: list[str] = []
    for label in labels:
        if label and label not in seen:
            seen.append(label)
    return seen


# --- comparisons the formats share -------------------------------------------------------------


@dataclass(frozen=True)
class FileChange:
    """One file that differs from the baseline's."""

    name: str
    change: str  # added, removed, changed, same
    size: int
    size_before: int


def file_changes(current: Snapshot, before: Snapshot) -> list[FileChange]:
    """Files added, removed and changed (by sha256), sorted by name; unchanged ones left out."""
    now = {f.name: f for f in current.files}
    old = {f.name: f for f in before.files}
    changes = []
    for name in sorted(now.keys() | old.keys()):
        new_file, old_file = now.get(name), old.get(name)
        if old_file is None and new_file is not None:
            changes.append(FileChange(name, "added", new_file.size, 0))
        elif new_file is None and old_file is not None:
            changes.append(FileChange(name, "removed", 0, old_file.size))
        elif new_file and old_file and _differs(new_file, old_file):
            changes.append(FileChange(name, "changed", new_file.size, old_file.size))
    return changes


def _differs(a: RemoteFile, b: RemoteFile) -> bool:
    if a.sha256 and b.sha256:
        return a.sha256 != b.sha256
    return a.size != b.size


def param_changes(current: Snapshot, before: Snapshot) -> list[tuple[str, str | None, str | None]]:
    """(name, before, now) of every param that differs; None where it is absent."""
    now, old = current.run.params, before.run.params
    keys = sorted(now.keys() | old.keys())
    return [(k, old.get(k), now.get(k)) for k in keys if old.get(k) != now.get(k)]


def total_size(found: Snapshot) -> int:
    return sum(f.size for f in found.files)
