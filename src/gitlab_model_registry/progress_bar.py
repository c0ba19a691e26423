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
        columns = _fixed_width(stream)
        self._bar = tqdm(
            total=total_bytes,
            desc=f"{files} file(s)" if files is not None else "transfer",
            file=stream,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            mininterval=REDRAW_INTERVAL,
            leave=True,
            ncols=columns,
            dynamic_ncols=columns is None,
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
            print(text, file=self._stream, flush=True)

    def close(self) -> None:
        self._bar.close()


def _fixed_width(stream: TextIO) -> int | None:
    """None to follow the terminal's width; 80 for a terminal that reports 0 columns."""
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError):
        return None
    return None if columns else 80
