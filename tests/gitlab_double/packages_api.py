"""Packages REST API (reference §11.1-§11.4) and ``GET /projects/:id``."""

from __future__ import annotations

from typing import Any

from tests.gitlab_double import auth
from tests.gitlab_double.errors import forbidden, grape, message
from tests.gitlab_double.pagination import paginate
from tests.gitlab_double.params import optional_str
from tests.gitlab_double.records import Package, PackageFile, Project
from tests.gitlab_double.routing import Request, Response, Router

PROJECT = r"/api/v4/projects/(?P<project>[^/]+)"
PACKAGES = PROJECT + r"/packages"
PACKAGE = PACKAGES + r"/(?P<package>[0-9]+)"
PACKAGE_TYPES = [
    "maven",
    "npm",
    "conan",
    "nuget",
    "pypi",
    "composer",
    "generic",
    "golang",
    "debian",
    "rubygems",
    "helm",
    "terraform_module",
    "rpm",
    "ml_model",
]
STATUSES = ("default", "hidden", "processing", "error", "pending_destruction", "deprecated")
LISTED_BY_DEFAULT = ("default", "error", "deprecated")
DISPLAYABLE = ("default", "deprecated")
ORDER_KEYS = {
    "created_at": lambda p: p.created_at,
    "name": lambda p: p.name,
    "version": lambda p: p.version,  # a plain string sort, as GitLab does
    "type": lambda p: p.package_type,
}


def _reader(request: Request, minimum: str = "reporter") -> tuple[auth.Caller, Project]:
    caller, project = auth.authenticate(request, auth.PACKAGES, required=False)
    auth.require_feature(project, "packages", forbidden())  # authorize_read_package!
    auth.require_role(caller, minimum, forbidden())
    return caller, project


def _choice(params: dict[str, Any], name: str, allowed: Any, default: str | None) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return default
    if value not in allowed:
        raise grape(f"{name} does not have a valid value")
    return str(value)


def list_packages(request: Request) -> Response:
    caller, project = _reader(request)
    params = request.params()
    kind = _choice(params, "package_type", PACKAGE_TYPES, None)
    status = _choice(params, "status", STATUSES, None)
    order_by = _choice(params, "order_by", ORDER_KEYS, "created_at") or "created_at"
    descending = _choice(params, "sort", ("asc", "desc"), "asc") == "desc"
    packages = [p for p in _project_packages(request, project) if _listed(p, kind, status)]
    packages = _name_matches(packages, optional_str(params, "package_name"))
    wanted_version = params.get("package_version")
    if wanted_version:
        packages = [p for p in packages if p.version == wanted_version]
    packages.sort(key=ORDER_KEYS[order_by], reverse=descending)
    page, headers = paginate(request, packages)
    body = [_package_json(request, project, caller, p) for p in page]
    return Response(body=body, headers=headers)


def _project_packages(request: Request, project: Project) -> list[Package]:
    return [p for p in request.app.registry.packages.values() if p.project_id == project.id]


def _listed(package: Package, kind: str | None, status: str | None) -> bool:
    if kind is None and package.package_type == "terraform_module":
        return False
    if kind is not None and package.package_type != kind:
        return False
    return package.status == status if status else package.status in LISTED_BY_DEFAULT


def _name_matches(packages: list[Package], text: str) -> list[Package]:
    """Fuzzy: every whitespace-separated term is a case-insensitive substring of the name."""
    terms = text.lower().split()
    return [p for p in packages if all(t in p.name.lower() for t in terms)]


def _package_json(
    request: Request, project: Project, caller: auth.Caller, package: Package
) -> dict[str, Any]:
    links: dict[str, str] = {}
    if package.status in DISPLAYABLE:
        links["web_path"] = f"/{project.path}/-/packages/{package.id}"
    if caller.at_least("maintainer"):
        links["delete_api_path"] = (
            f"{request.base_url}/api/v4/projects/{project.id}/packages/{package.id}"
        )
    body: dict[str, Any] = {
        "id": package.id,
        "name": package.name,
        "version": package.version,
        "package_type": package.package_type,
        "status": package.status,
        "_links": links,
        "created_at": package.created_at,
        "last_downloaded_at": package.last_downloaded_at,
        "tags": [],
    }
    if package.pipeline is not None:
        body["pipeline"] = package.pipeline
        body["pipelines"] = []
    return body


