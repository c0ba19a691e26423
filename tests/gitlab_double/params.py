"""Grape-like parameter handling: required values, integer coercion, MLflow key/value lists."""

from __future__ import annotations

from typing import Any

from tests.gitlab_double.errors import grape


def choice(params: dict[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str:
    """A parameter with Grape's ``values:``: the default when absent, 400 when not allowed."""
    value = params.get(name)
    if value is None or value == "":
        return default
    if value not in allowed:
        raise grape(f"{name} does not have a valid value")
    return str(value)


def required(params: dict[str, Any], name: str) -> Any:
    if name not in params or params[name] is None:
        raise grape(f"{name} is missing")
    return params[name]


def required_str(params: dict[str, Any], name: str) -> str:
    return str(required(params, name))


def optional_str(params: dict[str, Any], name: str, default: str = "") -> str:
    value = params.get(name)
    return default if value is None else str(value)


def as_int(params: dict[str, Any], name: str, default: int | None = None) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise grape(f"{name} is invalid") from None


def required_int(params: dict[str, Any], name: str) -> int:
    required(params, name)
    value = as_int(params, name)
    assert value is not None
    return value


def as_float(params: dict[str, Any], name: str) -> float:
    try:
        return float(required(params, name))
    except (TypeError, ValueError):
        raise grape(f"{name} is invalid") from None


def key_values(params: dict[str, Any], name: str) -> list[tuple[str, str]]:
    """MLflow ``tags``/``params`` arrays of ``{key, value}``; Grape rejects other shapes."""
    items = params.get(name) or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise grape(f"{name} is invalid")
    return [
        (str(i.get("key") or ""), "" if i.get("value") is None else str(i["value"])) for i in items
    ]


def pairs(mapping: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in mapping.items()]


def clamp(value: int | None, default: int, cap: int) -> int:
    return default if value is None or value < 1 else min(value, cap)
