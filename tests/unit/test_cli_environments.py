"""The environment options of the CLI: usage errors exit 2 before any request (the GitLab URL
here has nothing listening)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.test_cli import GITLAB, SECRET, run


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("download", "m", "1.0.0", "--environment", "production", "--dest", "d"), "exclusive"),
        (("show", "m", "--environment", "/production"), "bad environment name"),
        (("promote", "m", "1.0.0", "--environment", "prod/"), "bad environment name"),
        (("promote", "m", "1.0.0", "--environment", "p", "--require", "a>=@p*x"), "bad gate"),
        (("rollback", "m", "--environment", "production", "--to", "v1"), "v1"),
        (("history", "m", "--environment", "bad|name"), "bad environment name"),
    ],
)
def test_bad_environment_input_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    code, out, err = run(capsys, *args, *GITLAB)

    assert code == 2, err
    assert message in err and SECRET not in out + err


def test_a_model_version_inherited_from_a_dotenv_gives_way_to_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MODEL_VERSION", "1.0.0")

    code, _, err = run(capsys, "show", "m", "--environment", "production", *GITLAB)

    # Not refused as exclusive: it went on to ask GitLab (the unit tier forbids the socket).
    assert code != 2 and "network connection" in err and "exclusive" not in err, err


def test_rollback_needs_an_environment(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "rollback", "m", *GITLAB)

    assert code == 2 and "--environment" in err
