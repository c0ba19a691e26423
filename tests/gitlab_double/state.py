"""The registry: projects, credentials, models, versions, runs, packages; files under the data dir.

One re-entrant lock guards every record. JSON routes hold it for their whole (short) run; file
transfers stream outside it and take it only to look records up and to add a finished file.
"""

from __future__ import annotations

import itertools
import random
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tests.gitlab_double.config import Config
from tests.gitlab_double.environment_records import Deployment, Environment
from tests.gitlab_double.records import (
    Experiment,
    Job,
    Model,
    Package,
    PackageFile,
    Project,
    Run,
    Token,
    User,
    Version,
)

_NAME_WORDS = ("amber", "brave", "calm", "daring", "eager", "fox", "gnu", "heron", "ibis", "jay")


def now_s() -> int:
    return int(time.time())


def now_ms() -> int:
    return int(time.time() * 1000)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Registry:
    """Everything the double knows; ``reset()`` returns to the start-up configuration."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.lock = threading.RLock()
        self.files_dir = config.data_dir / "files"
        self.tmp_dir = config.data_dir / "tmp"
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self._ids: dict[str, Iterator[int]] = {}
            self.projects: dict[int, Project] = {}
            self.tokens: dict[str, Token] = {}
            self.jobs: dict[str, Job] = {}
            self.packages: dict[int, Package] = {}
            self.environments: dict[int, Environment] = {}
            self.deployments: dict[int, Deployment] = {}
            shutil.rmtree(self.files_dir, ignore_errors=True)
            self.files_dir.mkdir(parents=True, exist_ok=True)
            self.tmp_dir.mkdir(parents=True, exist_ok=True)
            for project in self.config.projects:
                self.add_project(project.id, project.path)
            for token in self.config.tokens:
                self.add_token(token.value, token.scopes, token.role, token.language)
            for value, language in self.config.languages:
                self.tokens[value].language = language
            for project_id, feature in self.config.features_off:
                self.projects[project_id].features_off.add(feature)
            for job in self.config.jobs:
                self.add_job(job.id, job.token, job.role)

    def next_id(self, kind: str) -> int:
        with self.lock:
            return next(self._ids.setdefault(kind, itertools.count(1)))

    # --- projects and credentials -------------------------------------------------------------

    def add_project(self, project_id: int, path: str) -> Project:
        with self.lock:
            project = Project(project_id, path.strip("/"))
            self.projects[project_id] = project
            return project

    def add_token(
        self, value: str, scopes: frozenset[str], role: str, language: str = "en"
    ) -> Token:
        with self.lock:
            user = self._new_user(f"{role}-user")
            token = Token(value, frozenset(scopes), role, user, language)
            self.tokens[value] = token
            return token

    def add_job(self, job_id: str, token: str, role: str) -> Job:
        with self.lock:
            first_project = next(iter(self.projects), 1)  # the first one configured
            job = Job(str(job_id), token, role, first_project, self._new_user(f"job-{job_id}-user"))
            self.jobs[job.id] = job
            return job

    def _new_user(self, username: str) -> User:
        return User(self.next_id("user"), username)

    def find_project(self, ref: str) -> Project | None:
        """By numeric id or by (already decoded) full path."""
        with self.lock:
            if ref.isdigit():
                return self.projects.get(int(ref))
            return next((p for p in self.projects.values() if p.path == ref.strip("/")), None)

    def job_by_token(self, value: str) -> Job | None:
        return next((j for j in self.jobs.values() if j.token == value), None)

    # --- experiments and runs -----------------------------------------------------------------

    def new_experiment(self, project: Project, name: str) -> Experiment:
        experiment = Experiment(project.next_experiment_iid, name, now_ms())
        project.next_experiment_iid += 1
        project.experiments[experiment.iid] = experiment
        return experiment

    def new_run(self, project: Project, experiment: Experiment, name: str | None, user: str) -> Run:
        run = Run(
            uuid=str(uuid.uuid4()),
            iid=project.next_run_iid,
            experiment_iid=experiment.iid,
            name=name or _random_run_name(),
            user_id=user,
        )
        project.next_run_iid += 1
        project.runs[run.uuid] = run
        return run

    # --- models, versions, packages -----------------------------------------------------------

    def create_model(
        self, project: Project, name: str, description: str, tags: dict[str, str], user: User
    ) -> Model:
        experiment = self.new_experiment(project, f"[model]{name}")
        stamp = now_s()
        model = Model(
            self.next_id("model"), name, description, tags, stamp, stamp, user.id, experiment.iid
        )
        project.models[name] = model
        return model

    def create_version(
        self, project: Project, model: Model, semver: str, description: str, tags: dict[str, str]
    ) -> Version:
        """Version row + its own run in the model's experiment + find-or-create ml_model package."""
        run = self.new_run(project, project.experiments[model.experiment_iid], None, "")
        package = self._package_for(project, model.name, semver)
        stamp = now_s()
        version = Version(
            self.next_id("model_version"),
            model.id,
            semver,
            description,
            tags,
            stamp,
            stamp,
            run.uuid,
            package.id,
        )
        run.model_version_id = version.id
        model.versions[version.id] = version
        model.updated_s = stamp
        return version

    def _package_for(self, project: Project, name: str, version: str) -> Package:
        wanted = (project.id, name, version)
        for package in self.packages.values():
            same = (package.project_id, package.name, package.version) == wanted
            if same and package.status != "pending_destruction":
                return package
        stamp = now_iso()
        package = Package(self.next_id("package"), project.id, name, version, stamp, stamp)
        self.packages[package.id] = package
        return package

    def delete_model(self, project: Project, model: Model) -> None:
        for version in model.versions.values():
            self.packages[version.package_id].status = "pending_destruction"
            project.runs.pop(version.run_uuid, None)
        project.experiments.pop(model.experiment_iid, None)
        del project.models[model.name]

    # --- package files on disk ----------------------------------------------------------------

    def new_upload_path(self) -> Path:
        return self.tmp_dir / f"upload-{uuid.uuid4().hex}"

    def add_file(
        self,
        package: Package,
        stored_name: str,
        upload: tuple[Path, int, str],
        pipeline: dict[str, Any] | None,
    ) -> PackageFile:
        """Move a finished upload (path, size, sha256) into place as the newest record."""
        tmp_path, size, sha256 = upload
        with self.lock:
            file_id = self.next_id("package_file")
            disk_path = self.files_dir / str(file_id)
            tmp_path.replace(disk_path)
            record = PackageFile(
                file_id, package.id, stored_name, size, sha256, now_iso(), disk_path, pipeline
            )
            package.files.append(record)
            package.updated_at = record.created_at
            if pipeline is not None:
                package.pipeline = pipeline
            return record

    def pipeline_of(self, job: Job, base_url: str) -> dict[str, Any]:
        """Build info GitLab attaches to a package uploaded with a job token."""
        project = self.projects.get(job.project_id)
        path = project.path if project else "group/project"
        stamp = now_iso()
        return {
            "id": int(job.id) if job.id.isdigit() else 0,
            "iid": 1,
            "project_id": job.project_id,
            "sha": "0" * 40,
            "ref": "main",
            "status": "running",
            "source": "push",
            "created_at": stamp,
            "updated_at": stamp,
            "web_url": f"{base_url}/{path}/-/pipelines/{job.id}",
            "user": {"id": job.user.id, "username": job.user.username, "name": job.user.username},
        }


def _random_run_name() -> str:
    words = random.sample(_NAME_WORDS, 3)
    return f"{'-'.join(words)}-{random.randint(1000, 9999)}"
