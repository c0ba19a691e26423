"""Fixtures for the double's tests (`double` and `gitlab_double` come from the plugin)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def faulty_double(double: Any) -> Iterator[Any]:
    """The double for a test that injects faults: reset again afterwards so no fault outlives it."""
    yield double
    double.control.reset()
