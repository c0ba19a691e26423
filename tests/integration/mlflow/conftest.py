"""Fixtures of the MLflow backend's tests, defined in ``fixtures.py`` so other suites can reuse them."""

from __future__ import annotations

from tests.integration.mlflow.fixtures import (  # noqa: F401 (pytest finds fixtures by name)
    mlflow_backend,
    mlflow_backend_uri,
    mlflow_server,
    sqlite_uri,
    unique_model,
)
