"""What gmr keeps on a version's MLflow run besides its files: params, metrics, tags, status."""

from __future__ import annotations

import contextlib
import io
import time
from typing import Any

from gitlab_model_registry import metadata
from gitlab_model_registry.backends._mlflow_support import (
    SHA256_HASHED_TAG_PREFIX,
    SHA256_TAG_PREFIX,
    mlflow_errors,
)
from gitlab_model_registry.errors import ConflictError
from gitlab_model_registry.models import ModelVersion, RunData


def log_run_data(client: Any, run_id: str, data: RunData) -> None:
    from mlflow.entities import Metric, Param, RunTag

    current = get_run_data(client, run_id, everything=True)
    for key, value in data.params.items():
        if key in current.params and current.params[key] != value:
            raise ConflictError(
                f"param {key!r} is already {current.params[key]!r} on run {run_id}, not {value!r}",
                hint="MLflow never changes a logged param; publish a new version",
            )
    params = {k: v for k, v in data.params.items() if k not in current.params}
    tags = {k: v for k, v in data.tags.items() if current.tags.get(k) != v}
    now = int(time.time() * 1000)
    for batch in metadata.batches(params, data.metrics, tags):
        with mlflow_errors(f"logging params and metrics on run {run_id}"):
            client.log_batch(
                run_id,
                metrics=[Metric(k, v, now, 0) for k, v in batch.metrics],
                params=[Param(k, v) for k, v in batch.params],
                tags=[RunTag(k, v) for k, v in batch.tags],
            )


def get_run_data(client: Any, run_id: str, *, everything: bool) -> RunData:
    """Params, latest metrics and tags; without ``everything``, MLflow's own ``mlflow.*``
    tags and our per-file sha256 tags (reported by ``list_files``) are left out."""
    with mlflow_errors(f"reading run {run_id}"):
        data = client.get_run(run_id).data
    internal = ("mlflow.", SHA256_TAG_PREFIX, SHA256_HASHED_TAG_PREFIX)
    tags = {k: str(v) for k, v in data.tags.items() if everything or not k.startswith(internal)}
    return RunData(
        params={k: str(v) for k, v in data.params.items()},
        metrics={k: float(v) for k, v in data.metrics.items()},
        tags=tags,
    )


def run_status(client: Any, run_id: str) -> str:
    with mlflow_errors(f"reading run {run_id}"):
        return str(client.get_run(run_id).info.status)


def finish_version(client: Any, mv: ModelVersion) -> None:
    # set_terminated writes "View run … at: <url>" to stdout, which holds only our result.
    with (
        mlflow_errors(f"finishing run {mv.run_id} of version {mv.version}"),
        contextlib.redirect_stdout(io.StringIO()),
    ):
        client.set_terminated(mv.run_id, "FINISHED")
