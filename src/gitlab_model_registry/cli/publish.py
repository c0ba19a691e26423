"""`gmr publish` and `gmr next-version`."""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path
from typing import Any

import click

from gitlab_model_registry import api, files, sizes
from gitlab_model_registry.cli import report as report_cli
from gitlab_model_registry.cli._context import (
    CONCURRENCY,
    JSON,
    Context,
    F,
    ListFromEnv,
    common_options,
    option,
    required_model,
)
from gitlab_model_registry.cli._signing import sign_options, signer
from gitlab_model_registry.console_results import dotenv_values, render_publish, write_dotenv
from gitlab_model_registry.errors import Problems, UsageError
from gitlab_model_registry.mr_report import ReportRequest
from gitlab_model_registry.pacing import AUTO

#: GitLab's default per-file limit for model files (plan limit ml_model_max_file_size).
GITLAB_MAX_FILE_SIZE = 10 * 1024**3


class Size(click.ParamType):  # type: ignore[type-arg]
    """A size in bytes, with an optional unit: 4GiB, 500MB, 1048576."""

    name = "size"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            size = sizes.parse_size(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)
        if size < 1:
            self.fail("must be at least 1 byte", param, ctx)
        return size


SIZE = Size()
BUMP = click.Choice(["major", "minor", "patch", "premajor", "preminor", "prepatch", "prerelease"])


def version_options(command: F) -> F:
    options = [
        option(
            "--version",
            "version",
            envvar="GMR_VERSION",
            metavar="SEMVER|auto",
            help="Exact version, or 'auto' to choose from the CI context (tag, merge request, branch).",
        ),
        option(
            "--bump",
            envvar="GMR_BUMP",
            type=BUMP,
            help="Bump the registry's latest version (default patch).",
        ),
        option(
            "--prerelease-label",
            envvar="GMR_PRERELEASE_LABEL",
            default="rc",
            show_default=True,
            help="Label of prerelease bumps.",
        ),
    ]
    for decorator in reversed(options):
        command = decorator(command)
    return command


