"""The double's GraphQL endpoint answers ``mlModelVersionDelete`` as GitLab does: auth, errors,
and a deletion that GitLab's own REST routes then confirm (version, package and files gone)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.gitlab_double.pytest_plugin import Double
from tests.integration.double.helpers import (
    TIMEOUT,
    call,
    mlflow_url,
    model_with_version,
    packages_url,
    upload,
)

DELETE = """
mutation gmrDelete($id: MlModelVersionID!) {
  mlModelVersionDelete(input: {id: $id}) { modelVersion { id version } errors }
}
"""


def graphql(double: Double, variables: dict[str, Any], token: str | None, **kw: Any) -> Any:
    import requests

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {"query": kw.pop("query", DELETE), "variables": variables}
    return requests.post(f"{double.url}/api/graphql", json=body, headers=headers, timeout=TIMEOUT)


def gid(version: dict[str, Any]) -> str:
    return f"gid://gitlab/Ml::ModelVersion/{version['version']}"


@pytest.fixture
def stored(double: Double) -> dict[str, Any]:
    version = model_with_version(double.url, "m", "1.0.0")
    assert upload(double.url, version["version"], "w.bin", b"weights").status_code == 201
    return version


def test_a_maintainer_deletes_the_version_its_package_and_files(
    double: Double, stored: dict[str, Any]
) -> None:
    other = call(
        "POST",
        mlflow_url(double.url, "model-versions/create"),
        json={"name": "m", "tags": [{"key": "gitlab.version", "value": "2.0.0"}]},
    )
    assert other.status_code == 200
    resp = graphql(double, {"id": gid(stored)}, double.maintainer_token)
    assert resp.status_code == 200
    assert resp.json() == {
        "data": {
            "mlModelVersionDelete": {
                "modelVersion": {"id": gid(stored), "version": "1.0.0"},
                "errors": [],
            }
        }
    }
    got = call(
        "GET",
        mlflow_url(double.url, "model-versions/get"),
        params={"name": "m", "version": "1.0.0"},
    )
    assert got.status_code == 404
    listed = call("GET", packages_url(double.url), params={"package_type": "ml_model"}).json()
    assert [p["version"] for p in listed] == ["2.0.0"]  # the other version is untouched
    assert (
        call(
            "GET",
            f"{double.url}/api/v4/projects/1/packages/ml_models/{stored['version']}/files/w.bin",
        ).status_code
        == 404
    )
    # Its run stays, unlinked: now it can be deleted as a plain run.
    run = call("POST", mlflow_url(double.url, "runs/delete"), json={"run_id": stored["run_id"]})
    assert run.status_code == 200, run.text


def test_an_unknown_id_is_a_payload_error(double: Double) -> None:
    resp = graphql(double, {"id": "gid://gitlab/Ml::ModelVersion/999"}, double.maintainer_token)
    assert resp.json()["data"]["mlModelVersionDelete"] == {
        "modelVersion": None,
        "errors": ["Model version not found"],
    }


def test_a_developer_cannot_destroy_the_package_and_nothing_changes(
    double: Double, stored: dict[str, Any]
) -> None:
    resp = graphql(double, {"id": gid(stored)}, double.developer_token)
    payload = resp.json()["data"]["mlModelVersionDelete"]
    assert payload["errors"] == ["You don't have access to this package"]
    got = call(
        "GET",
        mlflow_url(double.url, "model-versions/get"),
        params={"name": "m", "version": "1.0.0"},
    )
    assert got.status_code == 200


@pytest.mark.parametrize("who", ["reporter_token", "read_api_token", None])
def test_callers_without_write_access_get_resource_not_available(
    double: Double, stored: dict[str, Any], who: str | None
) -> None:
    token = getattr(double, who) if who else None
    body = graphql(double, {"id": gid(stored)}, token).json()
    assert body["data"] == {"mlModelVersionDelete": None}
    assert body["errors"][0]["path"] == ["mlModelVersionDelete"]
    assert "you don't have permission" in body["errors"][0]["message"]


@pytest.mark.parametrize("token", ["glpat-unknown", "job"])
def test_a_token_matching_no_user_is_401_invalid_token(
    double: Double, stored: dict[str, Any], token: str
) -> None:
    value = double.job_token if token == "job" else token
    resp = graphql(double, {"id": gid(stored)}, value)
    assert (resp.status_code, resp.json()) == (401, {"errors": [{"message": "Invalid token"}]})


@pytest.mark.parametrize(
    ("variables", "query", "expected"),
    [
        ({"id": "12"}, DELETE, '"12" is not a valid Global ID'),
        ({"id": "gid://gitlab/Project/1"}, DELETE, "not a valid ID for Ml::ModelVersion"),
        ({}, DELETE, "Expected value to not be null"),
        ({}, "mutation { mlModelVersionDelete(input: {id: $x}) { errors } }", "not declared"),
        ({}, "{ mlModelVersions { id } }", "Field 'mlModelVersions' doesn't exist on type 'Query'"),
        ({}, "mutation { mlModelVersionDelete { errors } }", "missing required arguments: input"),
        ({}, 'mutation { mlModelVersionDelete(input: {id: "x"}) }', "must have selections"),
        ({}, "mutation { mlModelVersionDelete(input: ", "Unexpected end of document"),
    ],
)
def test_invalid_documents_and_variables_are_top_level_errors(
    double: Double, variables: dict[str, Any], query: str, expected: str
) -> None:
    resp = graphql(double, variables, double.maintainer_token, query=query)
    body = resp.json()
    assert resp.status_code == 200 and "data" not in body
    assert expected in str(body["errors"])


def test_a_mutation_in_a_get_is_refused(double: Double, stored: dict[str, Any]) -> None:
    resp = call(
        "GET",
        f"{double.url}/api/graphql",
        token=double.maintainer_token,
        params={"query": DELETE, "variables": f'{{"id": "{gid(stored)}"}}'},
    )
    assert resp.status_code == 422
    assert resp.json() == {"errors": [{"message": "Mutations are forbidden in GET requests"}]}
