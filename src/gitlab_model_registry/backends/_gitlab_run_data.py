"""What gmr keeps on a version's run on GitLab (its candidate) besides the files: params,
metrics, tags and status, through the MLflow-compatible runs routes."""

from __future__ import annotations

import time

from gitlab_model_registry.backends._gitlab_api import JsonApi
from gitlab_model_registry.models import RunData


def log_run_data(api: JsonApi, run_id: str, data: RunData) -> None:
    from gitlab_model_registry.metadata import batches

    now_ms = int(time.time() * 1000)  # GitLab shows it as the metric's date
    for batch in batches(data.params, data.metrics, data.tags):
        payload = {
            "run_id": run_id,
            "params": [{"key": k, "value": v} for k, v in batch.params],
            "metrics": [
                {"key": k, "value": v, "timestamp": now_ms, "step": 0} for k, v in batch.metrics
            ],
            "tags": [{"key": k, "value": v} for k, v in batch.tags],
        }
        api.mlflow("post", "runs/log-batch", payload)


def get_run_data(api: JsonApi, run_id: str) -> RunData:
    data = api.mlflow("get", "runs/get", {"run_id": run_id})["run"].get("data", {})
    return RunData(
        params={p["key"]: p["value"] for p in data.get("params", [])},
        metrics={m["key"]: float(m["value"]) for m in data.get("metrics", [])},
        tags={t["key"]: t["value"] for t in data.get("tags", [])},
    )


def run_status(api: JsonApi, run_id: str) -> str:
    info = api.mlflow("get", "runs/get", {"run_id": run_id})["run"].get("info", {})
    return str(info.get("status", ""))


def finish_run(api: JsonApi, run_id: str) -> None:
    # GitLab stores the candidate's status and end time as given (runs/update).
    payload = {"run_id": run_id, "status": "FINISHED", "end_time": int(time.time() * 1000)}
    api.mlflow("post", "runs/update", payload)
