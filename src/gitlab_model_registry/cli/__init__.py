"""The ``gmr`` command line: flags -> Settings -> one library call -> rendering.

This package is the only importer of click, and ``main`` is the single exception boundary that
maps errors to one-line messages and the exit codes of the design's table.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Mapping

import click

from gitlab_model_registry import __version__
from gitlab_model_registry.cli import lifecycle, publish
from gitlab_model_registry.console import use_color
from gitlab_model_registry.errors import GmrError

_SHOW_TRACEBACK = 2


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    invoke_without_command=True,
    no_args_is_help=False,
)
@click.version_option(__version__, prog_name="gmr")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Publish, promote and download models in GitLab's Model registry (or any MLflow registry).

    Every option also reads the environment variable its help names (GMR_*).
    """
    if ctx.invoked_subcommand is None:  # bare `gmr`: the help, as `gmr --help` prints it
        click.echo(ctx.get_help())


for command in (
    publish.publish,
    publish.next_version,
    lifecycle.promote,
    lifecycle.download,
    lifecycle.versions,
    lifecycle.show,
):
    cli.add_command(command)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and turn every failure into one line and an exit code."""
    verbosity = _verbosity(argv or sys.argv[1:], os.environ)
    logging.basicConfig(
        level=logging.DEBUG if verbosity >= 2 else logging.WARNING, format="%(message)s"
    )
    try:
        cli.main(args=argv, prog_name="gmr", standalone_mode=False)
    except click.exceptions.Abort:
        _fail("aborted", 130)
    except click.UsageError as error:
        # The path of the command that was recognised: a misspelt command gets `gmr --help`.
        path = error.ctx.command_path if error.ctx else "gmr"
        _fail(error.format_message(), 2, hint=f"see: {path} --help")
    except click.ClickException as error:
        _fail(error.format_message(), 2)
    except GmrError as error:
        if verbosity >= _SHOW_TRACEBACK:
            logging.exception("traceback")
        _fail(error.message, error.exit_code, hint=error.hint)
    except Exception as error:  # the boundary: anything else is a bug
        if verbosity >= _SHOW_TRACEBACK:
            logging.exception("traceback")
        _fail(
            f"unexpected error: {type(error).__name__}: {error}",
            1,
            hint="re-run with -vv for the traceback",
        )
    sys.exit(0)


def _verbosity(args: list[str], environ: Mapping[str, str]) -> int:
    """-v/-vv (else GMR_VERBOSE) counted before click parses, so parse errors honour it too."""
    flags = sum(
        1 if a == "--verbose" else len(a) - 1 for a in args if re.fullmatch(r"--verbose|-v+", a)
    )
    from_env = environ.get("GMR_VERBOSE", "")
    return flags or (int(from_env) if from_env.isdigit() else 0)


def _fail(message: str, code: int, *, hint: str = "") -> None:
    prefix = "error:"
    if use_color("auto", sys.stderr, os.environ):
        prefix = click.style(prefix, fg="red", bold=True)
    click.echo(f"{prefix} {message}" + (f" — {hint}" if hint else ""), err=True)
    sys.exit(code)
