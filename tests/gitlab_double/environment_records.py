"""Records of the double's environments and deployments (app/models/environment.rb,
app/models/deployment.rb); mutated only under ``Registry.lock``."""

from __future__ import annotations

from dataclasses import dataclass

from tests.gitlab_double.records import User

#: Deployment.statuses (app/models/deployment.rb ``enum status``).
STATUSES = ("created", "running", "success", "failed", "canceled", "skipped", "blocked")
FINISHED = ("success", "failed", "canceled")
#: Environment.tiers; ``guess_tier`` picks one from the name (app/models/environment.rb).
_TIER_WORDS = (
    ("production", ("prod", "production", "live")),
    ("staging", ("stag", "staging", "model", "demo", "pre")),
    ("testing", ("test", "qc", "qa")),
    ("development", ("dev", "review", "trunk")),
)


def guess_tier(name: str) -> str:
    lowered = name.lower()
    for tier, words in _TIER_WORDS:
        if any(lowered.startswith(word) or f"/{word}" in lowered for word in words):
            return tier
    return "other"


@dataclass
class Environment:
    id: int
    project_id: int
    name: str
    tier: str
    created_at: str
    updated_at: str
    external_url: str | None = None
    state: str = "available"


@dataclass
class Deployment:
    id: int
    iid: int
    project_id: int
    environment_id: int
    ref: str
    sha: str
    tag: bool
    status: str
    user: User
    created_at: str
    updated_at: str
    finished_at: str | None = None
    job_id: str | None = None  # the deployable: a CI job; None for API-created deployments
    job_name: str = ""
    pipeline_id: int = 0
