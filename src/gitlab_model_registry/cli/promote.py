"""`gmr promote`: a version to its release, another version, another project or an
environment (MODEL and VERSION as `_context` declares them)."""

from __future__ import annotations

from pathlib import Path

import click

from gitlab_model_registry import files
from gitlab_model_registry import promotion as promoting
from gitlab_model_registry.cli import report as report_cli
from gitlab_model_registry.cli._context import (
    CONCURRENCY,
    JSON,
    MODEL,
    VERSION,
    Context,
    common_options,
    gates_option,
    option,
    required_model,
)
from gitlab_model_registry.cli._signing import verifier, verify_options
from gitlab_model_registry.console_results import dotenv_values, render_promote, write_dotenv
from gitlab_model_registry.errors import Problems, UsageError
from gitlab_model_registry.mr_report import ReportRequest
from gitlab_model_registry.pacing import AUTO


@click.command(short_help="Promote a version to a release, another version or project.")
@MODEL
@VERSION
@option(
    "--to",
    "to_version",
    envvar="GMR_TO_VERSION",
    metavar="SEMVER|release",
    help="Version to promote to; 'release' is the same as --release.",
)
@option(
    "--release",
    is_flag=True,
    envvar="GMR_RELEASE",
    help="Promote a prerelease to its release (1.4.0-rc.2 -> 1.4.0).",
)
@option(
    "--to-project",
    envvar="GMR_TO_PROJECT",
    metavar="ID|PATH",
    help="Promote into another GitLab project.",
)
@gates_option(
    "A metric gate (>=, >, <=, <, ==) against a number or an environment's version "
    "('f1>=@production-0.01'); repeatable."
)
@option(
    "--environment",
    envvar="GMR_ENVIRONMENT",
    metavar="NAME",
    help="Put the promoted version into this environment (alone: VERSION itself).",
)
@option(
    "--dotenv",
    envvar="GMR_DOTENV",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write MODEL_* variables of the promoted version.",
)
@report_cli.METRICS_REPORT
@report_cli.ANNOTATIONS
@verify_options(
    "--require-signature",
    "GMR_REQUIRE_SIGNATURE",
    "Promote only if the version's signature verifies and covers every file.",
)
@JSON
@CONCURRENCY
@common_options
def promote(
    model: str | None,
    version: str | None,
    to_version: str | None,
    release: bool,
    to_project: str | None,
    gates: tuple[str, ...],
    environment: str | None,
    dotenv: Path | None,
    metrics_report: Path | None,
    annotations: Path | None,
    as_json: bool,
    concurrency: int | None,
    verify: bool,
    public_key: Path | None,
    identity: str | None,
    issuer: str | None,
) -> None:
    """Promote VERSION of MODEL: to its release, another version, or another project, and
    (--environment) into an environment."""
    request = promoting.PromoteRequest(
        model=required_model(model),
        version=_required_version(version),
        release=release,
        to_version=to_version,
        to_project=to_project,
        gates=gates,
        concurrency=concurrency or AUTO,
        environment=environment,
        require_signature=verifier(verify, public_key, identity, issuer),
    )
    ctx = Context()
    problems = Problems()  # every local problem is listed before any request
    with problems.check():
        promoting.target_version(request)
    with problems.check():
        promoting.check_gates(request)
    if dotenv:
        problems.found += files.output_file_problems(dotenv, "--dotenv")
    problems.found += report_cli.output_problems(metrics_report, annotations, None)
    problems.raise_any()
    source = ctx.backend()
    target = ctx.target_backend(source, request.to_project)
    result = promoting.promote(
        source,
        target,
        request,
        ctx.settings.ci,
        source_ref=ctx.source_ref(request.model, request.version),
        observer=ctx.console,
    )
    if dotenv:
        write_dotenv(dotenv, dotenv_values(result.target))
    if metrics_report or annotations:
        report = ReportRequest(
            model=result.target.model,
            version=result.target.version,
            post_note=False,
            metrics_file=metrics_report,
            annotations_file=annotations,
        )
        report_cli.report_after(ctx, target, result.target, report)
    click.echo(render_promote(result, as_json=as_json))


def _required_version(version: str | None) -> str:
    if not version:
        raise UsageError(
            "no version", hint="pass VERSION or set GMR_MODEL_VERSION (or MODEL_VERSION)"
        )
    return version