@click.command(short_help="Publish files or directories as a new model version.")
@click.argument("model", envvar="GMR_MODEL", required=False)
@click.argument("paths", nargs=-1, type=click.Path())
@version_options
@option(
    "--description",
    envvar="GMR_DESCRIPTION",
    help="Version description (default: the CI job and commit).",
)
@option(
    "--param",
    "param_pairs",
    multiple=True,
    envvar="GMR_PARAM",
    metavar="K=V",
    help="A parameter; repeatable (GMR_PARAM: whitespace-separated).",
)
@option(
    "--params-file",
    multiple=True,
    type=click.Path(path_type=Path),
    envvar="GMR_PARAMS_FILE",
    help="Parameters from JSON/YAML; repeatable.",
)
@option(
    "--metric",
    "metric_pairs",
    multiple=True,
    envvar="GMR_METRIC",
    metavar="K=V",
    help="A metric (finite number); repeatable (GMR_METRIC: whitespace-separated).",
)
@option(
    "--metrics-file",
    multiple=True,
    type=click.Path(path_type=Path),
    envvar="GMR_METRICS_FILE",
    help="Metrics from JSON/YAML; repeatable.",
)
@option(
    "--dotenv",
    envvar="GMR_DOTENV",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write MODEL_* variables for artifacts:reports:dotenv.",
)
@JSON
@option("--dry-run", is_flag=True, envvar="GMR_DRY_RUN", help="Print the plan; write nothing.")
@CONCURRENCY
@option(
    "--split-size",
    envvar="GMR_SPLIT_SIZE",
    type=SIZE,
    metavar="SIZE",
    help="GitLab: store files over SIZE (e.g. 4GiB) as parts plus a manifest, read back as one "
    "file (default 4.5GiB, under GitLab.com's 5 GB per file).",
)
@option(
    "--max-file-size",
    envvar="GMR_MAX_FILE_SIZE",
    type=click.IntRange(min=1),
    default=GITLAB_MAX_FILE_SIZE,
    show_default=True,
    metavar="BYTES",
    help="Refuse files larger than this before uploading (GitLab's default limit: 10 GiB).",
)
@option(
    "--exclude",
    multiple=True,
    envvar="GMR_EXCLUDE",
    type=ListFromEnv("glob"),
    metavar="GLOB",
    help="Leave out files or folders of a directory PATH matching GLOB; repeatable.",
)
@option(
    "--include",
    multiple=True,
    envvar="GMR_INCLUDE",
    type=ListFromEnv("glob"),
    metavar="GLOB",
    help="Keep files matching GLOB even when excluded (or in .git/, .hg/, .svn/); repeatable.",
)
@report_cli.publish_report_options
@sign_options
@common_options
def publish(
    model: str | None,
    paths: tuple[str, ...],
    version: str | None,
    bump: str | None,
    prerelease_label: str,
    description: str | None,
    param_pairs: tuple[str, ...],
    params_file: tuple[Path, ...],
    metric_pairs: tuple[str, ...],
    metrics_file: tuple[Path, ...],
    dotenv: Path | None,
    as_json: bool,
    dry_run: bool,
    concurrency: int | None,
    split_size: int | None,
    max_file_size: int,
    exclude: tuple[str, ...],
    include: tuple[str, ...],
    mr_report: bool,
    against: tuple[str, ...],
    metrics_report: Path | None,
    annotations: Path | None,
    markdown: Path | None,
    sign: bool,
    signing_key: Path | None,
    signing_key_variable: str | None,
) -> None:
    """Publish MODEL's files (files or directories) as a new version.

    Without PATH arguments the paths come from GMR_FILES (a JSON array or whitespace-separated).
    """
    ctx = Context()
    problems = Problems()  # every local problem is listed before anything remote happens
    params: dict[str, str] = {}
    metrics: dict[str, float] = {}
    with problems.check():
        params = api.load_metadata(param_pairs, params_file, (), ())[0]
    with problems.check():
        metrics = api.load_metadata((), (), metric_pairs, metrics_file)[1]
    if dotenv:
        problems.found += files.output_file_problems(dotenv, "--dotenv")
    problems.found += report_cli.output_problems(metrics_report, annotations, markdown)
    sign_with = None
    with problems.check():
        sign_with = signer(sign, signing_key, signing_key_variable, os.environ)
    request = api.PublishRequest(
        model=required_model(model),
        paths=paths or _paths_from_env(),
        version=version,
        bump=bump,
        prerelease_label=prerelease_label,
        description=description,
        params=params,
        metrics=metrics,
        concurrency=concurrency or AUTO,
        dry_run=dry_run,
        max_file_size=max_file_size,
        split_size=split_size,
        exclude=exclude,
        include=include,
        signer=sign_with,
    )
    with problems.check():
        api.check_publish(request, ctx.settings.ci, ctx.settings.backend)
    with problems.check():  # opens nothing yet: a missing token or extra is found here
        backend = ctx.backend()
    problems.raise_any()
    result = api.publish(backend, request, ctx.settings.ci, ctx.console)
    if dotenv and result.model_version:
        write_dotenv(dotenv, dotenv_values(result.model_version))
    wanted = mr_report or metrics_report or annotations or markdown
    if wanted and result.model_version and not result.dry_run:
        report = ReportRequest(
            model=result.model_version.model,
            version=result.model_version.version,
            merge_request=ctx.settings.ci.merge_request_iid if mr_report else "",
            against=against,
            post_note=mr_report,
            markdown_file=markdown,
            metrics_file=metrics_report,
            annotations_file=annotations,
        )
        report_cli.report_after(ctx, backend, result.model_version, report)
    click.echo(render_publish(result, as_json=as_json))


@click.command("next-version", short_help="Print the version publish would create; writes nothing.")
@click.argument("model", envvar="GMR_MODEL", required=False)
@version_options
@common_options
def next_version(
    model: str | None, version: str | None, bump: str | None, prerelease_label: str
) -> None:
    """Print the version `publish` would create now; writes nothing."""
    ctx = Context()
    request = api.PublishRequest(
        model=required_model(model), version=version, bump=bump, prerelease_label=prerelease_label
    )
    click.echo(api.next_version(ctx.backend(), request, ctx.settings.ci))


def _paths_from_env() -> tuple[str, ...]:
    raw = os.environ.get("GMR_FILES", "").strip()
    if raw.startswith("["):
        try:
            paths = json.loads(raw)
        except ValueError as error:
            raise UsageError(f"GMR_FILES is not a valid JSON array: {error}") from None
        return tuple(str(p) for p in paths)
    return tuple(shlex.split(raw))
