"""The flow GitLab's docs show for the MLflow client, timed: create the model, create a version
tagged ``gitlab.version``, log the files on the version's run (``log_artifacts`` of the folder).

Docs: user/project/ml/experiment_tracking/mlflow_client.md, "Model registry" (gitlabhq/gitlabhq).
Usage: MLFLOW_TRACKING_URI=<GitLab>/api/v4/projects/<id>/ml/mlflow MLFLOW_TRACKING_TOKEN=<token>
       python bench/mlflow_client_flow.py MODEL VERSION DIR
"""

from __future__ import annotations

import sys

from mlflow import MlflowClient


def main() -> None:
    model, version, folder = sys.argv[1:]
    client = MlflowClient()
    client.create_registered_model(model)
    model_version = client.create_model_version(model, version, tags={"gitlab.version": version})
    client.log_artifacts(model_version.run_id, folder)


if __name__ == "__main__":
    main()
