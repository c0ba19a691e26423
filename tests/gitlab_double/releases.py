"""The GitLab releases whose response shapes the double reproduces (``--gitlab-version X.Y``).

Only what differs between releases in the routes ``gmr`` uses is modelled; the default is
current GitLab. Each shape, with the GitLab source it follows (repo gitlabhq/gitlabhq):

| release       | ``model_version.version`` | ``latest_versions`` of ``registered-models/get`` |
|---------------|---------------------------|--------------------------------------------------|
| 17.0 - 17.4   | the semver, ``aliases: []`` | raw ``ml_model_versions`` rows                 |
| 17.5 - 17.11  | the database id, ``aliases: [semver]`` | raw rows                            |
| 18.0 and later| the database id, ``aliases: [semver]`` | the ModelVersion entity per version |

- Semver as ``version``: before MR !166458 ("Model Registry: MLflow versions compatibility",
  17.5) the entity exposed the version column; from then on (``lib/api/entities/ml/mlflow/
  model_version.rb`` at commit 1e62780b8cf2b268f1e282759d393a39cbd3113d) ``version`` is
  ``object.id.to_s`` and ``aliases`` is ``[object.version]``. The pre-17.5 copy of that file was
  not readable here; its predecessor ``model_versions/types/model_version.rb`` (commit
  ae4e6f370a477782f19008717449047b2d0fb254, when only ``get``/``update`` existed) shows the
  same two traits: ``expose :version`` unaltered and ``aliases`` ``[]``. Tags and the run id
  are kept here as the 17.5 entity has them. The version's id is then only visible in its run's
  ``artifact_uri`` (``.../packages/ml_models/<id>/files/``).
- Raw rows: ``lib/api/entities/ml/mlflow/registered_model.rb`` at commit
  bc7f4d7d41a5bd259375eefa840a234c1937b03a has ``expose :versions, as: :latest_versions``
  without an entity, so each item is the row's columns (``id``, ``version`` = semver,
  ``model_id``, ``package_id``, ...; no ``tags``, no ``aliases``). At commit
  3919ad7251b1984eb723be0bc741c4b2d90ed045 it is ``using: ModelVersion``. The release that
  switched is not pinned here: 18.0 is this double's assumption.
- Before 16.8 there are no registered-models/model-versions routes and no
  ``ml_models/:model_version_id/files`` route (reference §9: model registry and the Bearer-only
  file route arrived in 16.8, MR !138787): Grape's catch-all answers 404 ``{"error": "404 Not
  Found"}``.
- ``GET /api/v4/version`` (``lib/api/version.rb``, commit 21779d00186d75349165d6c07dbe04aace68017c):
  ``{"version": "X.Y.Z", "revision": "..."}``, authenticated callers only (401 otherwise).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CURRENT = "18.6"
MODEL_REGISTRY_SINCE = (16, 8)
#: One release per distinct shape, oldest first: what the scenario suite runs against.
SHAPES = ("17.0", "17.5", CURRENT)
_VERSION = re.compile(r"^(\d+)\.(\d+)(?:\.\d+)?$")


@dataclass(frozen=True)
class Release:
    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> Release:
        found = _VERSION.match((text or CURRENT).strip())
        if found is None:
            raise ValueError(f"--gitlab-version must be MAJOR.MINOR, e.g. 17.5: {text!r}")
        return cls(int(found[1]), int(found[2]))

    @property
    def text(self) -> str:
        return f"{self.major}.{self.minor}.0"

    def routes(self, since: tuple[int, int]) -> bool:
        """Whether this release has routes that first shipped in ``since``."""
        return (self.major, self.minor) >= since

    @property
    def semver_as_version(self) -> bool:
        """``model_version.version`` is the semver (before 17.5), not the database id."""
        return (self.major, self.minor) < (17, 5)

    @property
    def raw_latest_versions(self) -> bool:
        """``latest_versions`` holds raw database rows (before 18.0 in this double)."""
        return self.major < 18
