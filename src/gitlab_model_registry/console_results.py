"""Presentation of results: what publish, promote, download, versions and show print on stdout
(text or JSON), and the dotenv report a CI job hands on to later jobs."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitlab_model_registry.console_environments import deployment_line
from gitlab_model_registry.models import ModelVersion, PublishResult
from gitlab_model_registry.sizes import human_size

if TYPE_CHECKING:
    from gitlab_model_registry.promotion import PromoteResult
    from gitlab_model_registry.reading import DownloadResult, VersionDetails


def render_publish(result: PublishResult, *, as_json: bool) -> str:
    """The result for stdout: a short summary ending with the version's URL, or JSON."""
    if as_json:
        return json.dumps(publish_json(result), indent=2, sort_keys=True)
    plan, mv = result.plan, result.model_version
    if result.dry_run or mv is None:
        lines = [
            f"dry run: would {'resume' if plan.resume else 'create'} {plan.model} {plan.version}"
        ]
        lines += [f"  {f.remote_name} ({human_size(f.size)})" for f in plan.files]
        lines += [f"  left out: {name}" for name in plan.left_out]
        lines.append(
            f"  {len(plan.params)} param(s), {len(plan.metrics)} metric(s); nothing was written"
        )
        return "\n".join(lines)
    return "\n".join(
        [
            f"Published {mv.model} {mv.version}",
            f"  files: {len(result.uploaded)} uploaded, {len(result.skipped)} already present",
            f"  {_link(mv)}",
        ]
    )


def publish_json(result: PublishResult) -> dict[str, Any]:
    plan = result.plan
    data: dict[str, Any] = {
        "model": plan.model,
        # A lost race moves publish to a later version than the plan's.
        "version": result.model_version.version if result.model_version else plan.version,
        "dry_run": result.dry_run,
        "created_model": plan.create_model,
        "resumed": plan.resume,
        "files": [{"name": f.remote_name, "size": f.size} for f in plan.files],
        "left_out": list(plan.left_out),
        "params": plan.params,
        "metrics": plan.metrics,
    }
    if result.model_version:
        data["model_version"] = asdict(result.model_version)
        data["uploaded"] = [asdict(f) for f in result.uploaded]
        data["skipped"] = [asdict(f) for f in result.skipped]
    return data


def dotenv_values(mv: ModelVersion) -> dict[str, str]:
    return {
        "MODEL_NAME": mv.model,
        "MODEL_VERSION": mv.version,
        "MODEL_VERSION_ID": mv.version_id,
        "MODEL_RUN_ID": mv.run_id,
        "MODEL_VERSION_URL": mv.web_url,
        "MODEL_PACKAGE_URL": mv.package_url,
    }


def write_dotenv(path: Path, values: Mapping[str, str]) -> None:
    """Write KEY=value lines atomically (GitLab's dotenv report takes values verbatim)."""
    for key, value in values.items():
        if "\n" in value:
            raise ValueError(f"dotenv value of {key} contains a newline")
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("".join(f"{k}={v}\n" for k, v in values.items()), encoding="utf-8")
    tmp.replace(path)


def _link(mv: ModelVersion) -> str:
    """Where to look at a version: its web page, else its files (a local registry has no page)."""
    return mv.web_url or mv.package_url or f"version id {mv.version_id}"


def _dump(data: object) -> str:
    return json.dumps(data, indent=2, sort_keys=True)


