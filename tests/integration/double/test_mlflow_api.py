"""Reference §1.3-§1.5 and §11.7: MLflow routes, response shapes and run/CI-job linking."""

from __future__ import annotations

import re
from typing import Any

import requests

from tests.gitlab_double.seed import JOB_ID

from .helpers import call, create_model, create_version, mlflow_url, model_with_version

RUN_ID = "run_id"


def _get(base: str, route: str, **params: Any) -> requests.Response:
    return call("GET", mlflow_url(base, route), params=params)


def _post(base: str, route: str, **body: Any) -> requests.Response:
    return call("POST", mlflow_url(base, route), json=body)


def _error(resp: requests.Response) -> tuple[int, str]:
    return resp.status_code, resp.json()["error_code"]


def test_model_version_has_gitlabs_fixed_fields_and_a_source_url(double: Any) -> None:
    version = model_with_version(double.url, "m", "1.0.0")
    assert version["name"] == "m"
    assert (version["user_id"], version["current_stage"]) == (None, "development")
    assert (version["status"], version["status_message"], version["run_link"]) == ("READY", "", "")
    assert version["description"] == ""
    assert {"key": "gitlab.version", "value": "1.0.0"} in version["tags"]
    source = rf"{re.escape(double.url)}/group/project/-/ml/models/\d+/versions/{version['version']}"
    assert re.fullmatch(source, version["source"]), version["source"]


def test_registered_model_lists_all_versions_in_the_model_version_shape(double: Any) -> None:
    create_model(double.url, "m", description="d", tags=[{"key": "team", "value": "fraud"}])
    for semver in ("1.0.0", "2.0.0", "1.5.0"):
        create_version(double.url, "m", semver)
    model = _get(double.url, "registered-models/get", name="m").json()["registered_model"]
    assert (model["name"], model["description"]) == ("m", "d")
    assert model["tags"] == [{"key": "team", "value": "fraud"}]
    aliases = sorted(v["aliases"][0] for v in model["latest_versions"])
    assert aliases == ["1.0.0", "1.5.0", "2.0.0"]
    assert all(v["version"].isdigit() for v in model["latest_versions"])


def test_get_latest_versions_is_the_highest_semver_not_the_highest_string(double: Any) -> None:
    create_model(double.url, "m")
    for semver in ("1.2.0", "1.10.0", "1.9.0"):
        create_version(double.url, "m", semver)
    latest = _post(double.url, "registered-models/get-latest-versions", name="m").json()
    assert [v["aliases"] for v in latest["model_versions"]] == [["1.10.0"]]
    missing = _post(double.url, "registered-models/get-latest-versions", name="nope")
    assert _error(missing) == (404, "RESOURCE_DOES_NOT_EXIST")


def test_alias_route_finds_a_version_by_its_semver(double: Any) -> None:
    version = model_with_version(double.url, "m", "1.2.3")
    found = _get(double.url, "registered-models/alias", name="m", alias="1.2.3").json()
    assert found["model_version"]["version"] == version["version"]
    missing = _get(double.url, "registered-models/alias", name="m", alias="9.9.9")
    assert missing.status_code == 404


