"""Presentation on stderr: log lines, GitLab collapsible sections, progress.

Data goes to stdout (results and the dotenv report: ``console_results``), everything else to
stderr. Only this module looks at terminals and at ``NO_COLOR`` / ``FORCE_COLOR`` / ``GITLAB_CI``.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

from gitlab_model_registry.sizes import human_size

if TYPE_CHECKING:
    from gitlab_model_registry.progress_bar import TerminalBar

PROGRESS_STEP = 0.10  # a progress line per ~10 % ...
PROGRESS_INTERVAL = 15.0  # ... or per ~15 s off a terminal
PROGRESS_MIN_SIZE = 1024 * 1024  # smaller files get only their final size-and-sha256 line


def use_color(choice: str, stream: TextIO, environ: Mapping[str, str]) -> bool:
    if choice != "auto":
        return choice == "always"
    if environ.get("NO_COLOR"):
        return False
    return bool(environ.get("FORCE_COLOR")) or stream.isatty()


class Console:
    """Renders the library's Observer events on stderr."""

    def __init__(
        self,
        *,
        stream: TextIO | None = None,
        color: bool = False,
        progress: bool = True,
        gitlab_sections: bool = False,
        verbosity: int = 0,
    ) -> None:
        self._out = stream or sys.stderr
        self._color, self._progress = color, progress
        self._sections, self.verbosity = gitlab_sections, verbosity
        self._lock = threading.Lock()
        self._shown: dict[str, tuple[float, float]] = {}  # file -> (fraction, time) last shown
        self._tty = self._out.isatty()
        self._bar: TerminalBar | None = None  # the live bar of the current transfer (terminal)

    @classmethod
    def for_environment(
        cls, environ: Mapping[str, str], *, color: str, progress: bool, verbosity: int
    ) -> Console:
        stream = sys.stderr
        return cls(
            stream=stream,
            color=use_color(color, stream, environ),
            progress=progress,
            gitlab_sections=environ.get("GITLAB_CI") == "true",
            verbosity=verbosity,
        )

    # -- Observer ---------------------------------------------------------------------------

    @contextmanager
    def phase(self, key: str, title: str) -> Iterator[None]:
        if self._sections:
            self._write(
                f"\x1b[0Ksection_start:{int(time.time())}:gmr_{key}[collapsed=false]\r\x1b[0K{title}"
            )
        else:
            self._write(self._style(f"» {title}", "1"))
        try:
            yield
        finally:
            self._close_bar()
            if self._sections:
                self._write(f"\x1b[0Ksection_end:{int(time.time())}:gmr_{key}\r\x1b[0K")

    def log(self, message: str) -> None:
        self._write(message)

    def transfer(self, files: int, total_bytes: int) -> None:
        if self._progress and self._tty:
            with self._lock:
                self._close_bar_locked()
                self._bar = _terminal_bar(self._out, files, total_bytes)

    def progress(self, name: str, done: int, total: int) -> None:
        if not self._progress:
            return
        if self._tty:
            with self._lock:
                self._bar = self._bar or _terminal_bar(self._out, None, None)
                self._bar.update(name, done)
            return
        if total < PROGRESS_MIN_SIZE or done <= 0:
            return
        fraction, now = done / total, time.monotonic()
        with self._lock:
            last_fraction, last_time = self._shown.get(name, (-1.0, now))
            due = fraction >= 1.0 or fraction - last_fraction >= PROGRESS_STEP
            if not (due or now - last_time >= PROGRESS_INTERVAL):
                return
            self._shown[name] = (fraction, now)
        line = f"{name}: {human_size(done)} / {human_size(total)} ({fraction:.0%})"
        self._write(line)

    # -- output -----------------------------------------------------------------------------

    def _write(self, text: str) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.write(text)
            else:
                print(text, file=self._out, flush=True)

    def _close_bar(self) -> None:
        with self._lock:
            self._close_bar_locked()

    def _close_bar_locked(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _style(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self._color else text


def _terminal_bar(stream: TextIO, files: int | None, total_bytes: int | None) -> TerminalBar:
    """tqdm is imported only where a bar is drawn: it costs a tenth of a second of start-up,
    which CI jobs (no terminal) and ``--no-progress`` never need."""
    from gitlab_model_registry.progress_bar import TerminalBar

    return TerminalBar(stream, files, total_bytes)
