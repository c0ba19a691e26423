"""Copying files between registries that cannot stream into each other: through a temp dir."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

from gitlab_model_registry.backends import Backend, ProgressCallback
from gitlab_model_registry.models import ModelVersion, RemoteFile, UploadFile


def copy_via_disk(
    source: Backend,
    target: Backend,
    src: ModelVersion,
    dst: ModelVersion,
    files: Sequence[RemoteFile],
    *,
    concurrency: int,
    progress: ProgressCallback | None = None,
) -> list[RemoteFile]:
    """Download into a temporary directory (sha256 verified), then upload from it."""
    with tempfile.TemporaryDirectory(prefix="gmr-copy-") as tmp:
        root = Path(tmp)
        source.download(src, files, root, concurrency=concurrency, progress=progress)
        uploads = [UploadFile(root / f.name, f.name, f.size) for f in files]
        return target.upload(dst, uploads, concurrency=concurrency, progress=progress)
