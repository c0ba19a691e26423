"""One test abstraction over the registries `gmr` publishes to, so a scenario is written once.

Each ``Registry`` says how to run `gmr` against it (``env``), puts versions in it the way
another client would (``seed``), reads a published version back without going through the code
under test (``version``), and takes a ``snapshot`` that changes whenever anything was written.
"""

from __future__ import annotations

import functools
import hashlib
import shutil
import tempfile
import urllib.parse
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.gitlab_double.pytest_plugin import Double
from tests.integration.publish.conftest import ci_environ, clean_environ, seed_versions, writes

#: Where gmr keeps a version's semver on MLflow (an integer-numbered registry): a version tag.
MLFLOW_SEMVER_TAG = "gmr.version"
#: A GitLab the MLflow scenarios' CI context points at; nothing listens there, so a run that
#: ignored MLFLOW_TRACKING_URI and chose GitLab from the CI variables would fail.
UNREACHABLE_GITLAB_API = "http://127.0.0.1:9/api/v4"
#: What a GitLab job sees besides the variables that select a registry (same values as ci_environ).
CI_CONTEXT = {
    "GITLAB_CI": "true",
    "CI_PROJECT_PATH": "group/project",
    "CI_JOB_ID": "1001",
    "CI_JOB_NAME": "publish-model",
    "CI_JOB_URL": "https://gitlab.example/group/project/-/jobs/1001",
    "CI_PIPELINE_ID": "500",
    "CI_PIPELINE_IID": "42",
    "CI_PIPELINE_URL": "https://gitlab.example/group/project/-/pipelines/500",
    "CI_COMMIT_SHA": "0123456789abcdef0123456789abcdef01234567",
    "CI_COMMIT_REF_NAME": "main",
}


@dataclass(frozen=True)
class VersionView:
    """A published version as any registry stores it: ids, files (name -> sha256), run data."""

    id: str
    run_id: str
    description: str
    files: dict[str, str]
    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]
    #: The CI job GitLab links the version to (``gitlab.CI_JOB_ID`` of an MLflow version).
    ci_job_id: str | None = None


class Registry(ABC):
    """A registry a scenario runs `gmr` against; ``cwd`` is the (fresh) working directory."""

    kind: str
    cwd: Path
    #: How a promoted version's ``promoted-from`` tag names this registry (its project).
    project_ref: str

    @abstractmethod
    def env(self, **overrides: str) -> dict[str, str]:
        """The whole environment of a `gmr` run in CI; ``overrides`` change CI variables."""

    @abstractmethod
    def seed(self, model: str, versions: list[str]) -> None:
        """Create ``model`` with these versions (no files), in this order."""

    @abstractmethod
    def version(self, model: str, semver: str) -> VersionView | None:
        """The version with this semver, read back independently of `gmr`."""

    @abstractmethod
    def semvers(self, model: str) -> list[str]:
        """Every version of ``model``, sorted as strings."""

    @abstractmethod
    def snapshot(self) -> Any:
        """Everything stored (and, where known, every write made): equal means nothing written."""

    @property
    @abstractmethod
    def link_prefix(self) -> str:
        """How the location of a version printed by `gmr` starts."""

    @abstractmethod
    def corrupt(self, model: str, semver: str, name: str) -> None:
        """Flip the first byte of a stored file behind `gmr`'s back (its sha256 record stays)."""

    def reads(self, model: str, semver: str, name: str) -> int | None:
        """How many times the registry has served that file to anyone (``version`` downloads
        it too), or None where nothing shows it; counting downloads nothing."""
        return None


class GitLabRegistry(Registry):
    """The GitLab double; read through its control API."""

    kind = "gitlab"

    def __init__(self, double: Double, cwd: Path) -> None:
        self.double, self.cwd = double, cwd
        self.project_ref = double.project_path

    def env(self, **overrides: str) -> dict[str, str]:
        return clean_environ() | ci_environ(self.double, **overrides)

    def seed(self, model: str, versions: list[str]) -> None:
        seed_versions(self.double, model, versions)

    def version(self, model: str, semver: str) -> VersionView | None:
        found = self.double.control.version(model, semver)
        if found is None:
            return None
        run = found["run"]
        return VersionView(
            id=str(found["id"]),
            run_id=str(found["run_id"]),
            description=found["description"],
            files={f["name"]: f["sha256"] for f in found["files"]},
            params=run["params"],
            metrics=run["metrics"],
            tags=run["tags"],
            ci_job_id=found["ci_job_id"],
        )

    def semvers(self, model: str) -> list[str]:
        found = self.double.control.model(model)
        return sorted(v["version"] for v in found["versions"]) if found else []

    def snapshot(self) -> Any:
        return {"state": self.double.control.state(), "writes": writes(self.double)}

    @property
    def link_prefix(self) -> str:
        return self.double.url

    def corrupt(self, model: str, semver: str, name: str) -> None:
        self.double.control.corrupt_file(model, semver, name)

    def reads(self, model: str, semver: str, name: str) -> int | None:
        """GETs of the file in the double's request log (its paths are URL-encoded)."""
        found = self.double.control.version(model, semver)
        assert found is not None
        path = f"/packages/ml_models/{found['id']}/files/{urllib.parse.quote(name)}"
        log = self.double.control.requests()
        return sum(1 for r in log if r["method"] == "GET" and r["path"].endswith(path))


