"""Start-up configuration of the double: projects, credentials, faults and limits."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

ROLES = ("guest", "reporter", "developer", "maintainer", "owner")
SCOPES = ("api", "read_api")
DEFAULT_MAX_FILE_SIZE = 10 * 1024**3  # GitLab's ml_model_max_file_size plan limit default
DEFAULT_FAULT_STATUSES = (500, 502, 503, 429)
LANGUAGES = ("en", "de")
#: Project features a project can have switched off (reference §1.2, §11.1).
FEATURES = ("model_registry", "model_experiments", "packages", "environments")


@dataclass(frozen=True)
class TokenSpec:
    value: str
    scopes: frozenset[str]
    role: str
    language: str = "en"  # the token owner's preferred language (validation messages)


@dataclass(frozen=True)
class JobSpec:
    id: str
    token: str
    role: str


@dataclass(frozen=True)
class ProjectSpec:
    id: int
    path: str


@dataclass(frozen=True)
class FaultSettings:
    latency_ms: int = 0
    fault_rate: float = 0.0
    fault_statuses: tuple[int, ...] = DEFAULT_FAULT_STATUSES
    drop_rate: float = 0.0
    truncate_rate: float = 0.0  # answers cut off halfway, honest Content-Length (faults.py)
    reset_rate: float = 0.0  # file downloads reset after ``reset_after`` bytes
    reset_after: int = 12 * 1024
    direct_download: bool = False  # file downloads answer 302 to object storage (objectstore.py)
    seed: int = 0
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    #: How long model-version creation waits between its uniqueness check and its INSERT.
    race_window_ms: int = 0
    #: Inject status/latency/drop faults only into requests whose path ends with this.
    fault_path: str = ""

    def updated(self, changes: dict[str, object]) -> FaultSettings:
        """A copy with the control API's changes applied (unknown keys are a ValueError)."""
        converters = {
            "latency_ms": int,
            "fault_rate": float,
            "drop_rate": float,
            "truncate_rate": float,
            "reset_rate": float,
            "reset_after": int,
            "direct_download": bool,
            "seed": int,
            "max_file_size": int,
            "race_window_ms": int,
            "fault_path": str,
            "fault_statuses": lambda v: tuple(int(s) for s in v),
        }
        unknown = set(changes) - set(converters)
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        converted = {k: converters[k](v) for k, v in changes.items()}  # type: ignore[operator]
        return replace(self, **converted)


@dataclass(frozen=True)
class Config:
    host: str
    port: int
    data_dir: Path
    projects: tuple[ProjectSpec, ...] = (ProjectSpec(1, "group/project"),)
    tokens: tuple[TokenSpec, ...] = ()
    jobs: tuple[JobSpec, ...] = ()
    faults: FaultSettings = field(default_factory=FaultSettings)
    #: (token value, language) pairs overriding a token's preferred language.
    languages: tuple[tuple[str, str], ...] = ()
    #: (project id, feature) pairs switched off at start-up.
    features_off: tuple[tuple[int, str], ...] = ()
    #: The GitLab release whose response shapes the double reproduces (``releases.py``).
    gitlab_version: str = ""
    #: PEM certificate and key: the object store then speaks HTTPS (its CA is the test's own).
    object_store_tls: tuple[Path, Path] | None = None


def parse_token(text: str) -> TokenSpec:
    """``VALUE:SCOPES:ROLE``; the value may itself contain colons."""
    value, scopes, role = text.rsplit(":", 2)
    return TokenSpec(value, frozenset(_checked_scopes(scopes.split(","))), _checked_role(role))


def parse_job(text: str) -> JobSpec:
    job_id, rest = text.split(":", 1)
    token, role = rest.rsplit(":", 1)
    return JobSpec(job_id, token, _checked_role(role))


def parse_project(text: str) -> ProjectSpec:
    project_id, path = text.split(":", 1)
    return ProjectSpec(int(project_id), path.strip("/"))


def parse_language(text: str) -> tuple[str, str]:
    """``TOKEN:LANG``; the token value may itself contain colons."""
    value, language = text.rsplit(":", 1)
    return value, checked_language(language)


def parse_feature_off(text: str) -> tuple[int, str]:
    """``PROJECT_ID:FEATURE`` with FEATURE one of ``FEATURES``."""
    project_id, feature = text.split(":", 1)
    if feature not in FEATURES:
        raise ValueError(f"feature must be one of {', '.join(FEATURES)}: {feature!r}")
    return int(project_id), feature


def checked_language(language: str) -> str:
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}: {language!r}")
    return language


def _checked_role(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}: {role!r}")
    return role


def _checked_scopes(scopes: list[str]) -> list[str]:
    bad = [s for s in scopes if s not in SCOPES]
    if bad or not scopes:
        raise ValueError(f"scopes must be taken from {', '.join(SCOPES)}: {scopes!r}")
    return scopes
