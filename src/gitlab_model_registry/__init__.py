"""Publish, promote and download ML models in GitLab's Model registry from CI/CD.

The ``gmr`` command is a thin layer over this library: resolve ``Settings`` (flags and the
environment, with the CLI's precedence), open the registry they describe with
``open_registry``, then call one use case. The README's "Python API" section has an example.
"""

__version__ = "0.1.0"

# Below __version__: the modules imported here read it while this package initialises.
from gitlab_model_registry.api import PublishRequest, next_version, publish
from gitlab_model_registry.environments import current_version, history, rollback
from gitlab_model_registry.errors import (
    AuthError,
    ConflictError,
    GmrError,
    NotFoundError,
    RegistryError,
    UsageError,
)
from gitlab_model_registry.models import CiContext, Deployment, ModelVersion, PublishResult
from gitlab_model_registry.promotion import PromoteRequest, promote
from gitlab_model_registry.reading import download, show, versions
from gitlab_model_registry.registry import open_registry
from gitlab_model_registry.settings import Flags, Settings

__all__ = [
    "AuthError",
    "CiContext",
    "ConflictError",
    "Deployment",
    "Flags",
    "GmrError",
    "ModelVersion",
    "NotFoundError",
    "PromoteRequest",
    "PublishRequest",
    "PublishResult",
    "RegistryError",
    "Settings",
    "UsageError",
    "__version__",
    "current_version",
    "download",
    "history",
    "next_version",
    "open_registry",
    "promote",
    "publish",
    "rollback",
    "show",
    "versions",
]
