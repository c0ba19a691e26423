"""Helpers of the MLflow backend: error translation, a thread pool, redaction.

Imports ``mlflow`` only inside functions, like ``backends.mlflow``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import TypeVar

from gitlab_model_registry.errors import (
    AuthError,
    ConflictError,
    GmrError,
    NotFoundError,
    RegistryError,
    UsageError,
)

T = TypeVar("T")

AUTH_HINT = (
    "MLflow reads credentials from MLFLOW_TRACKING_TOKEN (or MLFLOW_TRACKING_USERNAME and "
    "MLFLOW_TRACKING_PASSWORD); check that it is valid and may write to the model registry"
)
_NOT_FOUND = {"RESOURCE_DOES_NOT_EXIST", "NOT_FOUND", "ENDPOINT_NOT_FOUND"}
_AUTH = {"UNAUTHENTICATED", "PERMISSION_DENIED", "CUSTOMER_UNAUTHORIZED"}
_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")


class AlreadyExistsError(ConflictError):
    """MLflow said RESOURCE_ALREADY_EXISTS; the backend resolves it (never reaches the CLI)."""


def scrub(text: str) -> str:
    """Remove credentials written into URLs (``https://user:token@host``)."""
    return _USERINFO.sub("***@", text)


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


def parallel(tasks: Sequence[Callable[[], T]], concurrency: int) -> list[T]:
    """Run tasks on ``concurrency`` threads; the first failure cancels what has not started."""
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        futures = [pool.submit(task) for task in tasks]
        wait(futures, return_when=FIRST_EXCEPTION)
        for future in futures:
            error = future.exception() if future.done() and not future.cancelled() else None
            if error is not None:
                for other in futures:
                    other.cancel()
                raise error
        return [future.result() for future in futures]
