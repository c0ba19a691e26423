"""Publish, promote and download ML models in GitLab's Model registry from CI/CD.

The ``gmr`` command is a thin layer over this library: resolve ``Settings`` (flags and the
environment, with the CLI's precedence), open the registry they describe with
``open_registry``, then call one use case. The README's "Python API" section has an example.
"""

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
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

#: Where each public name lives. They are imported on first use (PEP 562), so that the ``gmr``
#: command, which imports this package, loads only the modules its subcommand needs.
_PUBLIC = {
    **dict.fromkeys(("PublishRequest", "next_version", "publish"), "api"),
    **dict.fromkeys(("current_version", "history", "rollback"), "environments"),
    **dict.fromkeys(
        ("AuthError", "ConflictError", "GmrError", "NotFoundError", "RegistryError", "UsageError"),
        "errors",
    ),
    **dict.fromkeys(("CiContext", "Deployment", "ModelVersion", "PublishResult"), "models"),
    **dict.fromkeys(("PromoteRequest", "promote"), "promotion"),
    **dict.fromkeys(("download", "show", "versions"), "reading"),
    "open_registry": "registry",
    **dict.fromkeys(("Flags", "Settings"), "settings"),
}


def __getattr__(name: str) -> object:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # the next lookup finds it without this function
    return value


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
