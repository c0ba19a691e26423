"""GitLab's error answers (reference §1.6), raised by handlers and rendered by the server."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An HTTP error answer: status, JSON body and extra headers."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}


def message(status: int, text: str) -> ApiError:
    """Rails/Grape helpers (`not_found!`, `unauthorized!`, ...): ``{"message": "..."}``."""
    return ApiError(status, {"message": text})


def unauthorized() -> ApiError:
    return message(401, "401 Unauthorized")


def forbidden(reason: str = "") -> ApiError:
    return message(403, f"403 Forbidden - {reason}" if reason else "403 Forbidden")


def not_found(resource: str = "") -> ApiError:
    return message(404, f"404 {resource} Not Found" if resource else "404 Not Found")


def bad_request(reason: str) -> ApiError:
    return message(400, f"400 Bad request - {reason}")


def internal_error() -> ApiError:
    return message(500, "500 Internal Server Error")


def grape(text: str, status: int = 400) -> ApiError:
    """Grape parameter validation: ``{"error": "name is missing"}``."""
    return ApiError(status, {"error": text})


def insufficient_scope() -> ApiError:
    return ApiError(
        403,
        {
            "error": "insufficient_scope",
            "error_description": "The request requires higher privileges than provided by the "
            "access token.",
            "scope": "api",
        },
    )


def mlflow(
    status: int, error_code: str, text: Any = None, *, with_message: bool = False
) -> ApiError:
    """MLflow-style errors: ``{"error_code": ...}`` plus ``message`` where GitLab sends one."""
    body: dict[str, Any] = {"error_code": error_code}
    if with_message or text is not None:
        body["message"] = text
    return ApiError(status, body)


def resource_missing() -> ApiError:
    return mlflow(404, "RESOURCE_DOES_NOT_EXIST")


def already_exists() -> ApiError:
    return mlflow(400, "RESOURCE_ALREADY_EXISTS")


def invalid_parameter(text: Any) -> ApiError:
    return mlflow(400, "INVALID_PARAMETER_VALUE", text, with_message=True)
