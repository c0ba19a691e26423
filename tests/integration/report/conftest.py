"""The `gmr` runner and the small model tree of the publish tests."""

from __future__ import annotations

from tests.integration.publish.conftest import gmr as gmr
from tests.integration.publish.conftest import model_dir as model_dir
