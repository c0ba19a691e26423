"""Which version a publish writes: the one this CI job created before a retry, an explicit one
whose publish never finished, or a new one, claimed against concurrent publishers (a lost race
for a bumped version is recomputed, a pinned version is a conflict).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

from gitlab_model_registry import __version__, catalog, versioning
from gitlab_model_registry.backends import Backend
from gitlab_model_registry.errors import ConflictError, VersionTakenError
from gitlab_model_registry.models import CiContext, ModelVersion
from gitlab_model_registry.observer import Observer

if TYPE_CHECKING:
    from gitlab_model_registry.api import PublishRequest

#: How many times a lost race for a bumped version is recomputed before giving up.
MAX_VERSION_ATTEMPTS = 20
PUBLISH_ID_TAG = "gmr.publish_id"


def incomplete(
    backend: Backend, model: str, version: str, existing: Sequence[ModelVersion]
) -> ModelVersion | None:
    """An explicit version that exists: resumed if its publish never finished, else a conflict."""
    found = next((mv for mv in existing if mv.version == version), None)
    if found is None:
        return None
    found = backend.get_version(model, version) or found
    if catalog.with_status(backend, found).complete:
        raise ConflictError(
            f"version {version} of {model} already exists",
            hint="publish a new version (--bump) or choose another --version",
        )
    return found


def choose(request: PublishRequest, ci: CiContext, existing: Sequence[ModelVersion]) -> str:
    semvers = [v.version for v in existing]
    return versioning.choose(request.version, request.bump, ci, semvers, request.prerelease_label)


def resumable(existing: Sequence[ModelVersion], ci: CiContext) -> ModelVersion | None:
    """The version this same CI job (same pipeline, same job name) created before a retry."""
    if not (ci.pipeline_id and ci.job_name):
        return None
    for mv in existing:
        tags = mv.tags
        if tags.get("ci.pipeline_id") == ci.pipeline_id and tags.get("ci.job_name") == ci.job_name:
            return mv
    return None


def create_version(
    backend: Backend, request: PublishRequest, ci: CiContext, version: str, observer: Observer
) -> ModelVersion:
    publish_id = uuid.uuid4().hex
    tags = {**catalog.ci_tags(ci), PUBLISH_ID_TAG: publish_id, **catalog.completion_tags()}
    description = request.description or _default_description(ci)
    bumped = request.version in (None, versioning.AUTO) and not _pinned_by_ci(request, ci)
    for _ in range(MAX_VERSION_ATTEMPTS):
        try:
            return backend.create_version(request.model, version, description, tags)
        except VersionTakenError:
            mine = backend.get_version(request.model, version)
            if mine and mine.tags.get(PUBLISH_ID_TAG) == publish_id:
                return mine  # our own create succeeded; its answer was lost and retried
            if not bumped:
                raise ConflictError(
                    f"version {version} of {request.model} already exists",
                    hint="publish a new version (--bump) or choose another --version",
                ) from None
            taken = version
            version = choose(request, ci, backend.list_versions(request.model))
            observer.log(
                f"version {taken} was taken by a concurrent publish; retrying as {version}"
            )
    raise ConflictError(
        f"could not claim a version of {request.model} after {MAX_VERSION_ATTEMPTS} attempts",
        hint="too many concurrent publishers; re-run the job",
    )


def _pinned_by_ci(request: PublishRequest, ci: CiContext) -> bool:
    """A tag pipeline with ``--version auto`` publishes exactly the tag: no retrying elsewhere."""
    return request.version == versioning.AUTO and bool(ci.commit_tag)


def _default_description(ci: CiContext) -> str:
    if not ci.in_ci:
        return f"Published with gitlab-model-registry {__version__}"
    commit = ci.commit_sha[:8] or "unknown commit"
    return f"Published by CI job {ci.job_name or ci.job_id} ({ci.job_url or ci.job_id}) at {commit}"
