"""What every use case shares: the "complete" rule, version lookup, and the CI link tags.

A version is *complete* once its files are verified and its params, metrics and CI link are
logged; publish and promote then finish the version's run (status FINISHED), the last step.
Versions created since this rule carry the tag ``gmr.completion``; for them only a FINISHED
run counts as complete. Versions without that tag (made by earlier gmr releases, or by other
tools) are treated as complete, as they always were. Readers (latest, constraints, download,
promote, gates, show) never use an incomplete version; version allocation still counts it.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import replace

import semver

from gitlab_model_registry import __version__, versioning
from gitlab_model_registry.backends import Backend
from gitlab_model_registry.errors import NotFoundError, UsageError
from gitlab_model_registry.models import CiContext, ModelVersion

LATEST = "latest"
#: GitLab's environment names (lib/gitlab/regex.rb ``environment_name_regex``): letters,
#: digits, spaces and ``_ - . / $ { }``, not starting or ending with ``/``; at most 255.
_ENVIRONMENT = re.compile(r"^(?!/)[a-zA-Z0-9_\-./${} ]{1,255}(?<!/)$")
#: Version tag saying "complete when its run is FINISHED"; its value names that rule.
COMPLETION_TAG = "gmr.completion"
COMPLETION_RULE = "run-finished"
FINISHED = "FINISHED"


class IncompleteVersionError(NotFoundError):
    """The version exists but its publish never finished: readers treat it as not there."""


def completion_tags() -> dict[str, str]:
    """Tags a new version carries so readers wait for its run to finish."""
    return {COMPLETION_TAG: COMPLETION_RULE}


def with_status(backend: Backend, mv: ModelVersion) -> ModelVersion:
    """``mv`` with ``complete`` set: one run lookup, none for versions without the tag."""
    if COMPLETION_TAG not in mv.tags or not mv.run_id:
        return replace(mv, complete=True)
    return replace(mv, complete=backend.run_status(mv.run_id) == FINISHED)


def newest_first(found: Iterable[ModelVersion]) -> list[ModelVersion]:
    semvers = [v for v in found if versioning.is_semver(v.version)]
    return sorted(semvers, key=lambda v: semver.Version.parse(v.version), reverse=True)


def check_spec(spec: str) -> None:
    """Fail on a bad version spec (``'>>1'``) before any request is made."""
    if spec != LATEST and not versioning.is_semver(spec):
        versioning.satisfies("0.0.0", spec)


def all_versions(backend: Backend, model: str) -> list[ModelVersion]:
    """Every version of ``model`` (complete or not, marked), newest first."""
    if backend.get_model(model) is None:
        raise NotFoundError(f"model {model!r} not found on {backend.describe()}")
    return [with_status(backend, mv) for mv in newest_first(backend.list_versions(model))]


def get_complete(backend: Backend, model: str, version: str) -> ModelVersion:
    """The complete version ``version`` of ``model``; an incomplete one is refused."""
    found = backend.get_version(model, version)
    if found is None:
        raise NotFoundError(f"{model} {version} not found on {backend.describe()}")
    found = with_status(backend, found)
    if not found.complete:
        raise IncompleteVersionError(
            f"{model} {version} is incomplete: its publish did not finish",
            hint=f"finish it with: {finish_command(model, version)}",
        )
    return found


def resolve(backend: Backend, model: str, spec: str, *, incomplete: bool = False) -> ModelVersion:
    """The version named by ``spec`` (a semver, ``latest``, or a constraint such as ``>=1.2,<2``).

    ``latest`` and constraints pick the highest *complete* match; an exact semver that is
    incomplete is refused unless ``incomplete`` (``show`` displays it, marked).
    """
    check_spec(spec)
    if versioning.is_semver(spec):
        if incomplete:
            found = backend.get_version(model, spec)
            if found is None:
                raise NotFoundError(f"{model} {spec} not found on {backend.describe()}")
            return with_status(backend, found)
        return get_complete(backend, model, spec)
    if backend.get_model(model) is None:
        raise NotFoundError(f"model {model!r} not found on {backend.describe()}")
    candidates = newest_first(backend.list_versions(model))
    if spec != LATEST:
        candidates = [v for v in candidates if versioning.satisfies(v.version, spec)]
    for candidate in candidates:  # usually the first is complete: two requests
        found = backend.get_version(model, candidate.version)
        if found is not None and (found := with_status(backend, found)).complete:
            return found
    raise NotFoundError(f"no complete version of {model} matches {spec!r}")


def finish_command(model: str, version: str, paths: Sequence[str] = ()) -> str:
    """The command that completes an incomplete version."""
    words = ["gmr", "publish", model, *(paths or ["PATH..."]), "--version", version]
    return " ".join(w if w == "PATH..." else shlex.quote(w) for w in words)


def ci_tags(ci: CiContext) -> dict[str, str]:
    """Run/version tags linking the version to its CI job; ``gitlab.CI_JOB_ID`` makes GitLab link it."""
    tags = {
        "gitlab.CI_JOB_ID": ci.job_id if ci.links_job else "",
        "ci.job_name": ci.job_name,
        "ci.job_url": ci.job_url,
        "ci.pipeline_id": ci.pipeline_id,
        "ci.pipeline_url": ci.pipeline_url,
        "ci.commit_sha": ci.commit_sha,
        "ci.ref": ci.ref_name,
        "ci.merge_request_iid": ci.merge_request_iid,
    }
    return {k: v for k, v in tags.items() if v} | {"gmr.tool_version": __version__}


def in_environment(backend: Backend, model: str, environment: str) -> ModelVersion | None:
    """The complete version ``environment`` holds now (the registry's own notion), or None."""
    check_environment(environment)
    semver = backend.environments().current(model, environment)
    return None if semver is None else get_complete(backend, model, semver)


def require_in_environment(backend: Backend, model: str, environment: str) -> ModelVersion:
    """The version in ``environment``; an empty environment is an error that says so."""
    found = in_environment(backend, model, environment)
    if found is None:
        raise NotFoundError(
            f"no version of {model} is in environment {environment!r} on {backend.describe()}",
            hint=f"put one there with: gmr promote {model} VERSION --environment {environment}",
        )
    return found


def placements(backend: Backend, model: str) -> dict[str, list[str]]:
    """Semver -> the environments holding it now."""
    ledger = backend.environments()
    names = dict.fromkeys(d.environment for d in ledger.history(model, None))
    held: dict[str, list[str]] = {}
    for name in names:
        semver = ledger.current(model, name)
        if semver is not None:
            held.setdefault(semver, []).append(name)
    return held


def check_environment(environment: str) -> None:
    """Fail on an environment name GitLab would refuse, before any request."""
    if not _ENVIRONMENT.match(environment):
        raise UsageError(
            f"bad environment name {environment!r}",
            hint="use letters, digits, spaces and _ - . / (not at either end), e.g. 'production'",
        )
