"""The reading use cases: `versions`, `show` and `download` (exact, latest or a constraint)."""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from gitlab_model_registry import catalog, files, resuming, signing
from gitlab_model_registry.backends import Backend
from gitlab_model_registry.cache import Cache
from gitlab_model_registry.errors import AuthError, Interrupted, NotFoundError, UsageError
from gitlab_model_registry.models import ModelVersion, RemoteFile, RunData
from gitlab_model_registry.observer import NULL_OBSERVER, Observer

LATEST = catalog.LATEST


@dataclass(frozen=True)
class DownloadResult:
    """What ``download`` placed in ``dest``, and how."""

    version: ModelVersion
    files: tuple[RemoteFile, ...]
    dest: Path
    #: The files placed from ``--cache-dir`` instead of downloaded.
    cached: tuple[RemoteFile, ...] = ()
    #: Who signed the files, when ``--verify`` checked them ("" otherwise).
    signer: str = ""


@dataclass(frozen=True)
class VersionDetails:
    """What ``show`` prints: the version, its files and its run's data."""

    version: ModelVersion
    files: tuple[RemoteFile, ...]
    run: RunData

    @property
    def signed(self) -> bool:
        """Whether the version holds a signature (``show`` does not verify it)."""
        return any(f.name == signing.SIGNATURE_FILE for f in self.files)

    @property
    def signer(self) -> str:
        """Who signed it, as recorded at publish (empty when unknown, e.g. signed elsewhere)."""
        return self.run.tags.get(signing.SIGNER_TAG, "")


def versions(backend: Backend, model: str) -> list[ModelVersion]:
    """Every version of ``model``, newest (highest semver) first, incomplete ones marked."""
    return catalog.all_versions(backend, model)


def resolve(backend: Backend, model: str, spec: str) -> ModelVersion:
    """The complete version named by ``spec``: a semver, ``latest``, or a constraint."""
    return catalog.resolve(backend, model, spec)


def placements(backend: Backend, model: str) -> dict[str, list[str]]:
    """Semver -> the environments holding that version of ``model`` now; none when the
    environments cannot be read (a project with Environments switched off answers 403): the
    marks decorate the list, they never cost it."""
    try:
        return catalog.placements(backend, model)
    except AuthError:
        return {}


def show(
    backend: Backend, model: str, spec: str, *, environment: str | None = None
) -> VersionDetails:
    """A version's details; an exact semver is shown even when incomplete (and says so).
    With ``environment``: the version that environment holds."""
    if environment:
        spec = catalog.require_in_environment(backend, model, environment).version
    mv = catalog.resolve(backend, model, spec, incomplete=True)
    files = tuple(backend.list_files(mv))
    return VersionDetails(mv, files, backend.get_run_data(mv.run_id) if mv.run_id else RunData())


def download(
    backend: Backend,
    model: str,
    spec: str,
    dest: Path,
    *,
    force: bool = False,
    concurrency: int = 0,
    cache_dir: Path | None = None,
    verify: signing.Verifier | None = None,
    observer: Observer = NULL_OBSERVER,
    environment: str | None = None,
) -> DownloadResult:
    """Download a version's files into ``dest``, which appears only once complete and verified.

    With ``environment``: the version that environment holds (``spec`` is then ignored). With
    ``verify``, the version's signature is checked against its files' sha256 before any other
    file is fetched (``signing``); a failure leaves nothing written. With ``cache_dir``, files
    whose sha256 is cached there are placed from it (``cache``), the others added once verified."""
    if environment:
        catalog.check_environment(environment)
    else:
        catalog.check_spec(spec)
    _check_destination(dest, force)
    what = f"the version in {environment}" if environment else spec
    with observer.phase("resolve", f"Resolving {model} {what}"):
        mv = (
            catalog.require_in_environment(backend, model, environment)
            if environment
            else resolve(backend, model, spec)
        )
        files = tuple(backend.list_files(mv))
        if not files:  # e.g. its GitLab package was deleted: the version stays, its files not
            raise NotFoundError(
                f"{model} {mv.version} has no files on {backend.describe()}",
                hint="download another version, or publish this one again",
            )
        observer.log(f"{model} {mv.version}: {len(files)} file(s)")
    claim = resuming.claim(dest, mv, files)
    partial, resumed = claim.path, claim.resumed
    cache = Cache(cache_dir) if cache_dir else None
    kept = False
    try:
        signed, unsigned = _verify(backend, mv, files, verify, partial, observer)
        cached = _from_cache(cache, unsigned, partial, observer)
        todo = [f for f in unsigned if f not in cached]
        if resumed:
            todo = _resumed(todo, partial, observer)
        if todo:
            _download(backend, mv, todo, partial, concurrency, observer, dest)
        if cache is not None:
            for file in todo:
                cache.keep(file, partial / file.name)
        if signed:
            signing.check_downloaded(signed[0], partial, signed[1], f"{model} {mv.version}")
        if resumed:
            resuming.tidy(partial, files)
        _move_into_place(partial, dest)
    except BaseException as error:
        if resuming.resumable(error) and resuming.holds_bytes(partial):
            observer.log(f"kept what arrived in {claim.keep()}: "
                         "the same download continues from it")  # fmt: skip
            kept = True
        raise
    finally:
        if not kept:
            shutil.rmtree(partial, ignore_errors=True)
        claim.release()
    return DownloadResult(mv, files, dest, cached, signed[0].signer if signed else "")


