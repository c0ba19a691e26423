"""Merge requests (read) and their notes (list, create, update), as GitLab's REST API serves them.

Followed (repo gitlabhq/gitlabhq):
- lib/api/merge_requests.rb (blob 56136141113 as stored): ``GET :id/merge_requests`` and
  ``GET :id/merge_requests/:merge_request_iid`` set ``job_token_allowed: true`` (policy
  ``read_merge_requests``); the list filters ``state`` (opened, closed, locked, merged, all;
  default all), ``source_branch``, ``target_branch``, ``iids[]``, orders by ``created_at`` or
  ``updated_at``, ``sort`` desc by default, paginated. An unknown iid is ActiveRecord's
  RecordNotFound: 404 ``{"message": "404 Not found"}``. Entity fields:
  lib/api/entities/merge_request_basic.rb (a subset: the ones clients read).
- lib/api/notes.rb and lib/api/helpers/notes_helpers.rb (commit 017a6c129d6a): every notes route
  calls ``authenticate!``; only the GET routes set ``job_token_allowed`` (``job_token_policy_for``
  raises for anything but GET/HEAD), so a job token on POST/PUT is not a credential at all and
  the answer is 401. ``find_noteable`` answers 404 ``"404 MergeRequest Not Found"`` when the
  caller may not read the MR; ``update_note`` needs ``admin_note`` (the note's author only:
  403 otherwise); the list is ordered ``created_at`` desc by default. A validation failure is
  ``bad_request!("Note #{note.errors.messages}")``.
- lib/api/users.rb ``GET /user``: the token's own user (who wrote a note); a job token is not
  accepted there by the double (doc/ci/jobs/ci_job_token.md does not list it).
- app/models/concerns/notes/active_record.rb: ``validates :note, presence: true`` and
  ``length: { maximum: Gitlab::Database::MAX_TEXT_SIZE_LIMIT }`` (lib/gitlab/database.rb:
  1_000_000 characters). ``PUT`` declares ``body`` with ``allow_blank: false`` (Grape: "body is
  empty").

Simplified: private projects; reading merge requests needs Reporter+ (Guests get 403 on the
routes that ``authorize!`` and 404 on notes); no rate limit (``notes_create``), no system notes,
no quick actions, no internal notes. ``DELETE`` (author only) answers 204
(``destroy_conditionally!``). The store lives on the App and is emptied by reset.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from tests.gitlab_double import auth
from tests.gitlab_double.errors import forbidden, grape, message
from tests.gitlab_double.pagination import paginate
from tests.gitlab_double.params import choice, required_int
from tests.gitlab_double.records import Project, User
from tests.gitlab_double.routing import Request, Response, Router
from tests.gitlab_double.state import now_iso

PROJECT = r"/api/v4/projects/(?P<project>[^/]+)"
MRS = PROJECT + r"/merge_requests"
MR = MRS + r"/(?P<iid>[0-9]+)"
STATES = ("opened", "closed", "locked", "merged")
CONTROL_USER = User(0, "double-control")  # authors MRs made through the control route


@dataclass
class Note:
    id: int
    body: str
    author: User
    created_at: str
    updated_at: str


@dataclass
class MergeRequest:
    id: int
    iid: int
    project_id: int
    source_branch: str
    target_branch: str
    state: str
    title: str
    sha: str
    created_at: str
    updated_at: str
    notes: list[Note] = field(default_factory=list)


class MergeRequestStore:
    """Merge requests per (project id, iid); mutated only under the registry lock."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.by_key: dict[tuple[int, int], MergeRequest] = {}
        self._ids = itertools.count(1)
        self._note_ids = itertools.count(1)

    def put(self, project_id: int, iid: int, fields: dict[str, str]) -> MergeRequest:
        """Create the MR, or update the one with this iid (the control route's upsert)."""
        found = self.by_key.get((project_id, iid))
        stamp = now_iso()
        if found is None:
            found = MergeRequest(
                next(self._ids), iid, project_id, **fields, created_at=stamp, updated_at=stamp
            )
            self.by_key[(project_id, iid)] = found
            return found
        for name, value in fields.items():
            setattr(found, name, value)
        found.updated_at = stamp
        return found

    def of_project(self, project_id: int) -> list[MergeRequest]:
        return [mr for (pid, _), mr in self.by_key.items() if pid == project_id]

    def new_note(self, body: str, author: User) -> Note:
        stamp = now_iso()
        return Note(next(self._note_ids), body, author, stamp, stamp)


def store(request: Request) -> MergeRequestStore:
    store: MergeRequestStore = request.app.merge_requests
    return store


# --- control -------------------------------------------------------------------------------------


