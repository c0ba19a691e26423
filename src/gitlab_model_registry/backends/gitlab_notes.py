"""A project's merge requests and their notes on GitLab: read an MR, and create or update in
place the one note a report owns (found by its hidden marker *and* written by this token's user).

Notes need the API token: GitLab's notes API sets ``job_token_allowed`` on its GET routes only
(lib/api/notes.rb, lib/api/helpers/notes_helpers.rb ``job_token_policy_for``), so a
``CI_JOB_TOKEN`` can never post or edit one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import gitlab

from gitlab_model_registry.backends._gitlab_errors import ApiErrors
from gitlab_model_registry.backends._gitlab_json import JsonCalls
from gitlab_model_registry.errors import NotFoundError, RegistryError
from gitlab_model_registry.retry import DEFAULT_POLICY, Notify, Retrier, RetryPolicy
from gitlab_model_registry.settings import Settings
from gitlab_model_registry.tls import verify_setting

PER_PAGE = 100
MAX_PAGES = 50  # 5,000 notes: an MR with more is not searched further


@dataclass(frozen=True)
class MergeRequest:
    """A merge request as the notes need it: branches, state and link."""

    iid: int
    source_branch: str
    target_branch: str
    state: str
    web_url: str


@dataclass(frozen=True)
class PostedNote:
    """The note ``post`` wrote, and whether it is new."""

    id: int
    created: bool  # False: an earlier note of ours was updated in place


class MergeRequestNotes:
    """One project's MRs and notes, with the API token (never the job token)."""

    def __init__(
        self,
        settings: Settings,
        *,
        notify: Notify | None = None,
        policy: RetryPolicy = DEFAULT_POLICY,
    ) -> None:
        assert settings.token is not None  # the caller skips the report without one
        self._gl = gitlab.Gitlab(
            settings.gitlab_url,
            oauth_token=settings.token.reveal(),
            ssl_verify=verify_setting(settings.ca_file),
            timeout=settings.timeout,
            retry_transient_errors=False,
        )
        self._calls = JsonCalls(self._gl, Retrier(policy, notify=notify))
        # A create is never retried blindly: an answer lost after GitLab stored the note would
        # make a second one. After a failure the notes are read again instead.
        self._once = JsonCalls(self._gl, Retrier(RetryPolicy(attempts=1), notify=notify))
        self._project = quote(settings.project, safe="")
        self._project_name = settings.project_path or settings.project

    def merge_request(self, iid: int) -> MergeRequest:
        raw = self._get(f"/projects/{self._project}/merge_requests/{iid}", {}, "the MR API")[0]
        return MergeRequest(
            iid=int(raw["iid"]),
            source_branch=str(raw.get("source_branch") or ""),
            target_branch=str(raw.get("target_branch") or ""),
            state=str(raw.get("state") or ""),
            web_url=str(raw.get("web_url") or ""),
        )

    def upsert(self, iid: int, marker: str, body: str) -> PostedNote:
        """Update our note that starts with ``marker`` (the newest, if several), else create one.
        A note by anyone else is never touched, whatever its text."""
        me = self._get("/user", {}, "the users API")[0]["id"]
        notes = f"/projects/{self._project}/merge_requests/{iid}/notes"
        ours = self._ours(notes, me, marker)
        if ours is not None:
            self._send(self._calls, "put", f"{notes}/{ours}", {"body": body})
            return PostedNote(ours, created=False)
        try:
            self._send(self._once, "post", notes, {"body": body})
        except RegistryError:
            if self._ours(notes, me, marker) is None:
                raise
        return PostedNote(self._one_left(notes, me, marker, body), created=True)

    def _one_left(self, path: str, me: Any, marker: str, body: str) -> int:
        """Two pipelines of one MR may both have created a note: all keep the oldest."""
        found = sorted(self._all_ours(path, me, marker))
        keep, extra = found[0], found[1:]
        for note_id in extra:
            self._delete(f"{path}/{note_id}")
        if extra:
            self._send(self._calls, "put", f"{path}/{keep}", {"body": body})
        return keep

    def _ours(self, path: str, me: Any, marker: str) -> int | None:
        found = self._all_ours(path, me, marker)
        return found[0] if found else None

    def _all_ours(self, path: str, me: Any, marker: str) -> list[int]:
        """Ids of this user's notes that start with ``marker``, newest first."""
        return [
            int(note["id"])
            for note in self._all(path)
            if (note.get("author") or {}).get("id") == me
            and str(note.get("body", "")).startswith(marker)
        ]

    def _delete(self, path: str) -> None:
        try:
            with ApiErrors("the notes API", self._project_name, registry=False):
                self._gl.http_request("delete", path, max_retries=0)
        except NotFoundError:
            pass  # the other pipeline removed it first

    def _all(self, path: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        page: str | None = "1"
        for _ in range(MAX_PAGES):  # newest first: our note is usually on the first page
            query = {"per_page": PER_PAGE, "page": page, "sort": "desc", "order_by": "created_at"}
            items, headers = self._get(path, query, "the notes API")
            found += [item for item in items if isinstance(item, dict)]
            page = headers.get("X-Next-Page") or None
            if not page:
                break
        return found

    def _get(self, path: str, query: dict[str, Any], api: str) -> tuple[Any, Any]:
        with ApiErrors(api, self._project_name, registry=False):
            return self._calls.call("get", path, query, None, f"reading {path}")

    def _send(
        self, calls: JsonCalls, verb: str, path: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        with ApiErrors("the notes API", self._project_name, registry=False):
            body, _ = calls.call(verb, path, None, payload, "writing the report note")
        result: dict[str, Any] = body
        return result