def _resumed(todo: list[RemoteFile], partial: Path, observer: Observer) -> list[RemoteFile]:
    """The files a stopped try of this download did not finish (``resuming``)."""
    left = [f for f in todo if not resuming.already_here(partial, f)]
    observer.log(f"continuing a stopped download: {len(todo) - len(left)} of {len(todo)} "
                 "file(s) were complete")  # fmt: skip
    return left


def _download(
    backend: Backend,
    mv: ModelVersion,
    todo: list[RemoteFile],
    partial: Path,
    concurrency: int,
    observer: Observer,
    dest: Path,
) -> None:
    with observer.phase("download", f"Downloading {len(todo)} file(s)"):
        observer.transfer(len(todo), sum(f.size for f in todo))
        try:
            backend.download(mv, todo, partial, concurrency=concurrency, progress=observer.progress)
        except Interrupted as stop:
            raise stop.explained(
                f"nothing was written to {dest}; run it again to continue"
            ) from None


def _from_cache(
    cache: Cache | None, files: tuple[RemoteFile, ...], partial: Path, observer: Observer
) -> tuple[RemoteFile, ...]:
    if cache is None:
        return ()
    if swept := cache.sweep():
        observer.log(f"removed {swept} half-written cache file(s) a stopped job left behind")
    cached = tuple(f for f in files if cache.place(f, partial / f.name))
    observer.log(f"{len(cached)} of {len(files)} file(s) from the cache {cache.root}")
    return cached


def _verify(
    backend: Backend,
    mv: ModelVersion,
    files: tuple[RemoteFile, ...],
    verifier: signing.Verifier | None,
    partial: Path,
    observer: Observer,
) -> tuple[tuple[signing.Signed, list[str]] | None, tuple[RemoteFile, ...]]:
    """The signature check (and the files still to download: all but ``model.sig``)."""
    if verifier is None:
        return None, files
    with observer.phase("verify", f"Verifying the signature of {mv.model} {mv.version}"):
        signed, later = signing.verify_version(backend, mv, files, verifier, partial)
        observer.log(f"signature valid: {len(signed.digests)} file(s) signed by {signed.signer}")
    return (signed, later), tuple(f for f in files if f.name != signing.SIGNATURE_FILE)


def _check_destination(dest: Path, force: bool) -> None:
    if dest.exists() and not dest.is_dir():
        raise UsageError(f"{dest} exists and is not a directory", hint="choose another --dest")
    if dest.is_dir() and any(dest.iterdir()) and not force:
        raise UsageError(
            f"{dest} is not empty", hint="choose an empty --dest, or pass --force to replace it"
        )
    problems = files.output_dir_problems(dest, "--dest")
    if problems:
        raise UsageError(problems[0], hint="choose a folder you can write to")


def _move_into_place(partial: Path, dest: Path) -> None:
    """Swap the complete download in; an existing ``dest`` (with --force) is removed after."""
    old = dest.parent / f".{dest.name}.gmr-old-{uuid.uuid4().hex[:8]}"
    if dest.exists():
        dest.rename(old)
    partial.rename(dest)
    shutil.rmtree(old, ignore_errors=True)
