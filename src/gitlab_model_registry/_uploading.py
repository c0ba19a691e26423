"""A publish's files sent to its version: those already stored with the same size and sha256
(an interrupted publish, resumed) are skipped, other content under the same names is refused,
the rest is uploaded and logged."""

from __future__ import annotations

from collections.abc import Sequence

from gitlab_model_registry import files, signing, sizes
from gitlab_model_registry.backends import Backend
from gitlab_model_registry.errors import ConflictError
from gitlab_model_registry.models import ModelVersion, RemoteFile, UploadFile
from gitlab_model_registry.observer import Observer


def upload(
    backend: Backend,
    mv: ModelVersion,
    upload_files: Sequence[UploadFile],
    concurrency: int,
    observer: Observer,
    *,
    resign: bool = False,
) -> tuple[tuple[RemoteFile, ...], tuple[RemoteFile, ...]]:
    """The files uploaded, and those skipped as already stored."""
    present = {f.name: f for f in backend.list_files(mv)}
    if resign:  # a signature left by an interrupted signed publish is replaced
        present.pop(signing.SIGNATURE_FILE, None)
    wanted = {f.remote_name: f for f in upload_files}
    todo, skipped, differing = [], [], [n for n in present if n not in wanted]
    for local in upload_files:
        remote = present.get(local.remote_name)
        if remote is None or remote.sha256 is None:  # never stored, or stored unverified
            todo.append(local)
        elif remote.size == local.size and remote.sha256 == files.sha256_file(local.path):
            skipped.append(remote)
        else:
            differing.append(local.remote_name)
    if differing:
        raise ConflictError(
            f"{mv.model} {mv.version} already holds other files than this publish "
            f"({', '.join(sorted(differing)[:3])}{', …' if len(differing) > 3 else ''})",
            hint="an incomplete version is finished only with the same files; "
            "publish a new version (--bump) instead",
        )
    if skipped:
        observer.log(f"{len(skipped)} file(s) already stored with the same sha256, skipped")
    observer.transfer(len(todo), sum(f.size for f in todo))
    uploaded = backend.upload(mv, todo, concurrency=concurrency, progress=observer.progress)
    for remote in uploaded:
        observer.log(f"{remote.name}: {sizes.human_size(remote.size)}, sha256 {remote.sha256}")
    return tuple(uploaded), tuple(skipped)
