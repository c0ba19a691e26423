"""Model files on GitLab: each version's ``ml_model`` package, listed through the packages API,
its files moved by ``transfer`` (``/packages/ml_models/<version id>/files/...``, Bearer only)
and checked against the sha256 GitLab stored."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from gitlab_model_registry.backends import ProgressCallback
from gitlab_model_registry.backends._gitlab_api import JsonApi
from gitlab_model_registry.backends._gitlab_errors import TransferErrors
from gitlab_model_registry.models import ModelVersion, RemoteFile, UploadFile
from gitlab_model_registry.settings import Settings
from gitlab_model_registry.transfer import Placement, Transfer


class PackageFiles:
    """The files of one project's model versions. ``project``: URL-encoded id or path;
    ``upload_kind``: which token ``transfer`` sends, for messages."""

    def __init__(
        self, api: JsonApi, settings: Settings, project: str, transfer: Transfer, upload_kind: str
    ) -> None:
        self._api, self._settings, self._project = api, settings, project
        self._transfer, self._upload_kind = transfer, upload_kind
        self._known_packages: dict[tuple[str, str], dict[str, Any]] = {}

    def list_files(self, mv: ModelVersion) -> list[RemoteFile]:
        package = self._package(mv.model, mv.version)
        if package is None:
            return []
        newest: dict[str, dict[str, Any]] = {}
        path = f"/projects/{self._project}/packages/{package['id']}/package_files"
        for record in self._api.list(path, {}):
            name = unquote(record["file_name"])
            if name not in newest or record["id"] > newest[name]["id"]:
                newest[name] = record
        return [
            RemoteFile(n, int(r["size"]), r.get("file_sha256")) for n, r in sorted(newest.items())
        ]

    def upload(
        self,
        mv: ModelVersion,
        files: Sequence[UploadFile],
        *,
        concurrency: int,
        progress: ProgressCallback | None,
    ) -> list[RemoteFile]:
        jobs = [(self._file_url(mv, f.remote_name), f) for f in files]
        with self._transfer_errors():
            digests = self._transfer.put_many(jobs, concurrency=concurrency, progress=progress)
        stored = {f.name: f for f in self.list_files(mv)}
        return [_verified(f, digests[f.remote_name], stored.get(f.remote_name)) for f in files]

    def download(
        self,
        mv: ModelVersion,
        files: Sequence[RemoteFile],
        dest: Path,
        *,
        concurrency: int,
        progress: ProgressCallback | None,
    ) -> None:
        jobs = [(self._file_url(mv, f.name), f, dest / f.name) for f in files]
        with self._transfer_errors():
            self._transfer.get_many(jobs, concurrency=concurrency, progress=progress)

    def download_into(
        self,
        mv: ModelVersion,
        jobs: Sequence[tuple[RemoteFile, Placement]],
        *,
        concurrency: int,
        progress: ProgressCallback | None,
    ) -> None:
        """Each file into its place in a bigger file (the parts of a split file, no join)."""
        tasks = [(self._file_url(mv, f.name), f, place) for f, place in jobs]
        with self._transfer_errors():
            self._transfer.get_many(tasks, concurrency=concurrency, progress=progress)

    def copy_from(
        self,
        source: PackageFiles,
        src: ModelVersion,
        dst: ModelVersion,
        files: Sequence[RemoteFile],
        *,
        concurrency: int,
        progress: ProgressCallback | None,
    ) -> list[RemoteFile]:
        """From ``src``'s package (``source`` may be another project) into ``dst``'s, without a
        local copy."""
        jobs = [(source._file_url(src, f.name), self._file_url(dst, f.name), f) for f in files]
        with self._transfer_errors():
            digests = self._transfer.copy_many(
                jobs,
                source_headers=source._transfer.headers,
                concurrency=concurrency,
                progress=progress,
            )
        stored = {f.name: f for f in self.list_files(dst)}
        return [_verified_copy(f, digests[f.name], stored.get(f.name)) for f in files]

    def package_url(self, mv: ModelVersion) -> str:
        package = self._package(mv.model, mv.version)
        web_path = (package or {}).get("_links", {}).get("web_path", "")
        return f"{self._settings.gitlab_url}{web_path}" if web_path else ""

    def forget(self, mv: ModelVersion) -> None:
        """The version's package is gone (deleted with the version)."""
        self._known_packages.pop((mv.model, mv.version), None)

    def _file_url(self, mv: ModelVersion, remote_name: str) -> str:
        path = "/".join(quote(part, safe="") for part in remote_name.split("/"))
        base = f"{self._settings.api_url}/projects/{self._project}/packages/ml_models"
        return f"{base}/{mv.version_id}/files/{path}"

    def _packages(self, model: str, version: str | None = None) -> Iterator[dict[str, Any]]:
        query = {"package_type": "ml_model", "package_name": model}
        if version:
            query["package_version"] = version
        path = f"/projects/{self._project}/packages"
        # package_name is a fuzzy match on GitLab: keep exact names only.
        return (p for p in self._api.list(path, query) if p["name"] == model)

    def _package(self, model: str, version: str) -> dict[str, Any] | None:
        # A version's package never changes once it exists: look it up once per command, not
        # before the upload, after it, and again for its URL.
        if (model, version) not in self._known_packages:
            found = next(
                (p for p in self._packages(model, version) if p["version"] == version), None
            )
            if found is None:
                return None
            self._known_packages[model, version] = found
        return self._known_packages[model, version]

    def _transfer_errors(self) -> TransferErrors:
        settings = self._settings
        job_project = settings.job_project_path or settings.job_project_id
        return TransferErrors(
            self._upload_kind, settings.project_path or settings.project, job_project
        )


def _verified(local: UploadFile, digest: str, stored: RemoteFile | None) -> RemoteFile:
    from gitlab_model_registry.errors import IntegrityError

    if stored is None:
        raise IntegrityError(f"{local.remote_name} is missing from the package after its upload")
    if stored.sha256 and stored.sha256 != digest:
        raise IntegrityError(
            f"{local.remote_name}: GitLab stored sha256 {stored.sha256[:12]}…, we sent {digest[:12]}…",
            hint="the upload was corrupted on the way; publish again",
        )
    return RemoteFile(local.remote_name, local.size, digest)


def _verified_copy(source: RemoteFile, digest: str, stored: RemoteFile | None) -> RemoteFile:
    local = UploadFile(Path(source.name), source.name, source.size)
    return _verified(local, digest, stored)
