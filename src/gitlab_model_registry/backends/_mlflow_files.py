"""Model files as the artifacts of a version's run, with our sha256 kept in run tags."""

from __future__ import annotations

import posixpath
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gitlab_model_registry.backends import ProgressCallback
from gitlab_model_registry.backends._mlflow_support import mlflow_errors, named_as, sha256_tag_key
from gitlab_model_registry.errors import IntegrityError
from gitlab_model_registry.files import sha256_file
from gitlab_model_registry.models import RemoteFile, UploadFile

#: A download whose bytes do not match the recorded sha256 is fetched again this often in all.
DOWNLOAD_ATTEMPTS = 3


def walk(client: Any, run_id: str, path: str | None) -> Iterator[tuple[str, int]]:
    for info in client.list_artifacts(run_id, path):
        if info.is_dir:
            yield from walk(client, run_id, info.path)
        else:
            yield str(info.path), int(info.file_size or 0)


def upload_one(client: Any, run_id: str, file: UploadFile, report: ProgressCallback) -> RemoteFile:
    report(file.remote_name, 0, file.size)
    digest = sha256_file(file.path)  # MLflow keeps no checksum: record ours beside the file
    folder = posixpath.dirname(file.remote_name) or None
    with named_as(file) as local, mlflow_errors(f"uploading {file.remote_name}"):
        client.log_artifact(run_id, str(local), artifact_path=folder)
        client.set_tag(run_id, sha256_tag_key(file.remote_name), digest)
    report(file.remote_name, file.size, file.size)
    return RemoteFile(file.remote_name, file.size, digest)


def download_one(
    client: Any, run_id: str, file: RemoteFile, dest: Path, report: ProgressCallback
) -> None:
    if posixpath.normpath(file.name) != file.name or file.name.startswith(("/", "../")):
        raise IntegrityError(f"refusing to download {file.name!r}: it leaves the destination")
    report(file.name, 0, file.size)
    for _ in range(DOWNLOAD_ATTEMPTS):
        with tempfile.TemporaryDirectory(dir=dest, prefix=".gmr-") as tmp:
            with mlflow_errors(f"downloading {file.name}"):
                got = Path(client.download_artifacts(run_id, file.name, tmp))
            if file.sha256 is None or sha256_file(got) == file.sha256:
                target = dest / file.name
                target.parent.mkdir(parents=True, exist_ok=True)  # only for verified files
                got.replace(target)
                report(file.name, file.size, file.size)
                return
    raise IntegrityError(
        f"{file.name}: downloaded bytes do not match its sha256 after {DOWNLOAD_ATTEMPTS} attempts",
        hint="the stored artifact may be corrupt",
    )


def delete_local_or_store(artifact_uri: str) -> None:
    """Remove a run's artifacts from a local folder, or through mlflow's artifact repository
    for other stores (which read their own credentials, as for uploads)."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(artifact_uri)
    if parts.scheme in ("", "file"):
        shutil.rmtree(unquote(parts.path) if parts.scheme else artifact_uri, ignore_errors=True)
        return
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    repository: Any = get_artifact_repository(artifact_uri)
    repository.delete_artifacts()
