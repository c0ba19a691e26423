"""The CLI layer: every command and option documented; usage errors exit 2 before any request."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest

from gitlab_model_registry.cli import cli, main

SECRET = "glpat-do-not-print-me"
GITLAB = ["--gitlab-url", "http://127.0.0.1:9", "--project", "1", "--token", SECRET]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


def commands() -> dict[str, click.Command]:
    """Every command of ``gmr``, loaded (the group imports them on first use)."""
    assert isinstance(cli, click.Group)
    with click.Context(cli) as ctx:
        found = {name: cli.get_command(ctx, name) for name in cli.list_commands(ctx)}
    loaded = {name: command for name, command in found.items() if command is not None}
    assert len(loaded) == len(found) >= 10
    return loaded


def test_every_command_and_option_has_help() -> None:
    for name, command in commands().items():
        assert command.help, f"command {name} has no help"
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"{name} {param.opts} has no help"


def test_help_names_every_option_s_environment_variable(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, command in commands().items():
        _, out, _ = run(capsys, name, "--help")
        flat = " ".join(out.split())  # help wraps long lines
        for param in command.params:
            if isinstance(param, click.Option) and param.name != "help":
                assert isinstance(param.envvar, str) and param.envvar.startswith("GMR_")
                assert f"env var: {param.envvar}" in flat, f"{name} {param.opts}"


def test_a_command_loads_only_the_modules_it_needs() -> None:
    """Start-up: the CLI imports a command's module when that command runs, and the package
    its public names on first use, so a download never loads publish's, promote's, report's or
    prune's code."""
    probe = (
        "import sys\n"
        "from gitlab_model_registry.cli import cli\n"
        "import click\n"
        "cli.get_command(click.Context(cli), 'download')\n"
        "import gitlab_model_registry.backends.gitlab\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    loaded = set(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                                check=True).stdout.split())  # fmt: skip

    assert "gitlab_model_registry.cli.reading" in loaded
    needless = {"api", "promotion", "mr_report", "report", "retention", "prune", "cli.publish",
                "cli.promote", "cli.report", "cli.prune", "cli.environments", "backends.mlflow"}  # fmt: skip
    assert loaded.isdisjoint(f"gitlab_model_registry.{name}" for name in needless)


def test_bare_gmr_prints_the_full_help_and_succeeds(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys)

    assert code == 0 and err == ""
    assert out.startswith("Usage: gmr ")
    summaries = [line for line in out.splitlines() if line.startswith("  ") and "  " in line[2:]]
    assert {line.split()[0] for line in summaries} >= set(commands())
    assert not any(line.endswith("...") for line in summaries)  # none cut off


def test_a_misspelt_command_gets_a_suggestion_not_an_echo(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "pubish", "x")

    assert code == 2 and out == ""
    assert err.strip() == (
        "error: No such command 'pubish'. Did you mean 'publish'? — see: gmr --help"
    )


def test_a_bad_option_points_at_its_command_s_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "publish", "m", "--bump", "huge")

    assert code == 2
    assert err.count("\n") == 1 and err.rstrip().endswith("see: gmr publish --help")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")

    assert code == 0 and out.startswith("gmr, version ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["publish", "m", "{file}", "--version", "v1.2"], "'v1.2' is not a semantic version"),
        (["publish", "m", "{file}", "--version", "1.0.0", "--bump", "patch"], "exclusive"),
        (["publish", "m", "does-not-exist.bin"], "does-not-exist.bin"),
        (["publish", "m", "{file}", "--metric", "acc=nan"], "acc"),
        (["publish", "m"], "nothing to upload"),
        (["publish", "{file}"], "PATH"),
        (["publish", "m", "{file}", "--bump", "huge"], "huge"),
    ],
)
def test_usage_errors_exit_2_before_any_request(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], message: str
) -> None:
    file = tmp_path / "model.bin"
    file.write_bytes(b"weights")

    code, out, err = run(capsys, *[a.replace("{file}", str(file)) for a in args], *GITLAB)

    assert code == 2, err
    assert out == ""
    assert message.lower() in err.lower()
    assert len(err.strip().splitlines()) == 1
    assert SECRET not in err