def render_promote(result: PromoteResult, *, as_json: bool) -> str:
    src, dst, deployed = result.source, result.target, result.deployment
    if as_json:
        return _dump(
            {
                "source": asdict(src),
                "model_version": asdict(dst),
                "version": dst.version,
                "resumed": result.resumed,
                "copied": [asdict(f) for f in result.copied],
                "skipped": [asdict(f) for f in result.skipped],
                "deployment": asdict(deployed) if deployed else None,
                "signer": result.signer or None,
            }
        )
    if deployed and src is dst:
        lines = [f"Deployed {src.model} {src.version} to {deployed.environment}"]
    else:
        lines = [
            f"Promoted {src.model} {src.version} -> {dst.version}",
            f"  files: {len(result.copied)} copied, {len(result.skipped)} already present",
            *(
                [f"  signature: carried (model.sig, signed by {result.signer})"]
                if result.signer
                else []
            ),
        ]
    if deployed:
        lines.append(deployment_line(deployed))
    return "\n".join([*lines, f"  {_link(dst)}"])


def render_download(result: DownloadResult, *, as_json: bool) -> str:
    mv = result.version
    if as_json:
        return _dump(
            {
                "model": mv.model,
                "version": mv.version,
                "dest": str(result.dest),
                "files": [asdict(f) for f in result.files],
                "from_cache": [f.name for f in result.cached],
                "signer": result.signer or None,
            }
        )
    size = human_size(sum(f.size for f in result.files))
    cached = f" ({len(result.cached)} from the cache)" if result.cached else ""
    signed = f"; signature verified, signed by {result.signer}" if result.signer else ""
    return (
        f"Downloaded {mv.model} {mv.version}: {len(result.files)} file(s), {size}{cached} "
        f"into {result.dest}{signed}"
    )


_INCOMPLETE = "  (incomplete: its publish did not finish)"


def render_versions(
    found: list[ModelVersion], *, as_json: bool, held: Mapping[str, list[str]] | None = None
) -> str:
    """``held``: semver -> environments holding it, marked after the version."""
    held = held or {}
    if as_json:
        return _dump([asdict(mv) | {"environments": held.get(mv.version, [])} for mv in found])
    width = max((len(mv.version) for mv in found), default=0)
    return "\n".join(
        f"{mv.version:<{width}}  {_created(mv)}  {_link(mv)}"
        + (f"  [{', '.join(held[mv.version])}]" if held.get(mv.version) else "")
        + ("" if mv.complete else _INCOMPLETE)
        for mv in found
    )


def render_show(details: VersionDetails, *, as_json: bool) -> str:
    mv, run = details.version, details.run
    if as_json:
        return _dump(
            {
                "model_version": asdict(mv),
                "files": [asdict(f) for f in details.files],
                "params": run.params,
                "metrics": run.metrics,
                "tags": run.tags,
                "signed": details.signed,
                "signer": details.signer or None,
            }
        )
    lines = [f"{mv.model} {mv.version}  ({_link(mv)})", f"  created: {_created(mv)}"]
    if details.signed:  # shown as recorded; `download --verify` is what checks it
        lines.append(f"  signed: yes, by {details.signer or 'an unrecorded signer'} (model.sig)")
    else:
        lines.append("  signed: no")
    if not mv.complete:
        lines.append(
            "  status: incomplete (its publish did not finish; publish it again to finish it)"
        )
    if mv.description:
        lines.append(f"  description: {mv.description}")
    if job := run.tags.get("ci.job_url") or run.tags.get("gitlab.CI_JOB_ID"):
        lines.append(f"  CI job: {job}")
    lines.append(f"  files ({len(details.files)}):")
    lines += [
        f"    {f.name}  {human_size(f.size)}  sha256 {f.sha256 or '?'}"
        + (f"  (split: {f.parts} parts)" if f.parts else "")
        for f in details.files
    ]
    for title, values in (("params", run.params), ("metrics", run.metrics), ("tags", run.tags)):
        lines.append(f"  {title} ({len(values)}):")
        lines += [f"    {k} = {v}" for k, v in sorted(values.items())]
    return "\n".join(lines)


def _created(mv: ModelVersion) -> str:
    """``2026-12-01 09:30:00 UTC`` from the ISO 8601 UTC every backend reports."""
    return mv.created_at.replace("T", " ").replace("Z", " UTC") if mv.created_at else "-"
