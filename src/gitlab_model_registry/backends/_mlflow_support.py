"""Helpers of the MLflow backend: naming rules, error translation, threads, redaction.

Imports ``mlflow`` only inside functions, like ``backends.mlflow``.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from gitlab_model_registry.backends import ProgressCallback
from gitlab_model_registry.errors import (
    AuthError,
    ConflictError,
    GmrError,
    NotFoundError,
    RegistryError,
    UsageError,
)
from gitlab_model_registry.models import UploadFile

T = TypeVar("T")

SEMVER_TAG = "gmr.version"
SHA256_TAG_PREFIX = "gmr.sha256."
#: For file names MLflow refuses as tag keys ('+', over-long): the key holds a hash of the name.
SHA256_HASHED_TAG_PREFIX = "gmr.sha256-of-name."
_TAG_KEY = re.compile(r"[/\w.\- ]+")  # MLflow's tag-key rule, minus ':' (refused on Windows)
_MAX_TAG_KEY = 250

AUTH_HINT = (
    "pass the MLflow server's own token with --token (GMR_TOKEN) or MLFLOW_TRACKING_TOKEN, or "
    "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD; check that it is valid and may "
    "write to the model registry"
)
_NOT_FOUND = {"RESOURCE_DOES_NOT_EXIST", "NOT_FOUND", "ENDPOINT_NOT_FOUND"}
_AUTH = {"UNAUTHENTICATED", "PERMISSION_DENIED", "CUSTOMER_UNAUTHORIZED"}
_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")


class AlreadyExistsError(ConflictError):
    """MLflow said RESOURCE_ALREADY_EXISTS; the backend resolves it (never reaches the CLI)."""


def scrub(text: str, mask: str = "***@") -> str:
    """Replace credentials written into URLs (``https://user:token@host``) with ``mask``."""
    return _USERINFO.sub(mask, text)


@contextmanager
def mlflow_errors(action: str) -> Iterator[None]:
    """Turn what MLflow and its HTTP layer raise into our errors, saying what was being done."""
    from mlflow.exceptions import MlflowException
    from requests import HTTPError, RequestException

    try:
        yield
    except GmrError:
        raise
    except MlflowException as exc:
        raise translate(str(exc.error_code), exc.message, action) from exc
    except HTTPError as exc:  # artifact transfers raise these directly
        status = exc.response.status_code if exc.response is not None else 0
        code = {401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND"}.get(status, "")
        raise translate(code, str(exc), action) from exc
    except (RequestException, OSError) as exc:
        raise RegistryError(f"{action} failed: {scrub(str(exc))}") from exc
    except Exception as exc:
        if type(exc).__module__.split(".")[0] not in ("sqlalchemy", "sqlite3", "alembic"):
            raise
        # The database of a local registry: its first line, without SQL or a web link.
        first = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise RegistryError(f"{action} failed: the registry database said: {first}") from exc


def local_database(tracking_uri: str) -> Path | None:
    """The file of a local SQLite registry (``sqlite:///<path>``), else None."""
    if not tracking_uri.startswith("sqlite:///"):
        return None
    path = tracking_uri[len("sqlite:///") :].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def check_writable_database(database: Path) -> None:
    """Refuse, in one line and at once, a registry file SQLite could not write: MLflow would
    retry for minutes, then fail with raw SQL (or create missing folders)."""
    hint = "choose a writable place with --tracking-uri sqlite:///<path>/mlruns.db"
    folder = database.absolute().parent
    if not folder.is_dir():
        raise UsageError(
            f"the local registry {database} cannot be created: folder {folder} does not exist",
            hint=f"create it, or {hint}",
        )
    try:
        if database.exists():
            with database.open("r+b"):
                pass
        else:
            with tempfile.TemporaryFile(dir=folder):
                pass
    except OSError as exc:
        what = "is read-only" if database.exists() else f"cannot be created in {folder}"
        raise UsageError(
            f"the local registry {database} {what} ({exc.strerror})", hint=hint
        ) from None


def translate(code: str, message: str, action: str) -> GmrError:
    text = f"{action} failed: {scrub(str(message)).strip()}"
    if code in _NOT_FOUND:
        return NotFoundError(text)
    if code in _AUTH or (code == "INTERNAL_ERROR" and re.search(r"\b40[13]\b", text)):
        return AuthError(text, hint=AUTH_HINT)
    if code == "RESOURCE_ALREADY_EXISTS":
        return AlreadyExistsError(text)
    if code == "INVALID_PARAMETER_VALUE":
        return UsageError(text)
    return RegistryError(text)


def search_literal(value: str) -> str:
    """``value`` quoted for an MLflow search filter, which has no escape character."""
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    raise UsageError(f"MLflow cannot search for a name with both quote characters: {value!r}")


def semver_alias(version: str) -> str:
    """The alias naming a semver. Aliases allow only ``[A-Za-z0-9_-]``: '.' -> '_', '+' -> '__'.

    Injective, since a semver has no '_' and no empty identifier; never ``v<digits>`` (reserved).
    """
    return "v" + version.replace(".", "_").replace("+", "__")


def sha256_tag_key(remote_name: str) -> str:
    """The run tag holding a file's sha256: readable when MLflow accepts the name as a key."""
    key = SHA256_TAG_PREFIX + remote_name
    if (
        _TAG_KEY.fullmatch(remote_name)
        and posixpath.normpath(remote_name) == remote_name
        and len(key) <= _MAX_TAG_KEY
    ):
        return key
    return SHA256_HASHED_TAG_PREFIX + hashlib.sha256(remote_name.encode()).hexdigest()


def serialized(progress: ProgressCallback | None) -> ProgressCallback:
    """Progress calls from worker threads, one at a time (renderers need not be thread-safe)."""
    lock = threading.Lock()

    def report(name: str, done: int, total: int) -> None:
        if progress is not None:
            with lock:
                progress(name, done, total)

    return report


@contextmanager
def named_as(file: UploadFile) -> Iterator[Path]:
    """The file under its remote base name (MLflow names an artifact after the local file)."""
    base = posixpath.basename(file.remote_name)
    if file.path.name == base:
        yield file.path
        return
    with tempfile.TemporaryDirectory(prefix="gmr-") as tmp:
        link = Path(tmp) / base
        link.symlink_to(file.path.resolve())
        yield link
