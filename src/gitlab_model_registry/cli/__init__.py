"""The ``gmr`` command line: flags -> Settings -> one library call -> rendering.

This package is the only importer of click, and ``main`` is the single exception boundary that
maps errors to one-line messages and the exit codes of the design's table.
"""

from __future__ import annotations

import atexit
import importlib
import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Mapping
from typing import Any

import click

from gitlab_model_registry import __version__, _threads
from gitlab_model_registry.console import use_color
from gitlab_model_registry.errors import GmrError, Interrupted, LocalProblems

_SHOW_TRACEBACK = 2

#: Each command and the module defining it, imported only when that command runs (or for
#: ``--help``): a ``gmr download`` does not load what publish, promote or prune need, which
#: shortens every command's start-up (bench/README.md, "Start-up").
_COMMANDS = {
    "publish": "publish:publish",
    "next-version": "publish:next_version",
    "promote": "promote:promote",
    "download": "reading:download",
    "versions": "reading:versions",
    "show": "reading:show",
    "history": "environments:history",
    "rollback": "environments:rollback",
    "report": "report:report",
    "prune": "prune:prune",
}


class _LazyGroup(click.Group):
    """A group whose commands are imported by name, on first use (click's documented pattern
    for lazily loaded subcommands)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return _load(cmd_name) if cmd_name in _COMMANDS else None

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in _COMMANDS:
            # Not a command name: click suggests the closest of the commands it holds.
            for name in _COMMANDS:
                self.add_command(_load(name), name)
        return super().resolve_command(ctx, args)


def _load(name: str) -> click.Command:
    module, attribute = _COMMANDS[name].split(":")
    command = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
    assert isinstance(command, click.Command)
    return command


@click.group(
    cls=_LazyGroup,
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


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and turn every failure into one line and an exit code."""
    verbosity = _verbosity(argv or sys.argv[1:], os.environ)
    logging.basicConfig(
        level=logging.DEBUG if verbosity >= 2 else logging.WARNING, format="%(message)s"
    )
    # urllib3's raw "Retrying (Retry(total=3, …))" lines (under mlflow's client): shown from -v.
    logging.getLogger("urllib3").setLevel(logging.DEBUG if verbosity else logging.ERROR)
    previous = _stop_on_signals()
    try:
        cli.main(args=argv, prog_name="gmr", standalone_mode=False)
    except Interrupted as stop:
        _stop(stop)
    except click.exceptions.Abort:
        _fail("aborted", 130)
    except click.UsageError as error:
        # The path of the command that was recognised: a misspelt command gets `gmr --help`.
        path = error.ctx.command_path if error.ctx else "gmr"
        _fail(error.format_message(), 2, hint=f"see: {path} --help")
    except click.ClickException as error:
        _fail(error.format_message(), 2)
    except LocalProblems as error:
        for problem in error.problems[:-1]:  # every problem found before any request, one a line
            click.echo(f"{_error_prefix()} {problem}", err=True)
        _fail(error.problems[-1], error.exit_code, hint=error.hint)
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
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    sys.exit(0)


def run() -> None:
    """The ``gmr`` executable: ``main``, then an exit without Python's teardown of every module.

    The teardown frees objects the process is about to drop anyway; it took 0.1 to 0.2 s here, a
    tenth of a small publish. What an exit must still do is done first: other non-daemon
    threads are joined, ``atexit`` handlers run (logging's flush among them), streams flush.
    ``main`` itself keeps ``sys.exit`` for callers that run it in-process.
    """
    try:
        main()
    except SystemExit as done:
        code = done.code
        if code is not None and not isinstance(code, int):
            click.echo(code, err=True)  # sys.exit("text"): Python prints it and exits 1
            code = 1
        _exit_now(code or 0)


def _exit_now(code: int) -> None:
    # What the interpreter does first at exit: thread-pool exit hooks tell idle workers to stop
    # (a pool left open, as MLflow's artifact pool is, would be joined forever otherwise), then
    # every non-daemon thread is joined.
    threading._shutdown()  # type: ignore[attr-defined]
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader that left (`gmr versions | head`)
            code = code or 120  # what Python's own exit reports then
    os._exit(code)


def _stop_on_signals() -> dict[int, Any]:
    """SIGINT and SIGTERM (a cancelled or timed-out GitLab job) cancel transfers and stop."""
    stopping = threading.Event()

    def handler(signum: int, frame: object) -> None:
        if stopping.is_set():
            return  # already stopping: a second signal changes nothing
        stopping.set()
        _threads.cancel()
        raise Interrupted(signum)

    if threading.current_thread() is not threading.main_thread():
        return {}
    return {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}


def _stop(stop: Interrupted) -> None:
    """One line, then exit at once: GitLab's grace before SIGKILL is short, and transfer
    threads still winding down must not hold the exit (os._exit skips joining them)."""
    name = signal.Signals(stop.signum).name
    click.echo(
        f"{_error_prefix()} interrupted by {name}" + (f": {stop.detail}" if stop.detail else ""),
        err=True,
    )
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(stop.exit_code)


def _verbosity(args: list[str], environ: Mapping[str, str]) -> int:
    """-v/-vv (else GMR_VERBOSE) counted before click parses, so parse errors honour it too."""
    flags = sum(
        1 if a == "--verbose" else len(a) - 1 for a in args if re.fullmatch(r"--verbose|-v+", a)
    )
    from_env = environ.get("GMR_VERBOSE", "")
    return flags or (int(from_env) if from_env.isdigit() else 0)


def _fail(message: str, code: int, *, hint: str = "") -> None:
    click.echo(f"{_error_prefix()} {message}" + (f" — {hint}" if hint else ""), err=True)
    sys.exit(code)


def _error_prefix() -> str:
    """``error:``, in red on a colour terminal."""
    if use_color("auto", sys.stderr, os.environ):
        return click.style("error:", fg="red", bold=True)
    return "error:"