def control_put(request: Request) -> Response:
    """``{project_id, iid, source_branch, target_branch, state[, title, sha]}``: upsert an MR."""
    params = request.params()
    project_id = required_int(params, "project_id")
    if project_id not in request.app.registry.projects:
        raise grape("no such project", 404)
    iid = required_int(params, "iid")
    state = str(params.get("state", "opened"))
    if state not in STATES:
        raise grape(f"state must be one of {', '.join(STATES)}")
    fields = {
        "source_branch": str(params.get("source_branch") or f"feature-{iid}"),
        "target_branch": str(params.get("target_branch") or "main"),
        "state": state,
        "title": str(params.get("title") or f"Merge request {iid}"),
        "sha": str(params.get("sha") or "0" * 40),
    }
    found = store(request).by_key.get((project_id, iid))
    if found is not None:  # an update keeps what was not sent
        fields = {k: v for k, v in fields.items() if k in params}
    merge_request = store(request).put(project_id, iid, fields)
    return Response(body={"id": merge_request.id, "iid": merge_request.iid})


# --- merge requests ------------------------------------------------------------------------------


def _reader(request: Request) -> tuple[auth.Caller, Project]:
    caller, project = auth.authenticate(request, auth.PROJECTS, required=False)
    auth.require_role(caller, "reporter", forbidden())  # authorize! :read_merge_request
    return caller, project


def _find(request: Request, project: Project) -> MergeRequest:
    found = store(request).by_key.get((project.id, int(request.args["iid"])))
    if found is None:
        raise message(404, "404 Not found")  # find_by!(iid:) -> RecordNotFound
    return found


def get_merge_request(request: Request) -> Response:
    _, project = _reader(request)
    return Response(body=_mr_json(request, project, _find(request, project)))


def list_merge_requests(request: Request) -> Response:
    _, project = _reader(request)
    params = request.params()
    state = choice(params, "state", (*STATES, "all"), "all")
    order_by = choice(params, "order_by", ("created_at", "updated_at"), "created_at")
    descending = choice(params, "sort", ("asc", "desc"), "desc") == "desc"
    found = [mr for mr in store(request).of_project(project.id) if state in ("all", mr.state)]
    for name in ("source_branch", "target_branch"):
        if params.get(name):
            found = [mr for mr in found if getattr(mr, name) == params[name]]
    iids = _iids(request)
    if iids is not None:
        found = [mr for mr in found if mr.iid in iids]
    found.sort(key=lambda mr: (getattr(mr, order_by), mr.id), reverse=descending)
    page, headers = paginate(request, found)
    return Response(body=[_mr_json(request, project, mr) for mr in page], headers=headers)


def _iids(request: Request) -> set[int] | None:
    """``iids[]=1&iids[]=2`` or ``iids=1,2`` (CommaSeparatedToIntegerArray)."""
    raw = request.query.get("iids[]") or request.query.get("iids")
    if not raw:
        return None
    try:
        return {int(part) for value in raw for part in value.split(",") if part}
    except ValueError:
        raise grape("iids is invalid") from None


def user_json(request: Request, user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "name": user.username,
        "state": "active",
        "locked": False,
        "avatar_url": None,
        "web_url": f"{request.base_url}/{user.username}",
    }


def _mr_json(request: Request, project: Project, mr: MergeRequest) -> dict[str, Any]:
    return {
        "id": mr.id,
        "iid": mr.iid,
        "project_id": project.id,
        "title": mr.title,
        "description": "",
        "state": mr.state,
        "created_at": mr.created_at,
        "updated_at": mr.updated_at,
        "merged_at": mr.updated_at if mr.state == "merged" else None,
        "closed_at": mr.updated_at if mr.state == "closed" else None,
        "target_branch": mr.target_branch,
        "source_branch": mr.source_branch,
        "author": user_json(request, CONTROL_USER),
        "source_project_id": project.id,
        "target_project_id": project.id,
        "draft": False,
        "work_in_progress": False,
        "sha": mr.sha,
        "merge_commit_sha": None,
        "user_notes_count": len(mr.notes),
        "references": {"short": f"!{mr.iid}", "relative": f"!{mr.iid}", "full": _ref(project, mr)},
        "web_url": f"{request.base_url}/{project.path}/-/merge_requests/{mr.iid}",
    }


def _ref(project: Project, mr: MergeRequest) -> str:
    return f"{project.path}!{mr.iid}"


def register(router: Router) -> None:
    router.add("GET", MRS, list_merge_requests)
    router.add("GET", MR, get_merge_request)
    from tests.gitlab_double import mr_notes  # it imports this module's records and helpers

    mr_notes.register(router)


def register_control(router: Router) -> None:
    router.add("POST", "/-/double/merge_requests", control_put)