class MlflowRegistry(Registry):
    """An MLflow registry, read with ``MlflowClient`` (not with gmr's MLflow backend)."""

    project_ref = "mlflow"  # MLflow has no projects

    def __init__(self, tracking_uri: str, cwd: Path) -> None:
        self.tracking_uri, self.cwd = tracking_uri, cwd

    @functools.cached_property
    def client(self) -> Any:
        """Opened on first use: a scenario that seeds nothing lets `gmr` create the registry."""
        from mlflow import MlflowClient

        return MlflowClient(self.tracking_uri, registry_uri=self.tracking_uri)

    def seed(self, model: str, versions: list[str]) -> None:
        """Versions as another MLflow client makes them: a run, a version per semver tag."""
        self.client.create_registered_model(model)
        experiment = self.client.create_experiment(
            f"seed/{model}", artifact_location=self._seed_artifacts()
        )
        run = self.client.create_run(experiment)
        for semver in versions:
            self.client.create_model_version(
                model,
                run.info.artifact_uri,
                run_id=run.info.run_id,
                tags={MLFLOW_SEMVER_TAG: semver},
                await_creation_for=0,
            )

    def _seed_artifacts(self) -> str | None:
        """Artifacts of seeded runs: the server decides; never the test process's cwd."""
        return None

    def version(self, model: str, semver: str) -> VersionView | None:
        found = [mv for mv in self._versions(model) if mv.tags.get(MLFLOW_SEMVER_TAG) == semver]
        if not found:
            return None
        assert len(found) == 1, f"{len(found)} MLflow versions carry {semver}"
        mv = found[0]
        data = self.client.get_run(mv.run_id).data
        return VersionView(
            id=str(mv.version),
            run_id=str(mv.run_id),
            description=str(mv.description or ""),
            files=self._file_digests(mv.run_id),
            params=dict(data.params),
            metrics=dict(data.metrics),
            tags=dict(data.tags),
            ci_job_id=mv.tags.get("gitlab.CI_JOB_ID"),
        )

    def _versions(self, model: str) -> list[Any]:
        return list(self.client.search_model_versions(f"name = '{model}'", max_results=1000))

    def _file_digests(self, run_id: str) -> dict[str, str]:
        """sha256 of each artifact of the run, recomputed from a download."""
        with tempfile.TemporaryDirectory(prefix="scenario-") as tmp:
            root = Path(self.client.download_artifacts(run_id, "", tmp))
            return {
                path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
                for path in root.rglob("*")
                if path.is_file()
            }

    def semvers(self, model: str) -> list[str]:
        return sorted(mv.tags.get(MLFLOW_SEMVER_TAG, "") for mv in self._versions(model))

    def corrupt(self, model: str, semver: str, name: str) -> None:
        version = self.version(model, semver)
        assert version is not None and name in version.files
        artifacts = self._artifacts_on_disk(self.client.get_run(version.run_id).info.artifact_uri)
        with (artifacts / name).open("r+b") as handle:
            first = handle.read(1)
            handle.seek(0)
            handle.write(bytes([first[0] ^ 0xFF]))

    @abstractmethod
    def _artifacts_on_disk(self, artifact_uri: str) -> Path:
        """The directory holding a run's artifacts, from the run's artifact URI."""

    def snapshot(self) -> Any:
        """Every model, version, experiment and run of the registry, with their data."""
        from mlflow.entities import ViewType

        client, everything = self.client, ViewType.ALL
        experiments = list(_pages(lambda t: client.search_experiments(everything, page_token=t)))
        ids = [e.experiment_id for e in experiments]
        runs = _pages(lambda t: client.search_runs(ids, run_view_type=everything, page_token=t))
        models = _pages(lambda t: client.search_registered_models(page_token=t))
        return {
            "models": [_plain(m) for m in models],
            "versions": [_plain(v) for v in client.search_model_versions(max_results=10000)],
            "experiments": [_plain(e) for e in experiments],
            "runs": [_plain(r) for r in runs] if ids else [],
        }


