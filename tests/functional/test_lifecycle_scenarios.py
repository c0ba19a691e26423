"""The promote/download/versions scenarios (tests/integration/scenarios) against a real GitLab."""

from tests.integration.scenarios.test_lifecycle_scenarios import *  # noqa: F403
from tests.integration.scenarios.test_lifecycle_scenarios import (
    test_mlflow_has_no_projects_to_promote_into,
)

del test_mlflow_has_no_projects_to_promote_into  # MLflow registries only
