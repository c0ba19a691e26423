"""`gmr prune`: delete versions by policy, never one in use (see ``retention``).

The plan (each version kept or deleted, and why) is the result on stdout, as text or JSON;
``--dry-run`` prints it and deletes nothing. The only command that deletes anything.
"""

from __future__ import annotations

import json
from datetime import timedelta

import click

from gitlab_model_registry import prune as pruning
from gitlab_model_registry import retention
from gitlab_model_registry.cli._context import (
    JSON,
    MODEL,
    Context,
    common_options,
    option,
    required_model,
)
from gitlab_model_registry.errors import UsageError


@click.command(short_help="Delete versions by policy (never one in use); --dry-run to preview.")
@MODEL
@option(
    "--keep-last",
    envvar="GMR_KEEP_LAST",
    type=click.IntRange(min=0),
    metavar="N",
    help="Keep the N newest versions that could be deleted.",
)
@option(
    "--older-than",
    envvar="GMR_OLDER_THAN",
    metavar="DURATION",
    help="Delete only versions older than this (30d, 12h, 2w).",
)
@option(
    "--mr",
    envvar="GMR_MR",
    type=click.Choice(sorted(retention.MR_CHOICES)),
    default="any",
    show_default=True,
    help="MR prereleases to delete, by MR state: closed, merged, or any (both, and older "
    "prereleases of open MRs).",
)
@option(
    "--include-releases/--prereleases-only",
    "include_releases",
    envvar="GMR_INCLUDE_RELEASES",
    default=False,
    help="Releases may be deleted too (protected ones never); default: prereleases only.",
)
@option("--dry-run", is_flag=True, envvar="GMR_DRY_RUN", help="Print the plan; delete nothing.")
@JSON
@common_options
def prune(
    model: str | None,
    keep_last: int | None,
    older_than: str | None,
    mr: str,
    include_releases: bool,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Delete versions of MODEL by policy: prereleases of merged or closed MRs, beyond
    --keep-last, older than --older-than. Never deleted: a version in or recently in an
    environment, the latest release, a promotion source, a signed release, an incomplete
    version whose job may still run."""
    policy = retention.Policy(
        keep_last=keep_last,
        older_than=_duration(older_than),
        mr=mr,
        include_releases=include_releases,
    )
    name = required_model(model)
    ctx = Context()
    result = pruning.prune(ctx.backend(), name, policy, dry_run=dry_run, observer=ctx.console)
    click.echo(render(result, as_json=as_json))
    if result.failed:
        raise pruning.PruneIncomplete(result)


def _duration(text: str | None) -> timedelta | None:
    if not text:
        return None
    try:
        return retention.parse_duration(text)
    except ValueError as error:
        raise UsageError(f"--older-than: {error}", hint="use e.g. 30d, 12h or 2w") from None


def render(result: pruning.PruneResult, *, as_json: bool) -> str:
    failed = {f.version: f.message for f in result.failed}
    if as_json:
        return json.dumps(
            {
                "model": result.model,
                "dry_run": result.dry_run,
                "versions": [
                    {
                        "version": d.version,
                        "action": "delete" if d.delete else "keep",
                        "reason": d.reason,
                        "protected": d.protected,
                        "deleted": d.version in result.deleted,
                        **({"error": failed[d.version]} if d.version in failed else {}),
                    }
                    for d in result.decisions
                ],
                "deleted": list(result.deleted),
                "failed": [{"version": v, "message": m} for v, m in failed.items()],
                "notes": list(result.notes),
            },
            indent=2,
        )
    width = max((len(d.version) for d in result.decisions), default=0)
    lines = [f"{result.model}: {len(result.decisions)} version(s)"]
    for d in result.decisions:
        action = "delete" if d.delete else "keep"
        if d.version in failed:
            action = "FAILED"
        lines.append(f"  {action:<6}  {d.version:<{width}}  {d.reason}")
    planned = sum(1 for d in result.decisions if d.delete)
    if result.dry_run:
        lines.append(f"dry run: {planned} version(s) would be deleted; nothing was deleted")
    else:
        lines.append(f"deleted {len(result.deleted)} of {planned} version(s)")
    return "\n".join(lines)