class MlflowServerRegistry(MlflowRegistry):
    """A real ``mlflow server``, chosen by MLFLOW_TRACKING_URI inside a GitLab CI job.

    ``root``: the server's directory (``mlflow_server_root``): artifacts in ``art/``, requests
    in ``server.log``.
    """

    kind = "mlflow-server"

    def __init__(self, tracking_uri: str, cwd: Path, root: Path) -> None:
        super().__init__(tracking_uri, cwd)
        self.root = root

    def _artifacts_on_disk(self, artifact_uri: str) -> Path:
        # mlflow-artifacts:/<experiment>/<run>/artifacts, proxied to --artifacts-destination.
        assert artifact_uri.startswith("mlflow-artifacts:")
        return self.root / "art" / urllib.parse.urlparse(artifact_uri).path.lstrip("/")

    def reads(self, model: str, semver: str, name: str) -> int | None:
        """GETs of the file's artifact URL in the server's access log."""
        found = [mv for mv in self._versions(model) if mv.tags.get(MLFLOW_SEMVER_TAG) == semver]
        assert len(found) == 1
        needle = f"/{found[0].run_id}/artifacts/{urllib.parse.quote(name)} HTTP/"
        lines = (self.root / "server.log").read_text(errors="replace").splitlines()
        return sum(
            1 for line in lines if "GET /api/2.0/mlflow-artifacts/" in line and needle in line
        )

    def env(self, **overrides: str) -> dict[str, str]:
        # The job's own GitLab is in the CI variables too: the tracking URI must win over it.
        gitlab = {"CI_API_V4_URL": UNREACHABLE_GITLAB_API, "CI_PROJECT_ID": "1"}
        mlflow = {"MLFLOW_TRACKING_URI": self.tracking_uri}
        return clean_environ() | CI_CONTEXT | gitlab | mlflow | overrides

    @property
    def link_prefix(self) -> str:
        return self.tracking_uri


class EmbeddedRegistry(MlflowRegistry):
    """The embedded default: nothing configured, so `gmr` uses ``<cwd>/mlruns.db``."""

    kind = "sqlite"

    def __init__(self, cwd: Path, empty_database: Path) -> None:
        """``empty_database``: an ``mlruns.db`` with MLflow's tables and nothing else."""
        super().__init__(f"sqlite:///{cwd / 'mlruns.db'}", cwd)
        self.empty_database = empty_database

    def seed(self, model: str, versions: list[str]) -> None:
        # Copying saves creating MLflow's tables (~1 s); scenarios that seed nothing still
        # let `gmr` create the database, as on a newcomer's machine.
        if not (self.cwd / "mlruns.db").exists():
            shutil.copyfile(self.empty_database, self.cwd / "mlruns.db")
        super().seed(model, versions)

    def env(self, **overrides: str) -> dict[str, str]:
        # clean_environ drops every CI_*, GITLAB_*, GMR_* and MLFLOW_* variable of the parent.
        environ = clean_environ() | CI_CONTEXT | overrides
        assert not {"CI_API_V4_URL", "CI_PROJECT_ID", "MLFLOW_TRACKING_URI"} & set(environ)
        return environ

    def _seed_artifacts(self) -> str | None:
        return (self.cwd / "mlartifacts" / "seed").as_uri()

    def _artifacts_on_disk(self, artifact_uri: str) -> Path:
        assert artifact_uri.startswith(self.cwd.as_uri())  # gmr keeps them in the job's cwd
        return Path(urllib.parse.unquote(urllib.parse.urlparse(artifact_uri).path))

    def snapshot(self) -> Any:
        """The registry's content plus every file of the working directory but the database."""
        files = sorted(
            str(path.relative_to(self.cwd))
            for path in self.cwd.rglob("*")
            if not path.name.startswith("mlruns.db")
        )
        return {**super().snapshot(), "files": files}

    @property
    def link_prefix(self) -> str:
        return (self.cwd / "mlartifacts").as_uri()


def _pages(fetch: Callable[[str | None], Any]) -> Iterator[Any]:
    """Every item of a paged MLflow search."""
    token = None
    while True:
        page = fetch(token)
        yield from page
        token = page.token
        if not token:
            return


def _plain(entity: Any) -> dict[str, Any]:
    """An MLflow entity as plain data, through the protobuf message MLflow sends on the wire."""
    from google.protobuf.json_format import MessageToDict

    return dict(MessageToDict(entity.to_proto()))
