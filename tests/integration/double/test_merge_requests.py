"""The double's merge-request and MR-notes routes (lib/api/merge_requests.rb, lib/api/notes.rb)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.gitlab_double.seed import (
    DEVELOPER_TOKEN,
    GUEST_TOKEN,
    JOB_TOKEN,
    MAINTAINER_TOKEN,
    READ_API_TOKEN,
    REPORTER_TOKEN,
)

from .helpers import TIMEOUT, bearer, job_token, private_token


def _url(base: str, tail: str = "", project: int | str = 1) -> str:
    return f"{base}/api/v4/projects/{project}/merge_requests{tail}"


def _get(url: str, headers: dict[str, str], **params: Any) -> requests.Response:
    return requests.get(url, headers=headers, params=params, timeout=TIMEOUT)


def _note(base: str, iid: int, body: str, headers: dict[str, str]) -> requests.Response:
    return requests.post(
        _url(base, f"/{iid}/notes"), json={"body": body}, headers=headers, timeout=TIMEOUT
    )


def test_a_merge_request_is_created_and_updated_by_the_control_route(double: Any) -> None:
    double.control.add_merge_request(7, source_branch="feat", target_branch="main")
    got = _get(_url(double.url, "/7"), private_token(DEVELOPER_TOKEN))
    assert got.status_code == 200
    body = got.json()
    assert (body["iid"], body["source_branch"], body["target_branch"]) == (7, "feat", "main")
    assert body["state"] == "opened"
    assert body["web_url"] == f"{double.url}/group/project/-/merge_requests/7"
    double.control.add_merge_request(7, source_branch="feat", state="merged")
    again = _get(_url(double.url, "/7"), private_token(DEVELOPER_TOKEN)).json()
    assert (again["id"], again["state"]) == (body["id"], "merged")
    assert _get(_url(double.url, "/8"), private_token(DEVELOPER_TOKEN)).json() == {
        "message": "404 Not found"
    }


def test_the_list_filters_like_gitlab(double: Any) -> None:
    double.control.add_merge_request(1, source_branch="a", state="merged")
    double.control.add_merge_request(2, source_branch="b", target_branch="dev")
    double.control.add_merge_request(3, source_branch="a", state="closed")
    headers = private_token(DEVELOPER_TOKEN)

    def iids(**params: Any) -> list[int]:
        got = _get(_url(double.url), headers, **params)
        assert got.status_code == 200, got.text
        return [mr["iid"] for mr in got.json()]

    assert iids() == [3, 2, 1]  # state=all, newest first
    assert iids(state="opened") == [2]
    assert iids(source_branch="a", sort="asc") == [1, 3]
    assert iids(target_branch="dev") == [2]
    assert iids(**{"iids[]": [1, 2]}) == [2, 1]
    paged = _get(_url(double.url), headers, per_page=2, page=2)
    assert [mr["iid"] for mr in paged.json()] == [1]
    assert paged.headers["X-Total"] == "3"
    bad = _get(_url(double.url), headers, state="open")
    assert (bad.status_code, bad.json()) == (400, {"error": "state does not have a valid value"})


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        (job_token(JOB_TOKEN), 200),  # job_token_allowed on the GET routes
        (bearer(JOB_TOKEN), 200),
        (private_token(READ_API_TOKEN), 200),
        (private_token(REPORTER_TOKEN), 200),
        (private_token(GUEST_TOKEN), 403),
        ({}, 404),
    ],
)
def test_who_may_read_a_merge_request(double: Any, headers: dict[str, str], status: int) -> None:
    double.control.add_merge_request(1)
    assert _get(_url(double.url, "/1"), headers).status_code == status


def test_a_note_is_created_listed_and_edited_by_its_author_only(double: Any) -> None:
    double.control.add_merge_request(4)
    mine = private_token(DEVELOPER_TOKEN)
    created = _note(double.url, 4, "first", mine)
    assert created.status_code == 201
    note = created.json()
    assert (note["body"], note["noteable_iid"], note["noteable_type"]) == (
        "first",
        4,
        "MergeRequest",
    )
    assert note["author"]["username"] == "developer-user"
    other = _note(double.url, 4, "someone else", private_token(MAINTAINER_TOKEN)).json()
    listed = _get(_url(double.url, "/4/notes"), job_token(JOB_TOKEN))  # reading: job token OK
    assert [n["id"] for n in listed.json()] == [other["id"], note["id"]]  # newest first
    edit = _url(double.url, f"/4/notes/{note['id']}")
    put = requests.put(edit, json={"body": "second"}, headers=mine, timeout=TIMEOUT)
    assert (put.status_code, put.json()["body"]) == (200, "second")
    theirs = _url(double.url, f"/4/notes/{other['id']}")
    refused = requests.put(theirs, json={"body": "x"}, headers=mine, timeout=TIMEOUT)
    assert (refused.status_code, refused.json()) == (403, {"message": "403 Forbidden"})
    blank = requests.put(edit, json={"body": ""}, headers=mine, timeout=TIMEOUT)
    assert (blank.status_code, blank.json()) == (400, {"error": "body is empty"})


@pytest.mark.parametrize("headers", [job_token(JOB_TOKEN), bearer(JOB_TOKEN)])
def test_a_job_token_cannot_write_notes(double: Any, headers: dict[str, str]) -> None:
    double.control.add_merge_request(4)
    got = _note(double.url, 4, "from a job", headers)
    assert (got.status_code, got.json()) == (401, {"message": "401 Unauthorized"})


def test_note_writes_need_the_api_scope_and_a_readable_merge_request(double: Any) -> None:
    double.control.add_merge_request(4)
    assert _note(double.url, 4, "x", private_token(READ_API_TOKEN)).status_code == 403
    missing = _note(double.url, 5, "x", private_token(DEVELOPER_TOKEN))
    assert (missing.status_code, missing.json()) == (
        404,
        {"message": "404 MergeRequest Not Found"},
    )
    assert _note(double.url, 4, "x", private_token(GUEST_TOKEN)).status_code == 404


def test_the_note_size_limit_is_gitlabs(double: Any) -> None:
    double.control.add_merge_request(4)
    headers = private_token(DEVELOPER_TOKEN)
    assert _note(double.url, 4, "é" * 1_000_000, headers).status_code == 201  # characters
    too_long = _note(double.url, 4, "x" * 1_000_001, headers)
    assert too_long.status_code == 400
    assert "is too long (maximum is 1000000 characters)" in too_long.json()["message"]
    blank = _note(double.url, 4, "  ", headers)
    assert blank.status_code == 400


def test_reset_forgets_merge_requests(double: Any) -> None:
    double.control.add_merge_request(4)
    double.control.reset()
    assert _get(_url(double.url, "/4"), private_token(DEVELOPER_TOKEN)).status_code == 404


def test_only_the_author_deletes_a_note_and_user_names_the_token_owner(double: Any) -> None:
    double.control.add_merge_request(4)
    note = _note(double.url, 4, "mine", private_token(DEVELOPER_TOKEN)).json()
    url = _url(double.url, f"/4/notes/{note['id']}")
    other = requests.delete(url, headers=private_token(MAINTAINER_TOKEN), timeout=TIMEOUT)
    assert other.status_code == 403
    mine = requests.delete(url, headers=private_token(DEVELOPER_TOKEN), timeout=TIMEOUT)
    assert (mine.status_code, mine.content) == (204, b"")
    assert _get(_url(double.url, "/4/notes"), private_token(DEVELOPER_TOKEN)).json() == []
    me = _get(f"{double.url}/api/v4/user", bearer(DEVELOPER_TOKEN)).json()
    assert (me["id"], me["username"]) == (note["author"]["id"], "developer-user")
    assert _get(f"{double.url}/api/v4/user", job_token(JOB_TOKEN)).status_code == 401
