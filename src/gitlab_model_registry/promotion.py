"""The promote use case: a checked, verified copy of a version under a new version or project."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

from gitlab_model_registry import catalog, environments, gates, signing, versioning
from gitlab_model_registry.backends import Backend
from gitlab_model_registry.errors import ConflictError, Interrupted, UsageError, VersionTakenError
from gitlab_model_registry.models import CiContext, Deployment, ModelVersion, RemoteFile, RunData
from gitlab_model_registry.observer import NULL_OBSERVER, Observer

PROMOTED_FROM = "promoted-from"
#: Tags that describe the source's own job and creation; the promoted version gets its own.
_NOT_COPIED = ("gitlab.", "ci.", "gmr.")


@dataclass(frozen=True)
class PromoteRequest:
    """What ``promote`` was asked: the source version and where it goes."""

    model: str
    version: str
    to_version: str | None = None
    release: bool = False
    to_project: str | None = None
    gates: Sequence[str] = ()
    concurrency: int = 0
    #: The environment the promoted version goes into (alone: the version itself goes there).
    environment: str | None = None

    @property
    def deploy_only(self) -> bool:
        return bool(self.environment) and not (self.to_version or self.release or self.to_project)

    #: ``--require-signature``: the source's model.sig must verify and cover every file.
    require_signature: signing.Verifier | None = None


@dataclass(frozen=True)
class PromoteResult:
    """What ``promote`` did: source, target, the files copied or already there."""

    source: ModelVersion
    target: ModelVersion
    copied: tuple[RemoteFile, ...]
    skipped: tuple[RemoteFile, ...]
    resumed: bool
    deployment: Deployment | None = None
    #: Who signed the files carried over (with ``model.sig``), when the source was signed.
    signer: str = ""


#: ``--to release`` (the promote component's default): the release of the source's prerelease.
RELEASE = "release"


def target_version(request: PromoteRequest) -> str:
    """--to, or the release of the source's prerelease (--release), or the source's own version."""
    source = versioning.parse(request.version)
    to_release = request.release or request.to_version == RELEASE
    if request.to_version not in (None, "", RELEASE) and request.release:
        raise UsageError("--to and --release are exclusive", hint="use one of them")
    if to_release:
        if not source.prerelease:
            raise UsageError(
                f"{request.version} is already a release, so it has no release to promote to",
                hint="pass --to SEMVER for another version, or --to-project to copy it",
            )
        return str(source.finalize_version())
    if request.to_version:
        return str(versioning.parse(request.to_version))
    if not request.to_project and not request.environment:
        raise UsageError(
            "nothing to promote to",
            hint="pass --to SEMVER, --release, --to-project or --environment",
        )
    return str(source)


def check_gates(request: PromoteRequest) -> None:
    """Fail on a malformed --require or --environment before any request."""
    for gate in request.gates:
        gates.parse(gate)
    for name in [request.environment or "", *gates.environments(map(gates.parse, request.gates))]:
        if name:
            catalog.check_environment(name)


def promote(
    source: Backend,
    target: Backend,
    request: PromoteRequest,
    ci: CiContext,
    *,
    source_ref: str,
    observer: Observer = NULL_OBSERVER,
) -> PromoteResult:
    """Promote ``request.version`` of ``request.model`` from ``source`` into ``target``."""
    checks = [gates.parse(g) for g in request.gates]
    to_version = target_version(request)
    if to_version == request.version and not request.to_project and not request.deploy_only:
        raise UsageError(
            f"{request.version} is already that version", hint="pass --to or --release"
        )
    if request.environment:  # e.g. not an MLflow alias: refused before anything is written
        target.environments().check_name(request.environment)
    with observer.phase("resolve", f"Checking {request.model} {request.version}"):
        src = catalog.get_complete(source, request.model, request.version)
        data = source.get_run_data(src.run_id)
        baselines = _baselines(target, request.model, checks)
        for line in gates.check(
            checks, data.metrics, f"{request.model} {request.version}", baselines
        ):
            observer.log(f"gate {line}")
        files = source.list_files(src)
        observer.log(
            f"gates passed: {', '.join(map(str, checks)) or 'none given'}; {len(files)} file(s)"
        )
        if request.require_signature:
            data = _check_signature(source, src, files, request.require_signature, data, observer)
    if request.deploy_only:
        return PromoteResult(src, src, (), tuple(files), False, _deploy(target, request, src, ci))
    try:
        checked = _Checked(src, data, tuple(files), to_version, source_ref)
        result = _write(source, target, request, ci, checked, observer)
    except Interrupted as stop:
        again = f"gmr promote {request.model} {request.version} --to {to_version}"
        raise stop.explained(
            f"{request.model} {to_version} is incomplete; finish it with: {again}"
            + (f" --to-project {request.to_project}" if request.to_project else "")
        ) from None
    return replace(result, deployment=_deploy(target, request, result.target, ci))


def _baselines(
    registry: Backend, model: str, checks: Sequence[gates.Gate]
) -> dict[str, gates.Baseline]:
    """What each environment a gate names holds now, and its metrics."""
    return {
        name: environments.holding(registry, model, name) for name in gates.environments(checks)
    }


def _deploy(
    target: Backend, request: PromoteRequest, mv: ModelVersion, ci: CiContext
) -> Deployment | None:
    if not request.environment:
        return None
    return target.environments().record(mv, request.environment, ci)


def _check_signature(
    source: Backend,
    src: ModelVersion,
    files: Sequence[RemoteFile],
    verifier: signing.Verifier,
    data: RunData,
    observer: Observer,
) -> RunData:
    """Verify the source's signature before anything is copied; the run data then names the
    verified signer (also for a version signed by another tool)."""
    with tempfile.TemporaryDirectory(prefix="gmr-verify-") as tmp:
        signed, unknown = signing.verify_version(source, src, files, verifier, Path(tmp))
    if unknown:
        raise signing.SignatureError(
            f"{src.model} {src.version}: the registry has no sha256 for {', '.join(unknown[:3])}",
            hint="nothing was promoted; a signature can only be checked against known digests",
        )
    observer.log(f"signature valid: {len(signed.digests)} file(s) signed by {signed.signer}")
    return RunData(data.params, data.metrics, data.tags | {signing.SIGNER_TAG: signed.signer})


class _Checked(NamedTuple):
    """The source version once its gates passed, and where it goes."""

    src: ModelVersion
    data: RunData
    files: tuple[RemoteFile, ...]
    to_version: str
    source_ref: str


def _write(
    source: Backend,
    target: Backend,
    request: PromoteRequest,
    ci: CiContext,
    checked: _Checked,
    observer: Observer,
) -> PromoteResult:
    src, data, files, to_version, source_ref = checked
    with observer.phase("create", f"Creating {request.model} {to_version}"):
        dst, resumed = _claim_target(target, request.model, to_version, source_ref, files, ci)
    with observer.phase("copy", f"Copying {len(files)} file(s)"):
        present = {f.name: f for f in target.list_files(dst)}
        todo = [f for f in files if not _same(present.get(f.name), f)]
        observer.transfer(len(todo), sum(f.size for f in todo))
        copied = target.copy_from(
            source, src, dst, todo, concurrency=request.concurrency, progress=observer.progress
        )
    with observer.phase("metadata", "Copying params and metrics, linking the CI job"):
        tags = {k: v for k, v in data.tags.items() if not k.startswith(_NOT_COPIED)}
        if data.tags.get(signing.SIGNER_TAG):  # the signature is copied as a file: same digests
            tags[signing.SIGNER_TAG] = data.tags[signing.SIGNER_TAG]
        tags |= catalog.ci_tags(ci) | {PROMOTED_FROM: source_ref}
        target.log_run_data(dst.run_id, RunData(data.params, data.metrics, tags))
        target.finish_version(dst)
    dst = replace(dst, package_url=target.package_url(dst))
    skipped = tuple(f for f in files if f not in todo)
    signer = (
        tags.get(signing.SIGNER_TAG, "")
        if any(f.name == signing.SIGNATURE_FILE for f in files)
        else ""
    )
    return PromoteResult(src, dst, tuple(copied), skipped, resumed, signer=signer)


def _claim_target(
    target: Backend,
    model: str,
    version: str,
    source_ref: str,
    files: Sequence[RemoteFile],
    ci: CiContext,
) -> tuple[ModelVersion, bool]:
    """Create the target version, or resume one that an earlier run of this promotion began."""
    if target.get_model(model) is None:
        target.create_model(model, "")
    existing = target.get_version(model, version)
    if existing is None:
        tags = catalog.ci_tags(ci) | {PROMOTED_FROM: source_ref} | catalog.completion_tags()
        description = f"Promoted from {source_ref}"
        try:
            return target.create_version(model, version, description, tags), False
        except VersionTakenError:
            existing = target.get_version(model, version)
            if existing is None:
                raise
    _check_resumable(target, existing, source_ref, files)
    return existing, True


def _check_resumable(
    target: Backend, existing: ModelVersion, source_ref: str, files: Sequence[RemoteFile]
) -> None:
    wanted = {f.name: f for f in files}
    stored = target.list_files(existing)
    differing = [f.name for f in stored if not _same(wanted.get(f.name), f)]
    promoted_from = existing.tags.get(PROMOTED_FROM)
    if differing or (promoted_from and promoted_from != source_ref):
        raise ConflictError(
            f"{existing.model} {existing.version} already exists with other content "
            f"({', '.join(differing[:3]) or 'promoted from ' + str(promoted_from)})",
            hint="promote to another version with --to",
        )


def _same(a: RemoteFile | None, b: RemoteFile | None) -> bool:
    return a is not None and b is not None and a.size == b.size and a.sha256 == b.sha256
