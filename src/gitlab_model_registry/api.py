"""The use cases: validate everything locally, then look up, decide, create, transfer, log, link.

Nothing here prints or reads the environment: configuration arrives as ``Settings``, progress and
log lines leave through an ``Observer`` that the CLI renders.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from gitlab_model_registry import (
    _claiming,
    _uploading,
    catalog,
    files,
    metadata,
    selection,
    signing,
    sizes,
    split_manifest,
    splitting,
    versioning,
)
from gitlab_model_registry.backends import Backend
from gitlab_model_registry.errors import (
    Interrupted,
    Problems,
    UsageError,
)
from gitlab_model_registry.models import (
    CiContext,
    ModelVersion,
    PublishPlan,
    PublishResult,
    RunData,
    UploadFile,
)
from gitlab_model_registry.observer import NULL_OBSERVER, Observer

#: GitLab's limit on model and version descriptions.
MAX_DESCRIPTION = 10_000


@dataclass(frozen=True)
class PublishRequest:
    """What the user asked ``publish`` (or ``next-version``) to do."""

    model: str
    paths: Sequence[str] = ()
    version: str | None = None
    bump: str | None = None
    prerelease_label: str = "rc"
    description: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    concurrency: int = 0
    dry_run: bool = False
    max_file_size: int | None = None
    #: GitLab: files over this are stored as parts (``splitting``); None keeps the default.
    split_size: int | None = None
    exclude: Sequence[str] = ()
    include: Sequence[str] = ()
    #: Sign the version's files (``signing``); the signature is stored as ``model.sig``.
    signer: signing.Signer | None = None


def next_version(backend: Backend, request: PublishRequest, ci: CiContext) -> str:
    """The version ``publish`` would create now (or resume); writes nothing."""
    _check_version_request(request, ci)
    existing = backend.list_versions(request.model)
    resumable = _claiming.resumable(existing, ci)
    if resumable:
        return resumable.version
    version = _claiming.choose(request, ci, existing)
    # a version that exists and is complete: exit 5, as publish
    _claiming.incomplete(backend, request.model, version, existing)
    return version


def publish(
    backend: Backend,
    request: PublishRequest,
    ci: CiContext,
    observer: Observer = NULL_OBSERVER,
) -> PublishResult:
    """Create (or resume) a model version, upload its files, log its metadata, link its job."""
    left_out: list[str] = []
    upload_files = check_publish(request, ci, backend.kind, left_out)
    if request.split_size is not None:
        backend = splitting.with_split_size(backend, request.split_size)
    with observer.phase("resolve", "Resolving model and version"):
        model = backend.get_model(request.model)
        existing = backend.list_versions(request.model) if model else []
        resumable = _claiming.resumable(existing, ci)
        version = resumable.version if resumable else _claiming.choose(request, ci, existing)
        resumable = resumable or _claiming.incomplete(backend, request.model, version, existing)
        plan = PublishPlan(
            backend=backend.describe(),
            model=request.model,
            create_model=model is None,
            version=version,
            resume=resumable is not None,
            files=upload_files,
            params=request.params,
            metrics=request.metrics,
            left_out=tuple(sorted(left_out)),
        )
        observer.log(_plan_line(plan))
        if left_out:
            observer.log(f"left out: {selection.summary(plan.left_out)}")
    if request.dry_run:
        return PublishResult(plan=plan, model_version=None, dry_run=True)
    try:
        return _write(backend, request, ci, plan, resumable, observer)
    except Interrupted as stop:
        raise stop.explained(
            f"{request.model} {plan.version} is incomplete; finish it with: "
            + catalog.finish_command(request.model, plan.version, request.paths)
        ) from None


def _write(
    backend: Backend,
    request: PublishRequest,
    ci: CiContext,
    plan: PublishPlan,
    resumable: ModelVersion | None,
    observer: Observer,
) -> PublishResult:
    with observer.phase("create", "Creating the model version"):
        if plan.create_model:
            backend.create_model(request.model, "")
        mv = resumable or _claiming.create_version(backend, request, ci, plan.version, observer)
    with observer.phase("upload", f"Uploading {len(plan.files)} file(s)"):
        uploaded, skipped = _uploading.upload(
            backend, mv, plan.files, request.concurrency, observer, resign=bool(request.signer)
        )
    signer_tags = {}
    if request.signer:
        with observer.phase("sign", "Signing the version's files"):
            who = signing.sign_version(backend, mv, (*uploaded, *skipped), request.signer)
            observer.log(
                f"signed {len(plan.files)} file(s) as {who}; stored {signing.SIGNATURE_FILE}"
            )
            signer_tags = {signing.SIGNER_TAG: who}
    with observer.phase("metadata", "Logging params, metrics and the CI link"):
        run_data = RunData(request.params, request.metrics, catalog.ci_tags(ci) | signer_tags)
        backend.log_run_data(mv.run_id, run_data)
        observer.log(
            f"run {mv.run_id}: {len(run_data.params)} param(s), {len(run_data.metrics)} metric(s), "
            f"{len(run_data.tags)} tag(s)"
            + (f", linked to CI job {ci.job_id}" if ci.job_id else "")
        )
        backend.finish_version(mv)  # the last step: only now do readers see the version
        observer.log(f"{mv.model} {mv.version} is complete")
    mv = replace(mv, package_url=backend.package_url(mv), complete=True)
    return PublishResult(plan=plan, model_version=mv, uploaded=uploaded, skipped=skipped)


def check_publish(
    request: PublishRequest, ci: CiContext, kind: str, left_out: list[str] | None = None
) -> tuple[UploadFile, ...]:
    """Every local check of a publish, all problems reported at once; returns the files
    (and appends to ``left_out`` the ones the selection rules leave out)."""
    problems = Problems()
    upload_files: tuple[UploadFile, ...] = ()
    with problems.check():
        _check_version_request(request, ci)
    if kind == "gitlab":
        problems.found += files.gitlab_model_name_problems(request.model)
    limit = request.max_file_size
    if kind == "gitlab":  # bigger files are split into parts under the limit
        problems.found += _split_size_problems(request.split_size, limit)
        limit = None
    with problems.check():
        upload_files = files.collect(
            request.paths,
            max_file_size=limit,
            rules=selection.Rules(request.exclude, request.include),
            left_out=left_out,
        )
    if kind == "gitlab":
        problems.found += split_manifest.reserved_name_problems(
            [f.remote_name for f in upload_files]
        )
    if request.signer and any(f.remote_name == signing.SIGNATURE_FILE for f in upload_files):
        problems.found.append(
            f"{signing.SIGNATURE_FILE} is among the files, and --sign writes that file — "
            f"leave it out (--exclude {signing.SIGNATURE_FILE}) or publish without --sign"
        )
    problems.raise_any()
    return upload_files


def _split_size_problems(split_size: int | None, limit: int | None) -> list[str]:
    size = split_manifest.DEFAULT_SPLIT_SIZE if split_size is None else split_size
    if size < 1:
        return ["--split-size must be at least 1 byte"]
    if limit is not None and size > limit:
        return [
            f"--split-size {sizes.human_size(size)} is over the {sizes.human_size(limit)} limit "
            "per file (--max-file-size): choose a smaller --split-size"
        ]
    return []


def _check_version_request(request: PublishRequest, ci: CiContext) -> None:
    """Fail on a bad semver, contradictory flags or a too long description before any request."""
    versioning.choose(request.version, request.bump, ci, [], request.prerelease_label)
    if request.description and len(request.description) > MAX_DESCRIPTION:
        raise UsageError(
            f"the description has {len(request.description)} characters",
            hint=f"GitLab accepts at most {MAX_DESCRIPTION}; shorten --description",
        )


def _plan_line(plan: PublishPlan) -> str:
    model = "new model" if plan.create_model else "existing model"
    action = "resuming" if plan.resume else "creating"
    size = sizes.human_size(sum(f.size for f in plan.files))
    return (
        f"{model} {plan.model}: {action} version {plan.version} on {plan.backend}; "
        f"{len(plan.files)} file(s), {size}; {len(plan.params)} param(s), {len(plan.metrics)} metric(s)"
    )


def load_metadata(
    param_pairs: Sequence[str],
    params_files: Sequence[Path],
    metric_pairs: Sequence[str],
    metrics_files: Sequence[Path],
) -> tuple[dict[str, str], dict[str, float]]:
    """Params and metrics from flags and JSON/YAML files, validated."""
    params = metadata.params(param_pairs, params_files)
    metrics = metadata.metrics(metric_pairs, metrics_files)
    return params, metrics
