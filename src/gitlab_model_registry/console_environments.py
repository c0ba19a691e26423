"""Presentation of environments: history tables, rollback and deployment lines (text or JSON)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict

from gitlab_model_registry.environments import RollbackResult
from gitlab_model_registry.models import Deployment


def deployment_line(d: Deployment) -> str:
    state = {"running": "recorded; GitLab marks it successful when this job succeeds"}.get(
        d.status, d.status
    )
    return f"  environment: {d.environment} ({state})"


def render_history(found: Sequence[Deployment], *, as_json: bool) -> str:
    if as_json:
        return json.dumps([asdict(d) for d in found], indent=2, sort_keys=True)
    if not found:
        return "no deployments"
    rows = [
        (
            _when(d.created_at),
            d.environment,
            d.version,
            d.status,
            d.user or "-",
            d.job_url or d.pipeline_url or "-",
        )
        for d in found
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row[:5], widths, strict=True)) + "  " + row[5]
        for row in rows
    )


def render_rollback(result: RollbackResult, *, as_json: bool) -> str:
    mv = result.target
    if as_json:
        return json.dumps(
            {
                "environment": result.environment,
                "previous": result.previous,
                "version": mv.version,
                "model_version": asdict(mv),
                "deployment": asdict(result.deployment),
            },
            indent=2,
            sort_keys=True,
        )
    return "\n".join(
        [
            f"Rolled {result.environment} back: {mv.model} {result.previous} -> {mv.version}",
            deployment_line(result.deployment),
            f"  {mv.web_url or mv.package_url or 'version id ' + mv.version_id}",
        ]
    )


def _when(stamp: str) -> str:
    return stamp.replace("T", " ").replace("Z", " UTC") if stamp else "-"