def test_missing_token_is_a_usage_error_naming_the_token_kind(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("GITLAB_TOKEN", "MLFLOW_TRACKING_TOKEN", "GMR_TOKEN"):
        monkeypatch.delenv(name, raising=False)

    code, _, err = run(
        capsys, "publish", "m", str(tmp_path), "--gitlab-url", "http://x", "--project", "1"
    )

    assert code == 2
    assert "api scope" in err and "Developer" in err


@pytest.mark.parametrize(
    "require", ['["accuracy>=0.9", "loss=>0.2"]', "accuracy>=0.9 loss=>0.2"], ids=["json", "words"]
)
def test_gates_from_the_environment_are_checked_before_any_request(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, require: str
) -> None:
    monkeypatch.setenv("GMR_REQUIRE", require)

    code, _, err = run(capsys, "promote", "m", "1.0.0-rc.1", "--release", *GITLAB)

    assert code == 2
    assert "bad gate 'loss=>0.2'" in err


def test_release_and_an_explicit_to_are_exclusive(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "promote", "m", "1.0.0-rc.1", "--release", "--to", "2.0.0", *GITLAB)

    assert code == 2
    assert "--to and --release are exclusive" in err


@pytest.mark.parametrize("target", [("--release",), ("--to", "release")], ids=["flag", "keyword"])
def test_promoting_a_release_to_its_release_says_it_is_already_one(
    capsys: pytest.CaptureFixture[str], target: tuple[str, ...]
) -> None:
    code, _, err = run(capsys, "promote", "m", "1.4.0", *target, *GITLAB)

    assert code == 2
    assert "1.4.0 is already a release, so it has no release to promote to" in err
    assert "--to SEMVER" in err


def test_an_empty_bump_from_the_environment_is_not_set(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GMR_BUMP", "")  # the publish component's default
    file = tmp_path / "model.bin"
    file.write_bytes(b"weights")

    code, _, err = run(capsys, "publish", "m", str(file), "--version", "v9", *GITLAB)

    assert code == 2
    assert "'v9' is not a semantic version" in err and "exclusive" not in err


def test_every_local_problem_of_a_publish_is_listed_one_a_line_before_any_request(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    args = ["publish", "my model", str(tmp_path / "missing.bin"), "--metric", "acc=high"]
    args += ["--version", "1.0", "--dotenv", str(tmp_path / "nodir" / "model.env")]

    code, out, err = run(capsys, *args, *GITLAB)

    lines = err.strip().splitlines()
    assert code == 2 and out == ""
    assert all(line.startswith("error: ") for line in lines)
    expected = ["acc", "--dotenv", "not a semantic version", "'my model'", "missing.bin"]
    for needle in expected:
        assert sum(needle in line for line in lines) == 1, (needle, err)
    assert len(lines) == len(expected)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["download", "m", ">>1", "--dest", "{tmp}/d"], "version constraint '>>1'"),
        (["download", "m", "latest", "--dest", "{tmp}/file.bin/d"], "--dest"),
        (["promote", "m", "1.0.0-rc.1", "--release", "--dotenv", "{tmp}/no/x.env"], "--dotenv"),
        (["show", "m", ">>1"], "version constraint"),
    ],
)
def test_reader_usage_errors_exit_2_before_any_request(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "file.bin").write_bytes(b"x")

    code, _, err = run(capsys, *[a.replace("{tmp}", str(tmp_path)) for a in args], *GITLAB)

    assert code == 2, err
    assert message in err and len(err.strip().splitlines()) == 1


EXIT_WITH_AN_OPEN_POOL = """
import atexit, sys
from concurrent.futures import ThreadPoolExecutor
from gitlab_model_registry.cli import _exit_now

pool = ThreadPoolExecutor(max_workers=2)  # never shut down, as MLflow leaves its artifact pool
pool.submit(print, "job ran", file=sys.stderr).result()
atexit.register(print, "atexit ran", file=sys.stderr)
print("data", end="")  # buffered: the exit must flush it
_exit_now(3)
"""


def test_the_fast_exit_stops_an_open_thread_pool_runs_atexit_and_flushes() -> None:
    done = subprocess.run(
        [sys.executable, "-c", EXIT_WITH_AN_OPEN_POOL],
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert done.returncode == 3, done.stderr
    assert done.stdout == "data"
    assert done.stderr.splitlines() == ["job ran", "atexit ran"]
