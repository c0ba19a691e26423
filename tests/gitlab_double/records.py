"""In-memory records of the double's registry; mutated only under ``Registry.lock``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROLE_ORDER = ("guest", "reporter", "developer", "maintainer", "owner")


def role_at_least(role: str | None, minimum: str) -> bool:
    return role is not None and ROLE_ORDER.index(role) >= ROLE_ORDER.index(minimum)


@dataclass
class User:
    id: int
    username: str


@dataclass
class Token:
    value: str
    scopes: frozenset[str]
    role: str
    user: User
    language: str = "en"


@dataclass
class Job:
    id: str
    token: str
    role: str
    project_id: int
    user: User


@dataclass
class Metric:
    key: str
    value: float
    timestamp: int
    step: int | None


@dataclass
class Run:
    uuid: str
    iid: int
    experiment_iid: int
    name: str
    user_id: str
    start_time: int = 0
    end_time: int | None = None
    status: str = "RUNNING"
    params: dict[str, str] = field(default_factory=dict)
    metrics: list[Metric] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    model_version_id: int | None = None
    ci_job_id: str | None = None


@dataclass
class Experiment:
    iid: int
    name: str
    created_ms: int
    tags: dict[str, str] = field(default_factory=dict)
    deleted: bool = False


@dataclass
class Version:
    id: int
    model_id: int
    semver: str
    description: str
    tags: dict[str, str]
    created_s: int
    updated_s: int
    run_uuid: str
    package_id: int


@dataclass
class Model:
    id: int
    name: str
    description: str
    tags: dict[str, str]
    created_s: int
    updated_s: int
    user_id: int
    experiment_iid: int
    versions: dict[int, Version] = field(default_factory=dict)


@dataclass
class PackageFile:
    id: int
    package_id: int
    name: str  # stored, URL-encoded (``dir%2Fweights.bin``)
    size: int
    sha256: str
    created_at: str
    disk_path: Path
    pipeline: dict[str, Any] | None = None
    status: str = "default"


@dataclass
class Package:
    id: int
    project_id: int
    name: str
    version: str
    created_at: str
    updated_at: str
    status: str = "default"
    package_type: str = "ml_model"
    pipeline: dict[str, Any] | None = None
    last_downloaded_at: str | None = None
    files: list[PackageFile] = field(default_factory=list)

    def live_files(self) -> list[PackageFile]:
        return [f for f in self.files if f.status == "default"]

    def newest_file(self, stored_name: str) -> PackageFile | None:
        matches = [f for f in self.live_files() if f.name == stored_name]
        return max(matches, key=lambda f: f.id) if matches else None


@dataclass
class Project:
    id: int
    path: str
    experiments: dict[int, Experiment] = field(default_factory=dict)
    runs: dict[str, Run] = field(default_factory=dict)
    models: dict[str, Model] = field(default_factory=dict)
    next_experiment_iid: int = 1
    next_run_iid: int = 1
    #: Switched-off project features (``config.FEATURES``).
    features_off: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    def experiment_named(self, name: str) -> Experiment | None:
        return next((e for e in self.experiments.values() if e.name == name), None)

    def version_by_id(self, version_id: int) -> tuple[Model, Version] | None:
        for model in self.models.values():
            if version_id in model.versions:
                return model, model.versions[version_id]
        return None
