"""Notes on merge requests (list, get, create, update, delete) and ``GET /user``; the GitLab
files they follow are named in ``merge_requests.py``."""

from __future__ import annotations

from typing import Any

from tests.gitlab_double import auth
from tests.gitlab_double.errors import bad_request, forbidden, grape, message, not_found
from tests.gitlab_double.merge_requests import (
    MergeRequest,
    Note,
    store,
    user_json,
)
from tests.gitlab_double.pagination import paginate
from tests.gitlab_double.params import as_int, choice
from tests.gitlab_double.records import Project
from tests.gitlab_double.routing import Request, Response, Router
from tests.gitlab_double.state import now_iso

NOTES = r"/api/v4/projects/(?P<project>[^/]+)/merge_requests/(?P<iid>[0-9]+)/notes"
NOTE = NOTES + r"/(?P<note>[0-9]+)"
NOTE_MAX_CHARS = 1_000_000  # Gitlab::Database::MAX_TEXT_SIZE_LIMIT


def _noteable(request: Request) -> tuple[auth.Caller, Project, MergeRequest]:
    caller, project = auth.authenticate(request, auth.PROJECTS, required=True)
    if caller.job is not None and request.method not in auth.READ_METHODS:
        raise message(401, "401 Unauthorized")  # no job token finder on this route
    found = store(request).by_key.get((project.id, int(request.args["iid"])))
    if found is None or not caller.at_least("reporter"):
        raise not_found("MergeRequest")  # find_noteable: not_found!(noteable_type)
    return caller, project, found


def list_notes(request: Request) -> Response:
    _, project, mr = _noteable(request)
    params = request.params()
    order_by = choice(params, "order_by", ("created_at", "updated_at"), "created_at")
    descending = choice(params, "sort", ("asc", "desc"), "desc") == "desc"
    notes = sorted(mr.notes, key=lambda n: (getattr(n, order_by), n.id), reverse=descending)
    page, headers = paginate(request, notes)
    return Response(body=[_note_json(request, project, mr, n) for n in page], headers=headers)


def get_note(request: Request) -> Response:
    _, project, mr = _noteable(request)
    return Response(body=_note_json(request, project, mr, _find_note(request, mr)))


def create_note(request: Request) -> Response:
    caller, project, mr = _noteable(request)
    params = request.params()
    if params.get("body") is None:
        raise grape("body is missing")
    body = _valid_body(str(params["body"]))
    assert caller.user is not None
    note = store(request).new_note(body, caller.user)
    mr.notes.append(note)
    return Response(201, _note_json(request, project, mr, note))


def update_note(request: Request) -> Response:
    caller, project, mr = _noteable(request)
    note = _find_note(request, mr)
    if caller.user is None or caller.user.id != note.author.id:
        raise forbidden()  # authorize! :admin_note (the author only)
    params = request.params()
    if "body" in params:
        if not str(params["body"] or "").strip():
            raise grape("body is empty")
        note.body = _valid_body(str(params["body"]))
        note.updated_at = now_iso()
    return Response(body=_note_json(request, project, mr, note))


def delete_note(request: Request) -> Response:
    caller, _, mr = _noteable(request)
    note = _find_note(request, mr)
    if caller.user is None or caller.user.id != note.author.id:
        raise forbidden()  # authorize! :admin_note
    mr.notes.remove(note)
    return Response(204)


def _find_note(request: Request, mr: MergeRequest) -> Note:
    wanted = as_int(request.args, "note")
    found = next((n for n in mr.notes if n.id == wanted), None)
    if found is None:
        raise message(404, "404 Not found")  # noteable.notes.find -> RecordNotFound
    return found


def _valid_body(body: str) -> str:
    if not body.strip():
        raise bad_request('Note {:note=>["can\'t be blank"]}')
    if len(body) > NOTE_MAX_CHARS:
        reason = f'Note {{:note=>["is too long (maximum is {NOTE_MAX_CHARS} characters)"]}}'
        raise bad_request(reason)
    return body


def _note_json(request: Request, project: Project, mr: MergeRequest, note: Note) -> dict[str, Any]:
    return {
        "id": note.id,
        "type": None,
        "body": note.body,
        "attachment": None,
        "author": user_json(request, note.author),
        "created_at": note.created_at,
        "updated_at": note.updated_at,
        "system": False,
        "noteable_id": mr.id,
        "noteable_type": "MergeRequest",
        "project_id": project.id,
        "commit_id": None,
        "resolvable": False,
        "confidential": False,
        "internal": False,
        "imported": False,
        "imported_from": "none",
        "noteable_iid": mr.iid,
        "commands_changes": {},
    }


def current_user(request: Request) -> Response:
    caller = auth.identify(request, auth.PROJECTS)
    if caller.anonymous or caller.job is not None or caller.user is None:
        raise message(401, "401 Unauthorized")
    return Response(body=user_json(request, caller.user))


def register(router: Router) -> None:
    router.add("GET", r"/api/v4/user", current_user)
    router.add("GET", NOTES, list_notes)
    router.add("POST", NOTES, create_note)
    router.add("GET", NOTE, get_note)
    router.add("PUT", NOTE, update_note)
    router.add("DELETE", NOTE, delete_note)