def _find_package(request: Request, project: Project) -> Package:
    package = request.app.registry.packages.get(int(request.args["package"]))
    if package is None or package.project_id != project.id:
        raise message(404, "404 Not found")
    return package


def get_package(request: Request) -> Response:
    caller, project = _reader(request)
    package = _find_package(request, project)
    if package.status not in DISPLAYABLE:
        raise message(404, "Package not found")
    body = _package_json(request, project, caller, package)
    body["versions"] = _other_versions(request, project, package)
    return Response(body=body)


def _other_versions(request: Request, project: Project, package: Package) -> list[dict[str, Any]]:
    others = [
        p
        for p in _project_packages(request, project)
        if p.id != package.id
        and (p.name, p.package_type) == (package.name, package.package_type)
        and p.status in DISPLAYABLE
    ]
    others.sort(key=lambda p: p.version)
    items = []
    for other in others:
        item: dict[str, Any] = {
            "id": other.id,
            "version": other.version,
            "created_at": other.created_at,
            "tags": [],
        }
        if other.pipeline is not None:
            item["pipeline"] = other.pipeline
        items.append(item)
    return items


def list_files(request: Request) -> Response:
    _, project = _reader(request)
    package = _find_package(request, project)
    if package.status not in ("default", "error", "deprecated"):
        raise message(404, "404 Not found")
    params = request.params()
    order_by = _choice(params, "order_by", ("id", "created_at", "file_name"), "id") or "id"
    descending = _choice(params, "sort", ("asc", "desc"), "asc") == "desc"
    files = sorted(package.live_files(), key=lambda f: _file_key(f, order_by), reverse=descending)
    page, headers = paginate(request, files)
    return Response(body=[_file_json(f) for f in page], headers=headers)


def _file_key(record: PackageFile, order_by: str) -> Any:
    return {"id": record.id, "created_at": (record.created_at, record.id)}.get(
        order_by, (record.name, record.id)
    )


def _file_json(record: PackageFile) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": record.id,
        "package_id": record.package_id,
        "created_at": record.created_at,
        "file_name": record.name,
        "size": record.size,
        "file_md5": None,
        "file_sha1": None,
        "file_sha256": record.sha256,
    }
    if record.pipeline is not None:
        body["pipelines"] = [record.pipeline]
    return body


def delete_package(request: Request) -> Response:
    """Soft delete: pending destruction at once, gone from lists and downloads."""
    _, project = _reader(request, "maintainer")
    package = _find_package(request, project)
    if package.status == "pending_destruction":
        raise message(404, "404 Not found")
    package.status = "pending_destruction"
    return Response(204)


def delete_file(request: Request) -> Response:
    _, project = _reader(request, "maintainer")
    package = _find_package(request, project)
    file_id = int(request.args["file"])
    record = next((f for f in package.live_files() if f.id == file_id), None)
    if record is None:
        raise message(404, "404 Not found")
    record.status = "pending_destruction"
    return Response(204)


def get_project(request: Request) -> Response:
    _, project = auth.authenticate(request, auth.PROJECTS, required=False)
    body = {
        "id": project.id,
        "name": project.name,
        "path": project.name,
        "path_with_namespace": project.path,
        "web_url": f"{request.base_url}/{project.path}",
        "visibility": "private",
        "default_branch": "main",
        "packages_enabled": "packages" not in project.features_off,
    }
    return Response(body=body)


def get_version(request: Request) -> Response:
    """``GET /api/v4/version`` (lib/api/version.rb): any authenticated caller."""
    auth.authenticate_instance(request)
    release = request.app.release
    return Response(body={"version": release.text, "revision": "0123456789a"})


def register(router: Router) -> None:
    router.add("GET", r"/api/v4/version", get_version)
    router.add("GET", PROJECT, get_project)
    router.add("GET", PACKAGES, list_packages)
    router.add("GET", PACKAGE, get_package)
    router.add("DELETE", PACKAGE, delete_package)
    router.add("GET", PACKAGE + "/package_files", list_files)
    router.add("DELETE", PACKAGE + r"/package_files/(?P<file>[0-9]+)", delete_file)
