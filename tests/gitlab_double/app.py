"""The double's application object: registry, faults, request log and the two route tables."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from tests.gitlab_double import (
    control_api,
    deployments_api,
    environments_api,
    graphql,
    merge_requests,
    ml_models_api,
    mlflow_experiments,
    mlflow_models,
    mlflow_runs,
    mlflow_versions,
    packages_api,
)
from tests.gitlab_double.config import Config
from tests.gitlab_double.downloads import ServedBytes
from tests.gitlab_double.faults import FaultInjector
from tests.gitlab_double.releases import Release
from tests.gitlab_double.routing import Router
from tests.gitlab_double.state import Registry

if TYPE_CHECKING:
    from tests.gitlab_double.objectstore import ObjectStore


class App:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.base_url = ""  # set once the socket is bound
        self.registry = Registry(config)
        self.faults = FaultInjector(config.faults)
        self.release = Release.parse(config.gitlab_version)
        self.served = ServedBytes()  # file bytes sent per path (downloads.py)
        self.merge_requests = merge_requests.MergeRequestStore()
        self.object_store: ObjectStore | None = None  # set by the server (objectstore.py)
        self._log: list[dict[str, Any]] = []
        self._log_lock = threading.Lock()
        self.gitlab = Router()
        modules = (mlflow_models, mlflow_versions, mlflow_runs, mlflow_experiments)
        apis = (ml_models_api, packages_api, deployments_api, environments_api, merge_requests)
        for module in (*modules, *apis, graphql):
            module.register(self.gitlab)
        self.control = Router()
        control_api.register(self.control)
        deployments_api.register_control(self.control, control_api.CONTROL)
        merge_requests.register_control(self.control)

    @property
    def max_file_size(self) -> int:
        return self.faults.settings.max_file_size

    def reset(self) -> None:
        self.registry.reset()
        self.faults.reset(self.config.faults)
        self.release = Release.parse(self.config.gitlab_version)
        self.served.clear()
        with self.registry.lock:
            self.merge_requests.reset()
        if self.object_store is not None:
            self.object_store.reset()
        with self._log_lock:
            self._log.clear()

    def record(self, method: str, path: str, status: int, credential: str) -> None:
        entry = {"method": method, "path": path, "status": status, "credential": credential}
        with self._log_lock:
            self._log.append(entry)

    def request_log(self) -> list[dict[str, Any]]:
        with self._log_lock:
            return list(self._log)
