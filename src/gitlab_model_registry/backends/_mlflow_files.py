"""Model files as the artifacts of a version's run, with our sha256 kept in run tags.

``RunFiles`` moves them with our own transfers (``HttpArtifacts``) when the tracking server
serves the run's artifacts, else with ``MlflowClient`` and the functions below.
"""

from __future__ import annotations

import posixpath
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from gitlab_model_registry._threads import parallel
from gitlab_model_registry.backends import ProgressCallback
from gitlab_model_registry.backends._mlflow_http import HttpArtifacts
from gitlab_model_registry.backends._mlflow_support import (
    mlflow_errors,
    named_as,
    serialized,
    sha256_tag_key,
)
from gitlab_model_registry.errors import IntegrityError
from gitlab_model_registry.files import sha256_file
from gitlab_model_registry.models import ModelVersion, RemoteFile, UploadFile
from gitlab_model_registry.pacing import streams

#: A download whose bytes do not match the recorded sha256 is fetched again this often in all.
DOWNLOAD_ATTEMPTS = 3


class RunFiles:
    """The files of versions' runs; ``http`` is None unless the registry is a tracking server."""

    def __init__(self, client: Callable[[], Any], http: HttpArtifacts | None) -> None:
        self._client, self._http = client, http
        self._artifact_uris: dict[str, str] = {}

    def list_files(self, mv: ModelVersion) -> list[RemoteFile]:
        with mlflow_errors(f"listing files of version {mv.version} of {mv.model!r}"):
            client = self._client()
            run = client.get_run(mv.run_id)
            tags = dict(run.data.tags)
            self._artifact_uris[mv.run_id] = str(run.info.artifact_uri)
            http = self._http_for(mv.run_id)
            listed = list(
                http.walk(self._artifact_uris[mv.run_id]) if http else walk(client, mv.run_id, None)
            )
        return [
            RemoteFile(name, size, tags.get(sha256_tag_key(name)) or None) for name, size in listed
        ]

    def upload(
        self,
        mv: ModelVersion,
        files: Sequence[UploadFile],
        *,
        concurrency: int,
        progress: ProgressCallback | None,
    ) -> list[RemoteFile]:
        report = serialized(progress)
        http = self._http_for(mv.run_id)
        if http is not None:
            where, client = self._artifact_uris[mv.run_id], self._client()
            tasks = [partial(http.upload, client, mv.run_id, where, f, report) for f in files]
        else:
            tasks = [partial(upload_one, self._client(), mv.run_id, f, report) for f in files]
        return parallel(tasks, streams([f.size for f in files], concurrency).threads)

    def download(
        self,
        mv: ModelVersion,
        files: Sequence[RemoteFile],
        dest: Path,
        *,
        concurrency: int,
        progress: ProgressCallback | None,
    ) -> None:
        dest.mkdir(parents=True, exist_ok=True)
        report = serialized(progress)
        http = self._http_for(mv.run_id)
        if http is not None:
            where = self._artifact_uris[mv.run_id]
            tasks = [partial(http.download, where, f, dest, report) for f in files]
        else:
            tasks = [
                partial(download_one, self._client(), mv.run_id, f, dest, report) for f in files
            ]
        parallel(tasks, streams([f.size for f in files], concurrency).threads)

    def delete_all(self, artifact_uri: str, what: str) -> None:
        """Every file of a run: through the tracking server when it serves them."""
        http = self._http
        if http is not None and http.handles(artifact_uri):
            http.delete_all(artifact_uri)
        else:
            with mlflow_errors(what):
                delete_local_or_store(artifact_uri)

    def _http_for(self, run_id: str) -> HttpArtifacts | None:
        """Our own transfers for the run's files when the server serves them (mlflow-artifacts:)."""
        if self._http is None:
            return None
        if run_id not in self._artifact_uris:
            with mlflow_errors(f"looking up run {run_id}"):
                self._artifact_uris[run_id] = str(self._client().get_run(run_id).info.artifact_uri)
        return self._http if self._http.handles(self._artifact_uris[run_id]) else None


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
