"""The double's Deployments and Environments APIs behave as GitLab's source says
(lib/api/deployments.rb, app/finders/deployments_finder.rb, lib/api/environments.rb)."""

from __future__ import annotations

from typing import Any

import requests

from tests.gitlab_double.pytest_plugin import Double

SHA = "0123456789abcdef0123456789abcdef01234567"


def _call(double: Double, verb: str, route: str, token: str, **body: Any) -> requests.Response:
    url = f"{double.api_url}/projects/{double.project_id}/{route}"
    kwargs: dict[str, Any] = {"params": body} if verb == "get" else {"json": body}
    return requests.request(verb, url, headers={"PRIVATE-TOKEN": token}, timeout=10, **kwargs)


def _create(double: Double, token: str, **overrides: Any) -> requests.Response:
    body = {
        "environment": "production",
        "sha": SHA,
        "ref": "main",
        "tag": False,
        "status": "running",
    }
    return _call(double, "post", "deployments", token, **(body | overrides))


def test_create_update_and_list_with_the_finders_rules(double: Double) -> None:
    created = _create(double, double.developer_token)
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["status"], body["deployable"], body["environment"]["name"]) == (
        "running",
        None,
        "production",
    )
    assert body["environment"]["tier"] == "production"
    done = _call(
        double, "put", f"deployments/{body['id']}", double.developer_token, status="success"
    )
    assert done.status_code == 200 and done.json()["status"] == "success"

    listed = _call(
        double,
        "get",
        "deployments",
        double.reporter_token,
        environment="production",
        status="success",
        order_by="finished_at",
        sort="desc",
        finished_after="1970-01-01T00:00:00Z",
    )
    assert listed.status_code == 200 and [d["id"] for d in listed.json()] == [body["id"]]
    unpaired = _call(double, "get", "deployments", double.reporter_token, order_by="finished_at")
    assert unpaired.status_code == 400
    assert unpaired.json() == {
        "message": "400 Bad request - `finished_at` filter and `finished_at` sorting must be paired"
    }
    bad = _call(double, "get", "deployments", double.reporter_token, order_by="name")
    assert (bad.status_code, bad.json()) == (400, {"error": "order_by does not have a valid value"})


def test_a_jobs_deployment_cannot_be_updated_through_the_api(double: Double) -> None:
    job = double.control.job_deployment("staging", 4242, "running")
    assert job["deployable"]["id"] == 4242 and job["deployable"]["web_url"].endswith("/jobs/4242")
    refused = _call(
        double, "put", f"deployments/{job['id']}", double.developer_token, status="success"
    )
    assert refused.status_code == 403
    assert refused.json() == {
        "message": "403 Forbidden - Deployments created using GitLab CI can not be updated "
        "using the API"
    }
    assert double.control.job_deployment("staging", 4242, "success")["status"] == "success"


def test_permissions_and_validation(double: Double) -> None:
    assert _create(double, double.reporter_token).status_code == 403
    assert _call(double, "get", "deployments", double.guest_token).status_code == 403
    missing = _call(double, "post", "deployments", double.developer_token, environment="x")
    assert missing.json() == {
        "error": "sha is missing, ref is missing, tag is missing, status is missing"
    }
    assert _create(double, double.developer_token, status="created").status_code == 400
    bad_name = _create(double, double.developer_token, environment="/prod")
    assert bad_name.status_code == 400 and "name" in bad_name.json()["message"]
    anonymous = requests.get(
        f"{double.api_url}/projects/{double.project_id}/deployments", timeout=10
    )
    assert anonymous.status_code == 401


def test_environments_by_name_and_their_url(double: Double) -> None:
    env = _create(double, double.developer_token).json()["environment"]
    url = f"{double.url}/group/project/-/ml/models/1/versions/1"
    updated = _call(
        double, "put", f"environments/{env['id']}", double.developer_token, external_url=url
    )
    assert updated.status_code == 200 and updated.json()["external_url"] == url
    blocked = _call(
        double, "put", f"environments/{env['id']}", double.developer_token, external_url="ftp://x"
    )
    assert blocked.status_code == 400
    named = _call(double, "get", "environments", double.reporter_token, name="production").json()
    assert [(e["name"], e["external_url"]) for e in named] == [("production", url)]
    assert _call(double, "get", "environments", double.reporter_token, name="staging").json() == []
