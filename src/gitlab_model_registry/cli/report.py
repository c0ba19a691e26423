"""`gmr report`, and the report options `gmr publish` shares (--mr-report, --metrics-report,
--annotations, --markdown, --against). A report after a publish never fails that publish."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from gitlab_model_registry import files, mr_report
from gitlab_model_registry.backends import Backend
from gitlab_model_registry.cli._context import (
    Context,
    F,
    ListFromEnv,
    common_options,
    gates_option,
    option,
    required_model,
)
from gitlab_model_registry.errors import GmrError, Problems, UsageError
from gitlab_model_registry.models import ModelVersion

AGAINST = option(
    "--against",
    multiple=True,
    envvar="GMR_AGAINST",
    type=ListFromEnv("baseline"),
    metavar="REF|@ENV",
    help="Also compare with the latest complete version published from branch REF, or with the "
    "version in environment ENV; repeatable (the merge request's target branch always).",
)


def _file_option(name: str, envvar: str, text: str) -> Callable[[F], F]:
    return option(name, envvar=envvar, type=click.Path(dir_okay=False, path_type=Path), help=text)


METRICS_REPORT = _file_option(
    "--metrics-report",
    "GMR_METRICS_REPORT",
    "Write the version's metrics as OpenMetrics text for artifacts:reports:metrics.",
)
ANNOTATIONS = _file_option(
    "--annotations",
    "GMR_ANNOTATIONS",
    "Write job annotations (links to the version and its files) for artifacts:reports:annotations.",
)
MARKDOWN = _file_option(
    "--markdown", "GMR_MARKDOWN", "Write the comparison as markdown (the note's text)."
)


def report_outputs(command: F) -> F:
    for decorator in reversed([AGAINST, METRICS_REPORT, ANNOTATIONS, MARKDOWN]):
        command = decorator(command)
    return command


def publish_report_options(command: F) -> F:
    """What `gmr publish` adds: the outputs plus --mr-report."""
    mr = option(
        "--mr-report/--no-mr-report",
        envvar="GMR_MR_REPORT",
        default=False,
        help="In a merge-request pipeline, post (or update) the report note on the MR.",
    )
    return mr(report_outputs(command))


def output_problems(*paths: Path | None) -> list[str]:
    names = ("--metrics-report", "--annotations", "--markdown")
    return [
        p
        for path, name in zip(paths, names, strict=True)
        if path
        for p in files.output_file_problems(path, name)
    ]


def report_after(
    ctx: Context,
    backend: Backend,
    mv: ModelVersion,
    request: mr_report.ReportRequest,
) -> None:
    """The report of a version just published or promoted: any failure is one warning line, never an exit."""
    try:
        result = mr_report.run(ctx.settings, backend, request, ctx.console)
    except GmrError as error:
        ctx.console.log(f"warning: no report for {mv.model} {mv.version}: {error}")
        return
    for warning in result.warnings:
        ctx.console.log(f"warning: {warning}")
    if result.note_url:
        ctx.console.log(f"report: {result.note_url}")


@click.command(short_help="Compare a version with its baselines; post the merge-request note.")
@click.argument("model", envvar=["GMR_MODEL", "MODEL_NAME"], required=False)
@click.argument("version", envvar=["GMR_MODEL_VERSION", "MODEL_VERSION"], required=False)
@option(
    "--mr",
    "merge_request",
    envvar="GMR_MR",
    metavar="IID",
    help="Merge request to post the note on (in CI: CI_MERGE_REQUEST_IID).",
)
@option(
    "--no-note",
    is_flag=True,
    envvar="GMR_NO_NOTE",
    help="Print and write the report only; post nothing.",
)
@gates_option("A metric gate whose verdict the report shows; repeatable.")
@report_outputs
@common_options
def report(
    model: str | None,
    version: str | None,
    merge_request: str | None,
    no_note: bool,
    gates: tuple[str, ...],
    against: tuple[str, ...],
    metrics_report: Path | None,
    annotations: Path | None,
    markdown: Path | None,
) -> None:
    """Compare VERSION of MODEL with its baselines and print the markdown.

    In a merge-request pipeline (or with --mr) the note on the merge request is posted, or
    updated in place on later runs. A note that cannot be posted is a warning, not a failure.
    """
    ctx = Context()
    problems = Problems()
    problems.found += output_problems(metrics_report, annotations, markdown)
    if not version:
        problems.found.append("VERSION is required (or MODEL_VERSION from a publish job)")
    problems.raise_any()
    if merge_request and not merge_request.isdigit():
        raise UsageError(f"--mr must be a merge request iid, not {merge_request!r}")
    request = mr_report.ReportRequest(
        model=required_model(model),
        version=str(version),
        merge_request=merge_request or ctx.settings.ci.merge_request_iid,
        against=against,
        requires=gates,
        post_note=not no_note,
        markdown_file=markdown,
        metrics_file=metrics_report,
        annotations_file=annotations,
    )
    result = mr_report.run(ctx.settings, ctx.backend(), request, ctx.console)
    for warning in result.warnings:
        ctx.console.log(f"warning: {warning}")
    if result.note_url:
        ctx.console.log(f"report: {result.note_url}")
    click.echo(result.markdown)
