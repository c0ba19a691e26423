from __future__ import annotations

import io
from pathlib import Path

import pytest

from gitlab_model_registry.console import Console, use_color
from gitlab_model_registry.console_results import dotenv_values, write_dotenv
from gitlab_model_registry.models import ModelVersion

MIB = 1024 * 1024


class Stream(io.StringIO):
    def __init__(self, tty: bool = False) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def test_progress_off_a_terminal_is_a_line_per_tenth() -> None:
    stream = Stream()
    console = Console(stream=stream)

    for done in range(0, 101):
        console.progress("weights.bin", done * MIB, 100 * MIB)

    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue()
    assert 10 <= len(lines) <= 12
    assert lines[-1] == "weights.bin: 100.0 MiB / 100.0 MiB (100%)"


def test_progress_on_a_terminal_is_one_bar_redrawn_in_place() -> None:
    stream = Stream(tty=True)
    console = Console(stream=stream)

    with console.phase("upload", "Uploading 2 file(s)"):
        console.transfer(2, 300 * MIB)
        for done in range(0, 201):
            console.progress("weights.bin", done * MIB, 200 * MIB)
            console.progress("vocab.txt", min(done, 100) * MIB, 100 * MIB)
        console.log("weights.bin: 200.0 MiB, sha256 0123")

    text = stream.getvalue()
    assert text.count("\n") <= 4  # the phase title, the log line, the finished bar
    assert text.count("\r") < 50  # redraws a few times a second, not per MiB
    final = text.rsplit("\r", 1)[-1]
    assert "2 file(s)" in final and "100%" in final and "300M" in final
    assert "weights.bin: 200.0 MiB, sha256 0123\n" in text


def test_progress_bar_counts_a_retried_file_once() -> None:
    stream = Stream(tty=True)
    console = Console(stream=stream)

    with console.phase("download", "Downloading 1 file(s)"):
        console.transfer(1, 10 * MIB)
        console.progress("a.bin", 6 * MIB, 10 * MIB)
        console.progress("a.bin", 0, 10 * MIB)  # the server cut the answer: started again
        console.progress("a.bin", 10 * MIB, 10 * MIB)

    assert "10.0M/10.0M" in stream.getvalue().rsplit("\r", 1)[-1]


def test_no_progress_prints_nothing() -> None:
    stream = Stream()

    Console(stream=stream, progress=False).progress("a", 1, 2)

    assert stream.getvalue() == ""


def test_phases_are_gitlab_collapsible_sections_in_ci() -> None:
    stream = Stream()

    with Console(stream=stream, gitlab_sections=True).phase("upload", "Uploading"):
        pass

    start, end = stream.getvalue().strip("\n").split("\n")
    assert "section_start:" in start and ":gmr_upload" in start and start.endswith("Uploading")
    assert "section_end:" in end and ":gmr_upload" in end


@pytest.mark.parametrize(
    ("choice", "env", "tty", "expected"),
    [
        ("auto", {}, True, True),
        ("auto", {"NO_COLOR": "1"}, True, False),
        ("auto", {}, False, False),
        ("auto", {"FORCE_COLOR": "1"}, False, True),
        ("always", {"NO_COLOR": "1"}, False, True),
        ("never", {}, True, False),
    ],
)
def test_color_choice(choice: str, env: dict[str, str], tty: bool, expected: bool) -> None:
    assert use_color(choice, Stream(tty), env) is expected


def test_dotenv_report(tmp_path: Path) -> None:
    mv = ModelVersion("iris", "1.2.3", "42", run_id="r1", web_url="https://g/v/42")

    write_dotenv(tmp_path / "model.env", dotenv_values(mv))

    assert (tmp_path / "model.env").read_text().splitlines()[:3] == [
        "MODEL_NAME=iris",
        "MODEL_VERSION=1.2.3",
        "MODEL_VERSION_ID=42",
    ]
