"""Model-version files (``/packages/ml_models/:id/files/(*path/):file_name``, reference §2, §11.6)
and the MLflow artifact routes that read them (§1.3)."""

from __future__ import annotations

import re
from urllib.parse import quote, quote_plus, unquote

from tests.gitlab_double import auth
from tests.gitlab_double.downloads import file_response
from tests.gitlab_double.errors import (
    bad_request,
    forbidden,
    grape,
    internal_error,
    message,
    not_found,
)
from tests.gitlab_double.mlflow_common import authorize as mlflow_authorize
from tests.gitlab_double.records import Package, PackageFile, Project
from tests.gitlab_double.releases import MODEL_REGISTRY_SINCE
from tests.gitlab_double.routing import Request, Response, Router
from tests.gitlab_double.state import now_iso
from tests.gitlab_double.uploads import receive, too_large

FILES = (
    r"/api/v4/projects/(?P<project>[^/]+)/packages/ml_models/(?P<version>[^/]+)/files/(?P<path>.+)"
)
ARTIFACTS = r"/api/v4/projects/(?P<project>[^/]+)/ml/mlflow/api/2\.0/mlflow-artifacts/artifacts"
FILE_NAME = re.compile(r"^[A-Za-z0-9._+\- ]+$")  # Gitlab::Regex.ml_model_file_name_regex


def stored_name(raw_path: str) -> str:
    """Validate ``(*path/):file_name`` and encode it as GitLab stores it: ``dir%2Fweights.bin``."""
    segments = [unquote(s) for s in raw_path.split("/") if s]  # nginx merges empty segments
    if not segments:
        raise grape("file_name is missing")
    *directories, file_name = segments
    if _traverses(file_name):
        raise grape("file_name should be a valid file path")
    if not FILE_NAME.match(file_name):
        raise grape("file_name is invalid")
    if any(_traverses(d) for d in directories):
        raise grape("path should be a valid file path")
    return quote("/".join(segments), safe="")


def _package_status(request: Request) -> str | None:
    """Optional ``?status=default|hidden``: sets the package's status."""
    status = request.query.get("status", [None])[-1]
    if status is not None and status not in ("default", "hidden"):
        raise grape("status does not have a valid value")
    return status


def _traverses(segment: str) -> bool:
    return segment in (".", "..") or "/" in segment or "\\" in segment or "\x00" in segment


def upload(request: Request) -> Response:
    name = stored_name(request.args["path"])
    status = _package_status(request)
    registry = request.app.registry
    with registry.lock:
        caller, package = _upload_target(request)
        pipeline = registry.pipeline_of(caller.job, request.base_url) if caller.job else None
        if status is not None:
            package.status = status
    max_size = request.app.max_file_size
    if request.body.length is not None and request.body.length > max_size:
        raise too_large()  # rejected from Content-Length, before reading the body
    destination = registry.new_upload_path()
    size, sha256 = receive(request.body, destination, max_size)
    registry.add_file(package, name, (destination, size, sha256), pipeline)
    return Response(201, {"message": "201 Created"})


def _upload_target(request: Request) -> tuple[auth.Caller, Package]:
    caller, project = auth.authenticate(request, auth.ML_MODELS, required=True)
    auth.require_feature(project, "packages", forbidden())  # authorize_upload!
    auth.require_role(caller, "developer", forbidden())
    auth.require_feature(project, "model_experiments", not_found())  # read_model_registry
    auth.require_feature(project, "model_registry", not_found())
    auth.require_role(caller, "developer", not_found())  # write_model_registry
    package = _version_package(request, project, request.args["version"])
    return caller, package


def _version_package(request: Request, project: Project, version_ref: str) -> Package:
    found = project.version_by_id(int(version_ref)) if version_ref.isdigit() else None
    if found is None:
        raise not_found()
    package = request.app.registry.packages.get(found[1].package_id)
    if package is None:
        raise bad_request("Package creation failed")
    return package


def download(request: Request) -> Response:
    name = stored_name(request.args["path"])
    with request.app.registry.lock:
        caller = auth.identify(request, auth.ML_MODELS)
        auth.check_scope(request, caller)
        project = auth.visible_project(request, caller)
        auth.require_feature(project, "model_experiments", not_found())
        auth.require_feature(project, "model_registry", not_found())
        record = _live_file(request, project, request.args["version"], name)
    return _file_response(request, record)


def _live_file(request: Request, project: Project, version_ref: str, name: str) -> PackageFile:
    package = _version_package(request, project, version_ref)
    record = package.newest_file(name) if package.status != "pending_destruction" else None
    if record is None:
        raise message(404, "404 Not found")  # ActiveRecord::RecordNotFound
    package.last_downloaded_at = now_iso()
    return record


def _file_response(request: Request, record: PackageFile) -> Response:
    file_name = unquote(record.name).rsplit("/", 1)[-1]
    return file_response(request, record.disk_path, file_name)


def list_artifacts(request: Request) -> Response:
    """``?path=<mv_id>`` lists the version's files by stored name; a sub-path lists nothing."""
    _, project = mlflow_authorize(request, write=False)
    target = request.params().get("path")
    if target is None:
        raise internal_error()  # GitLab calls nil.split here
    version_ref, _, sub_path = str(target).partition("/")
    if sub_path:
        return Response(body={"files": []})  # MLflow probing a "directory": never a 404
    package = _version_package(request, project, version_ref)
    files = [{"path": f.name, "file_size": f.size, "is_dir": False} for f in package.live_files()]
    return Response(body={"files": files})


def download_artifact(request: Request) -> Response:
    """GitLab looks the file up with ``CGI.escape`` (space -> ``+``), unlike uploads (``%20``):
    a file whose name has a space is stored but not found here, as on GitLab."""
    with request.app.registry.lock:
        _, project = mlflow_authorize(request, write=False)
        name = quote_plus(unquote(request.args["path"]), safe="")
        record = _live_file(request, project, request.args["version"], name)
    return _file_response(request, record)


def register(router: Router) -> None:
    router.add("PUT", FILES, upload, streams=True, since=MODEL_REGISTRY_SINCE)
    router.add("GET", FILES, download, streams=True, since=MODEL_REGISTRY_SINCE)
    router.add("GET", ARTIFACTS, list_artifacts)
    router.add(
        "GET", ARTIFACTS + r"/(?P<version>[^/]+)/(?P<path>.+)", download_artifact, streams=True
    )
