"""The shapes GitLab's MLflow routes answer with, across the supported releases.

- ``model_version`` (17.5 and later): ``version`` is the database id, ``aliases`` is
  ``[semver]``. Before 17.5 ``version`` is the semver and ``aliases`` is empty: the id then only
  shows in the version's run (``artifact_uri`` ends ``/packages/ml_models/<id>/files/``).
- ``registered_model.latest_versions``: every version of the model, either ``model_version``
  entities (current) or raw database rows (``id``, ``version`` = semver, no tags) on releases
  that exposed the association without an entity (commit bc7f4d7d).

Which shape arrives is read from the answer itself, never from the release number.
"""

from __future__ import annotations

import re
from typing import Any

_FILES_OF_VERSION = re.compile(r"/packages/ml_models/(\d+)/files/?$")


def semver_and_id(raw: dict[str, Any]) -> tuple[str, str | None]:
    """(semver, database id) of a ``model_version``; the id is None on the pre-17.5 shape."""
    version = str(raw.get("version", ""))
    aliases = raw.get("aliases") or []
    if version.isdigit() and aliases:
        return str(aliases[0]), version
    return version, None


def is_row(item: dict[str, Any]) -> bool:
    """A raw ``ml_model_versions`` row rather than a ``model_version`` entity."""
    return "run_id" not in item and "model_id" in item


def version_id_from_artifact_uri(uri: str) -> str:
    found = _FILES_OF_VERSION.search(uri)
    return found[1] if found else ""
