"""One progress bar redrawn in place on a terminal: every file of a transfer as one bar, with
speed, ETA and the file being transferred. Off a terminal the console prints calm lines instead.

tqdm draws it: it already handles terminal width, unit scaling, rate smoothing and writing
log lines above a live bar, none of which is worth writing again.
"""

from __future__ import annotations

import os
from typing import TextIO

from tqdm import tqdm

#: Seconds between redraws: a few per second reads as live without flooding a slow terminal.
REDRAW_INTERVAL = 0.5


class TerminalBar:
    """The bar of one transfer; ``update`` is called with each file's running byte count."""

    def __init__(self, stream: TextIO, files: int | None, total_bytes: int | None) -> None:
        self._stream = stream
        self._done: dict[str, int] = {}
        fixed = _fixed_size(stream)
        self._bar = tqdm(
            total=total_bytes,
            desc=f"{files} file(s)" if files is not None else "transfer",
            file=stream,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            mininterval=REDRAW_INTERVAL,
            leave=True,
            ncols=fixed[0] if fixed else None,
            nrows=fixed[1] if fixed else None,
            dynamic_ncols=fixed is None,
        )

    def update(self, name: str, done: int) -> None:
        # A retried file starts again from 0: the bar goes back by what it had counted.
        delta = done - self._done.get(name, 0)
        self._done[name] = done
        self._bar.set_postfix_str(name, refresh=False)
        self._bar.update(delta)

    def write(self, text: str) -> None:
        """A log line above the bar, which is redrawn below it."""
        with tqdm.external_write_mode(file=self._stream):
            self._stream.write(f"{text}\n")
            self._stream.flush()

    def close(self) -> None:
        self._bar.close()


def _fixed_size(stream: TextIO) -> tuple[int, int] | None:
    """None to follow the terminal's size. A terminal that reports 0 columns or rows (a bare
    pseudo-terminal) gets 80x24: tqdm would otherwise draw nothing at all."""
    try:
        size = os.get_terminal_size(stream.fileno())
    except (OSError, ValueError):
        return None
    return None if size.columns and size.lines else (size.columns or 80, size.lines or 24)