def test_registered_model_update_and_delete(double: Any) -> None:
    create_model(double.url, "m")
    update = mlflow_url(double.url, "registered-models/update")
    updated = call("PATCH", update, json={"name": "m", "description": "new"})
    assert updated.json()["registered_model"]["description"] == "new"
    assert _error(call("PATCH", update, json={"name": "nope", "description": "x"}))[0] == 404
    delete = mlflow_url(double.url, "registered-models/delete")
    assert call("DELETE", delete, json={"name": "m"}).json() == {}
    assert _error(_get(double.url, "registered-models/get", name="m")) == (
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    assert call("DELETE", delete, json={"name": "m"}).status_code == 404


def test_model_version_update_needs_name_version_and_description(double: Any) -> None:
    model_with_version(double.url, "m", "1.0.0")
    resp = call(
        "PATCH",
        mlflow_url(double.url, "model-versions/update"),
        json={"name": "m", "version": "1.0.0"},
    )
    assert _error(resp) == (400, "INVALID_PARAMETER_VALUE")


def test_a_model_name_may_not_clash_with_an_experiment_named_model_prefix(double: Any) -> None:
    assert _post(double.url, "experiments/create", name="[model]taken").status_code == 200
    assert _error(_post(double.url, "registered-models/create", name="taken")) == (
        400,
        "RESOURCE_ALREADY_EXISTS",
    )


def test_experiments_create_get_and_duplicates(double: Any) -> None:
    experiment_id = _post(double.url, "experiments/create", name="exp").json()["experiment_id"]
    assert isinstance(experiment_id, str)
    got = _get(double.url, "experiments/get", experiment_id=experiment_id).json()["experiment"]
    assert (got["name"], got["lifecycle_stage"]) == ("exp", "active")
    assert got["artifact_location"] == "not_implemented"
    assert _error(_post(double.url, "experiments/create", name="exp")) == (
        400,
        "RESOURCE_ALREADY_EXISTS",
    )
    missing = _get(double.url, "experiments/get-by-name", experiment_name="nope")
    assert _error(missing) == (404, "RESOURCE_DOES_NOT_EXIST")


def _new_run(base: str, **fields: Any) -> dict[str, Any]:
    experiment_id = _post(base, "experiments/create", name="exp").json()["experiment_id"]
    run: dict[str, Any] = _post(base, "runs/create", experiment_id=experiment_id, **fields).json()[
        "run"
    ]
    return run


def test_runs_create_names_the_run_and_update_finishes_it(double: Any) -> None:
    run = _new_run(double.url, tags=[{"key": "mlflow.runName", "value": "nightly"}])
    info = run["info"]
    assert (info["run_name"], info["status"], info["lifecycle_stage"]) == (
        "nightly",
        "RUNNING",
        "active",
    )
    done = _post(double.url, "runs/update", run_id=info["run_id"], status="FINISHED", end_time=1234)
    assert done.json()["run_info"]["status"] == "FINISHED"
    assert done.json()["run_info"]["end_time"] == 1234
    assert _error(_get(double.url, "runs/get", run_id="no-such-run")) == (
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


def test_log_parameter_twice_is_400_and_log_batch_stores_everything(double: Any) -> None:
    run_id = model_with_version(double.url, "m", "1.0.0")[RUN_ID]
    assert (
        _post(double.url, "runs/log-parameter", run_id=run_id, key="lr", value="0.1").json() == {}
    )
    again = _post(double.url, "runs/log-parameter", run_id=run_id, key="lr", value="0.2")
    assert _error(again) == (400, "INVALID_PARAMETER_VALUE")
    batch = {
        "metrics": [{"key": "auc", "value": 0.9, "timestamp": 1, "step": 0}],
        "params": [{"key": "depth", "value": "3"}],
        "tags": [{"key": "gitlab.CI_JOB_ID", "value": JOB_ID}],
    }
    assert _post(double.url, "runs/log-batch", run_id=run_id, **batch).json() == {}
    state = double.control.version("m", "1.0.0")
    assert state["run"]["params"] == {"lr": "0.1", "depth": "3"}
    assert state["run"]["metrics"] == {"auc": 0.9}
    assert state["ci_job_id"] == JOB_ID  # log-batch tags link the job too


def test_ci_job_id_on_model_version_create_does_not_link_the_job(double: Any) -> None:
    create_model(double.url, "m")
    tags = [
        {"key": "gitlab.version", "value": "1.0.0"},
        {"key": "gitlab.CI_JOB_ID", "value": JOB_ID},
    ]
    assert _post(double.url, "model-versions/create", name="m", tags=tags).status_code == 200
    assert double.control.version("m", "1.0.0")["ci_job_id"] is None


def test_ci_job_id_in_log_batch_with_an_unknown_job_is_500(double: Any) -> None:
    run_id = model_with_version(double.url, "m", "1.0.0")[RUN_ID]
    resp = _post(
        double.url,
        "runs/log-batch",
        run_id=run_id,
        tags=[{"key": "gitlab.CI_JOB_ID", "value": "424242"}],
    )
    assert (resp.status_code, resp.json()) == (500, {"message": "500 Internal Server Error"})


def test_models_belong_to_their_project(double: Any) -> None:
    create_model(double.url, "m")
    in_production = call(
        "GET", mlflow_url(double.url, "registered-models/get", 2), params={"name": "m"}
    )
    assert _error(in_production) == (404, "RESOURCE_DOES_NOT_EXIST")
    create_model(double.url, "m", project=2)  # the same name is free in another project
