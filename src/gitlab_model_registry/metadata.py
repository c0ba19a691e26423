"""Params and metrics: read from ``K=V`` flags and JSON/YAML files, flattened, validated against
the registry's limits, and split into ``runs/log-batch`` requests MLflow accepts."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import UsageError

# GitLab stores a run param's key and value in 250 characters each (MLflow itself allows a
# 6000-character value), a metric's key in 250 (reference/gitlab-api.md §4).
MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 250
# MLflow's runs/log-batch limits per request.
MAX_BATCH_PARAMS = 100
MAX_BATCH_TAGS = 100
MAX_BATCH_METRICS = 1000
MAX_BATCH_ENTITIES = 1000

_EXTENSIONS = (".json", ".yaml", ".yml")

if TYPE_CHECKING:
    import yaml

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class Batch:
    """One ``runs/log-batch`` request's worth of entities, in the caller's order."""

    params: tuple[tuple[str, str], ...] = ()
    metrics: tuple[tuple[str, float], ...] = ()
    tags: tuple[tuple[str, str], ...] = ()


def parse_pairs(items: Sequence[str], what: str) -> dict[str, str]:
    """``["lr=0.1", "note=a=b"]`` -> ``{"lr": "0.1", "note": "a=b"}``; ``what`` names the flag."""
    pairs: dict[str, str] = {}
    for item in items:
        key, equals, value = item.partition("=")
        if not equals or not key:
            raise UsageError(f"{what} {item!r} is not KEY=VALUE: write e.g. {what} name=value")
        pairs[key] = value
    return pairs


def load_file(path: PathLike) -> dict[str, object]:
    """The mapping in a ``.json``, ``.yaml`` or ``.yml`` file (YAML read with ``safe_load``)."""
    path = Path(path)
    shown = repr(os.fspath(path))
    if path.suffix.lower() not in _EXTENSIONS:
        raise UsageError(f"{shown} is not a .json, .yaml or .yml file: rename it or convert it")
    data = _decode(path, shown, _read_text(path, shown))
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise UsageError(
            f"{shown} holds {kind}, not a mapping of names to values: write e.g. {{lr: 0.01}}"
        )
    return data


def _read_text(path: Path, shown: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{shown} does not exist: check the path") from None
    except UnicodeDecodeError:
        raise UsageError(f"{shown} is not UTF-8 text: save it as UTF-8 JSON or YAML") from None
    except OSError as error:
        raise UsageError(f"{shown} cannot be read ({error.strerror})") from None


def _decode(path: Path, shown: str, text: str) -> object:
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            where = f"line {error.lineno}, column {error.colno}: {error.msg}"
            raise UsageError(f"{shown} is not valid JSON ({where}): fix the file") from None
    import yaml  # here: most commands never read YAML, and importing it costs 50 ms of start-up

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise UsageError(
            f"{shown} is not valid YAML ({_yaml_problem(error)}): fix the file"
        ) from None


def _yaml_problem(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or "cannot be parsed"
    return f"line {mark.line + 1}: {problem}" if mark is not None else str(problem)


def flatten(mapping: Mapping[Any, object], sep: str = ".") -> dict[str, object]:
    """Nested mappings become ``outer.inner`` keys; lists become JSON text; other values stay."""
    flat: dict[str, object] = {}
    _flatten_into(flat, "", mapping, sep)
    return flat


def _flatten_into(
    flat: dict[str, object], prefix: str, mapping: Mapping[Any, object], sep: str
) -> None:
    for raw_key, value in mapping.items():
        key = f"{prefix}{raw_key}"
        if isinstance(value, Mapping):
            _flatten_into(flat, key + sep, value, sep)
            continue
        if key in flat:
            raise UsageError(
                f"{key!r} is given twice once nested keys are joined with {sep!r}: keep one"
            )
        flat[key] = json.dumps(value, default=str) if isinstance(value, (list, tuple)) else value


def params(pairs: Sequence[str], files: Sequence[PathLike]) -> dict[str, str]:
    """Params from files (in order), then ``--param`` flags, later ones overriding; as text."""
    merged: dict[str, str] = {}
    for source, values in _sources(pairs, files, "--param"):
        for key, value in values.items():
            _check_key(key, "param", source)
            merged[key] = _as_text(key, value, source)
    return merged


def metrics(pairs: Sequence[str], files: Sequence[PathLike]) -> dict[str, float]:
    """Metrics from files (in order), then ``--metric`` flags; each must be a finite number."""
    merged: dict[str, float] = {}
    for source, values in _sources(pairs, files, "--metric"):
        for key, value in values.items():
            _check_key(key, "metric", source)
            merged[key] = _as_number(key, value, source)
    return merged


def _sources(
    pairs: Sequence[str], files: Sequence[PathLike], flag: str
) -> Iterator[tuple[str, dict[str, object]]]:
    for path in files:
        yield f"in {os.fspath(path)!r}", flatten(load_file(path))
    yield f"from {flag}", dict(parse_pairs(pairs, flag))


def _check_key(key: str, what: str, source: str) -> None:
    if not key:
        raise UsageError(f"a {what} {source} has an empty name: give every {what} a name")
    if len(key) > MAX_KEY_LENGTH:
        raise UsageError(
            f"{what} name {key[:40]!r}... {source} is {len(key)} characters, over the registry's "
            f"limit of {MAX_KEY_LENGTH}: shorten it"
        )


def _as_text(key: str, value: object, source: str) -> str:
    text = _text_of(value)
    if len(text) > MAX_PARAM_VALUE_LENGTH:
        raise UsageError(
            f"param {key!r} {source} has a {len(text)}-character value, over the registry's limit "
            f"of {MAX_PARAM_VALUE_LENGTH}: shorten it, or publish it as a file instead"
        )
    return text


def _text_of(value: object) -> str:
    if isinstance(value, bool):  # YAML/JSON spelling, not Python's True/False
        return "true" if value else "false"
    return "" if value is None else str(value)


def _as_number(key: str, value: object, source: str) -> float:
    number: float | None = None
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        try:
            number = float(value)
        except (ValueError, OverflowError):
            number = None
    if number is None or not math.isfinite(number):
        shown = repr(value) if number is None else repr(number)
        raise UsageError(
            f"metric {key!r} {source} is {shown[:60]}, not a finite number: "
            "give a number such as 0.93 (no NaN or infinity)"
        )
    return number


def batches(
    params: Mapping[str, str], metrics: Mapping[str, float], tags: Mapping[str, str]
) -> Iterator[Batch]:
    """Split everything into as few ``runs/log-batch`` requests as MLflow's limits allow."""
    param_items, metric_items, tag_items = (
        list(params.items()),
        list(metrics.items()),
        list(tags.items()),
    )
    p = m = t = 0
    while p < len(param_items) or m < len(metric_items) or t < len(tag_items):
        batch_params = param_items[p : p + MAX_BATCH_PARAMS]
        batch_tags = tag_items[t : t + MAX_BATCH_TAGS]
        room = min(MAX_BATCH_METRICS, MAX_BATCH_ENTITIES - len(batch_params) - len(batch_tags))
        batch_metrics = metric_items[m : m + room]
        yield Batch(tuple(batch_params), tuple(batch_metrics), tuple(batch_tags))
        p, m, t = p + len(batch_params), m + len(batch_metrics), t + len(batch_tags)
