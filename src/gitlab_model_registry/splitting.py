"""Files bigger than GitLab's per-file limit, stored as numbered parts plus a manifest (the
stored form is ``split_manifest``'s).

``SplitFiles`` wraps a backend so every command sees the logical file: ``list_files`` hides the
parts and the manifest and reports the whole file (its ``parts`` > 0), downloads reassemble and
verify the whole (and, where it does not match, each part), promotion copies the parts, uploads
split and resume per part.
Splitting applies to GitLab only (``split_size`` None elsewhere): MLflow artifact stores have no
per-file limit and MLflow's own clients expect whole files; reading works on any backend.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gitlab_model_registry import resuming
from gitlab_model_registry._joining import (
    Places,
    RangeDigest,
    Recording,
    assemble,
    following,
    placements,
    verify_placed,
)
from gitlab_model_registry.backends import Backend, EnvironmentLedger, ProgressCallback
from gitlab_model_registry.backends._copy import copy_via_disk
from gitlab_model_registry.errors import IntegrityError
from gitlab_model_registry.models import (
    ModelVersion,
    RegisteredModel,
    RemoteFile,
    RunData,
    UploadFile,
)
from gitlab_model_registry.split_manifest import (
    MANIFEST,
    PART,
    Split,
    parse_manifest,
    part_sha256,
    plan_parts,
    render_manifest,
)


class SplitFiles:
    """A Backend that stores files over ``split_size`` as parts (see the module docstring)."""

    def __init__(self, inner: Backend, split_size: int | None) -> None:
        self.inner, self.split_size = inner, split_size
        self.kind = inner.kind
        self._manifests: dict[str, dict[str, Split]] = {}

    def resized(self, split_size: int | None) -> SplitFiles:
        return SplitFiles(self.inner, split_size if self.kind == "gitlab" else None)

    # -- files ------------------------------------------------------------------------------

    def list_files(self, mv: ModelVersion) -> list[RemoteFile]:
        raw = self.inner.list_files(mv)
        splits = self._manifest(mv, raw)
        hidden = {p.name for s in splits.values() for p in s.parts} | {MANIFEST}
        plain = [f for f in raw if f.name not in hidden and not PART.search(f.name)]
        return sorted(plain + [s.file for s in splits.values()], key=lambda f: f.name)

    def upload(
        self,
        mv: ModelVersion,
        files: Sequence[UploadFile],
        *,
        concurrency: int,
        progress: ProgressCallback | None = None,
    ) -> list[RemoteFile]:
        size = self.split_size
        big = [f for f in files if size is not None and f.size > size]
        if size is None or not big:
            return self.inner.upload(mv, files, concurrency=concurrency, progress=progress)
        # The whole file's sha256, taken beside the part uploads (they read other offsets).
        hashing = {f.remote_name: RangeDigest([(f.path, 0, f.size)]) for f in big}
        stored = {f.name: f for f in self.inner.list_files(mv)}
        parts = {f.remote_name: plan_parts(f, size) for f in big}
        done = {
            p.remote_name: stored[p.remote_name]
            for ps in parts.values()
            for p in ps
            if _stored_same(stored.get(p.remote_name), p)
        }
        todo = [f for f in files if f not in big]
        todo += [p for ps in parts.values() for p in ps if p.remote_name not in done]
        sent = self.inner.upload(mv, todo, concurrency=concurrency, progress=progress)
        done |= {f.name: f for f in sent}
        splits = dict(self._manifest(mv, list(stored.values())))
        for file in big:
            whole = RemoteFile(
                file.remote_name,
                file.size,
                hashing[file.remote_name].result(),
                parts=len(parts[file.remote_name]),
            )
            pieces = tuple(done[p.remote_name] for p in parts[file.remote_name])
            splits[file.remote_name] = Split(whole, pieces)
        self._write_manifest(mv, splits)
        plain = {f.name: f for f in sent}
        return [splits[f.remote_name].file if f in big else plain[f.remote_name] for f in files]

    def download(
        self,
        mv: ModelVersion,
        files: Sequence[RemoteFile],
        dest: Path,
        *,
        concurrency: int,
        progress: ProgressCallback | None = None,
    ) -> None:
        if not any(f.parts for f in files):
            self.inner.download(mv, files, dest, concurrency=concurrency, progress=progress)
            return
        raw = self.inner.list_files(mv)
        splits = [self._split(mv, raw, f) for f in files if f.parts]
        dest.mkdir(parents=True, exist_ok=True)
        # GitLab's backend writes each part straight into its place in the file; other
        # registries download the parts whole, which are then joined.
        placing = getattr(self.inner, "download_into", None)
        # Kept with the download's directory when it stops, so a next try continues (``resuming``).
        work = dest / ".gmr-parts"
        work.mkdir(parents=True, exist_ok=True)
        plain = [f for f in files if not f.parts]
        pieces = [] if placing else [p for s in splits for p in s.parts]
        jobs = [f for f in [*plain, *pieces] if not resuming.already_here(work, f)]
        self.inner.download(mv, jobs, work, concurrency=concurrency, progress=progress)
        if placing:

            def place(places: Places) -> None:
                placing(mv, places, concurrency=concurrency, progress=progress)

            grouped = placements(splits, work)
            digests = [following(places) for places in grouped]
            unfinished = [(p, at) for places in grouped for p, at in places if at.written < p.size]
            try:
                with Recording(splits, grouped):
                    place(unfinished)
            finally:
                followed = [digest.result() for digest in digests]
        for file in plain:
            (dest / file.name).parent.mkdir(parents=True, exist_ok=True)
            (work / file.name).replace(dest / file.name)
        for index, split in enumerate(splits):
            target = dest / split.file.name
            if placing:
                verify_placed(split, grouped[index], followed[index], place, target)
            else:
                assemble(split, work, target)
        shutil.rmtree(work)

    def copy_from(
        self,
        source: Backend,
        src: ModelVersion,
        dst: ModelVersion,
        files: Sequence[RemoteFile],
        *,
        concurrency: int,
        progress: ProgressCallback | None = None,
    ) -> list[RemoteFile]:
        reader = source if isinstance(source, SplitFiles) else SplitFiles(source, None)
        origin = reader.inner
        if origin.kind != "gitlab" or self.kind != "gitlab":
            # Another registry: through a temporary directory, split here as this one needs.
            return copy_via_disk(
                reader, self, src, dst, files, concurrency=concurrency, progress=progress
            )
        if not any(f.parts for f in files):
            return self.inner.copy_from(
                origin, src, dst, files, concurrency=concurrency, progress=progress
            )
        raw = origin.list_files(src)
        splits = {f.name: reader._split(src, raw, f) for f in files if f.parts}
        # Parts an interrupted promotion already copied (same size and sha256) are not sent again.
        present = self.inner.list_files(dst)
        copied_parts = {(f.name, f.size, f.sha256) for f in present if f.sha256}
        parts = [
            p
            for s in splits.values()
            for p in s.parts
            if (p.name, p.size, p.sha256) not in copied_parts
        ]
        jobs = [f for f in files if not f.parts] + parts
        copied = self.inner.copy_from(
            origin, src, dst, jobs, concurrency=concurrency, progress=progress
        )
        merged = dict(self._manifest(dst, present)) | splits
        self._write_manifest(dst, merged)
        plain = {f.name: f for f in copied}
        return [splits[f.name].file if f.parts else plain[f.name] for f in files]

    # -- the manifest -----------------------------------------------------------------------

    def _manifest(self, mv: ModelVersion, raw: Sequence[RemoteFile]) -> dict[str, Split]:
        entry = next((f for f in raw if f.name == MANIFEST), None)
        if entry is None:
            return {}
        key = f"{mv.model}\0{mv.version_id}\0{entry.sha256}"
        if key not in self._manifests:
            with tempfile.TemporaryDirectory(prefix="gmr-manifest-") as tmp:
                self.inner.download(mv, [entry], Path(tmp), concurrency=1)
                self._manifests[key] = parse_manifest((Path(tmp) / MANIFEST).read_text())
        return self._manifests[key]

    def _split(self, mv: ModelVersion, raw: Sequence[RemoteFile], file: RemoteFile) -> Split:
        """The split of ``file``, every part present as the manifest recorded it."""
        split = self._manifest(mv, raw).get(file.name)
        if split is None:
            raise IntegrityError(f"{file.name} is missing from the version's {MANIFEST}")
        stored = {f.name: f for f in raw}
        for index, part in enumerate(split.parts):
            have = stored.get(part.name)
            if have is None or have.size != part.size or (have.sha256 not in (None, part.sha256)):
                raise IntegrityError(
                    f"{file.name}: part {index + 1} of {len(split.parts)} ({part.name}) is "
                    f"{'missing' if have is None else 'not the one its manifest records'}",
                    hint="publish the version again to upload its missing parts",
                )
        return split

    def _write_manifest(self, mv: ModelVersion, splits: dict[str, Split]) -> None:
        with tempfile.TemporaryDirectory(prefix="gmr-manifest-") as tmp:
            path = Path(tmp) / MANIFEST
            path.write_text(render_manifest(splits))
            manifest = UploadFile(path, MANIFEST, path.stat().st_size)
            self.inner.upload(mv, [manifest], concurrency=1)

    # -- everything else is the wrapped backend's -------------------------------------------

    def __getattr__(self, name: str) -> Any:
        """Optional capabilities of the wrapped backend (GitLab's ``merge_request_state``)."""
        if name == "inner":  # not set yet (copying): no recursion
            raise AttributeError(name)
        return getattr(self.inner, name)

    def describe(self) -> str:
        return self.inner.describe()

    def get_model(self, name: str) -> RegisteredModel | None:
        return self.inner.get_model(name)

    def create_model(self, name: str, description: str) -> RegisteredModel:
        return self.inner.create_model(name, description)

    def list_versions(self, model: str) -> list[ModelVersion]:
        return self.inner.list_versions(model)

    def get_version(self, model: str, version: str) -> ModelVersion | None:
        return self.inner.get_version(model, version)

    def create_version(
        self, model: str, version: str, description: str, tags: dict[str, str]
    ) -> ModelVersion:
        return self.inner.create_version(model, version, description, tags)

    def package_url(self, mv: ModelVersion) -> str:
        return self.inner.package_url(mv)

    def log_run_data(self, run_id: str, data: RunData) -> None:
        self.inner.log_run_data(run_id, data)

    def get_run_data(self, run_id: str) -> RunData:
        return self.inner.get_run_data(run_id)

    def run_status(self, run_id: str) -> str:
        return self.inner.run_status(run_id)

    def finish_version(self, mv: ModelVersion) -> None:
        self.inner.finish_version(mv)

    def delete_version(self, mv: ModelVersion) -> None:
        self.inner.delete_version(mv)  # the package goes, parts and manifest with it

    def environments(self) -> EnvironmentLedger:
        return self.inner.environments()


def with_split_size(backend: Backend, split_size: int | None) -> Backend:
    """``backend`` splitting at ``split_size`` (GitLab only; other registries never split)."""
    inner = backend.inner if isinstance(backend, SplitFiles) else backend
    return SplitFiles(inner, split_size if inner.kind == "gitlab" else None)


def _stored_same(stored: RemoteFile | None, part: UploadFile) -> bool:
    """A part already uploaded with the same bytes (an interrupted publish resumed)."""
    if stored is None or stored.sha256 is None or stored.size != part.size:
        return False
    return stored.sha256 == part_sha256(part)


__all__ = ["SplitFiles", "with_split_size"]
