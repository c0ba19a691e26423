"""The publish scenarios (tests/integration/scenarios) against a real GitLab."""

from tests.integration.scenarios.test_publish_scenarios import *  # noqa: F403
