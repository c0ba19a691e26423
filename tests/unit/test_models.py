"""Creation times: every registry's shape becomes one ISO 8601 UTC form."""

from __future__ import annotations

import pytest

from gitlab_model_registry.models import utc_timestamp


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (1764581400123, "2025-12-01T09:30:00Z"),  # MLflow: milliseconds since the epoch
        ("1764581400123", "2025-12-01T09:30:00Z"),  # the same as text
        (1764581400, "2025-12-01T09:30:00Z"),  # GitLab's MLflow layer: seconds (created_at.to_i)
        ("2025-12-01T10:30:00.5+01:00", "2025-12-01T09:30:00Z"),
        ("2025-12-01T09:30:00Z", "2025-12-01T09:30:00Z"),
        (None, ""),
        ("", ""),
        ("yesterday", "yesterday"),  # unreadable: shown as given rather than dropped
    ],
)
def test_creation_times_become_iso_utc_to_the_second(raw: object, expected: str) -> None:
    assert utc_timestamp(raw) == expected
