"""Plain data shared by every layer: immutable, no I/O, no behaviour beyond small derivations."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path


def utc_timestamp(raw: object) -> str:
    """A registry's creation time as ISO 8601 UTC to the second (``2026-12-01T09:30:00Z``).

    MLflow servers report milliseconds since the epoch; GitLab's MLflow layer reports
    *seconds* (lib/api/entities/ml/mlflow/model_version.rb: ``created_at.to_i``), a number or
    its text; other routes an ISO date. Seconds and milliseconds are told apart by size (10^11 s
    is the year 5138; 10^11 ms is 1973). Unreadable values are kept as given, "" stays "".
    """
    text = str(raw or "").strip()
    try:
        if text.isdigit():
            number = int(text)
            seconds = number / 1000 if number >= 10**11 else number
            moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)
    except ValueError:
        return text
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class UploadFile:
    """A local file and the name it gets in the registry (a POSIX path relative to the root)."""

    path: Path
    remote_name: str
    size: int
    #: Where the bytes start in ``path``: a part of a split file is a range of it.
    offset: int = 0


@dataclass(frozen=True)
class RemoteFile:
    """A file stored in a model version, as the registry reports it."""

    name: str
    size: int
    sha256: str | None = None
    #: How many parts it is stored as (``splitting``); 0 for a file stored whole.
    parts: int = 0


@dataclass(frozen=True)
class CiContext:
    """What the CI job tells us about itself (GitLab predefined variables); empty off CI."""

    job_id: str = ""
    job_name: str = ""
    job_url: str = ""
    pipeline_id: str = ""
    pipeline_iid: str = ""
    pipeline_url: str = ""
    commit_sha: str = ""
    commit_tag: str = ""
    ref_name: str = ""
    merge_request_iid: str = ""
    project_path: str = ""
    project_url: str = ""
    merge_request_target_branch: str = ""
    #: ``CI_ENVIRONMENT_NAME``: the job declares ``environment:`` and GitLab records its deployment.
    environment_name: str = ""
    #: ``GITLAB_USER_LOGIN``: who runs the job (recorded where the registry keeps no user).
    user_login: str = ""
    #: False when the registry is a GitLab other than the job's own: its job ids mean nothing there.
    links_job: bool = True

    @property
    def in_ci(self) -> bool:
        return bool(self.job_id)


@dataclass(frozen=True)
class RegisteredModel:
    """A model in the registry, as its versions' parent."""

    name: str
    description: str = ""
    web_url: str = ""


@dataclass(frozen=True)
class ModelVersion:
    """One version of a model. ``version`` is the semver; ``version_id`` the backend's own id.

    ``complete`` is False for a version whose publish has not finished (see ``catalog``); it is
    True until a reader has looked the version's run up.
    """

    model: str
    version: str
    version_id: str
    run_id: str = ""
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    web_url: str = ""
    package_url: str = ""
    #: ISO 8601 UTC (see ``utc_timestamp``), "" when the registry gave none.
    created_at: str = ""
    complete: bool = True


@dataclass(frozen=True)
class RunData:
    """Params, metrics and tags logged on a version's run."""

    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PublishPlan:
    """What publish will do; the whole of ``--dry-run``'s output."""

    backend: str
    model: str
    create_model: bool
    version: str
    resume: bool
    files: tuple[UploadFile, ...]
    params: dict[str, str]
    metrics: dict[str, float]
    left_out: tuple[str, ...] = ()


@dataclass(frozen=True)
class PublishResult:
    """What ``publish`` did: the plan, the version and the files sent or found stored."""

    plan: PublishPlan
    model_version: ModelVersion | None
    uploaded: tuple[RemoteFile, ...] = ()
    skipped: tuple[RemoteFile, ...] = ()
    dry_run: bool = False


@dataclass(frozen=True)
class Deployment:
    """A version put into an environment: GitLab's deployment, or an MLflow alias record."""

    environment: str
    version: str
    created_at: str  # ISO 8601 UTC
    status: str  # running, success, failed, canceled (GitLab's deployment statuses)
    job_url: str = ""
    user: str = ""
    id: str = ""  # GitLab's deployment id; empty on MLflow
    pipeline_url: str = ""
