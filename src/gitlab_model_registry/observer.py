"""How the library reports progress without printing: the CLI passes an Observer that renders."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

#: Called with (remote_name, bytes_done, bytes_total) as a transfer advances.
ProgressCallback = Callable[[str, int, int], None]


class Observer(Protocol):
    def phase(self, key: str, title: str) -> AbstractContextManager[None]:
        """A named phase of the work (a collapsible section in GitLab job logs)."""
        ...

    def log(self, message: str) -> None:
        """One informational line."""
        ...

    def transfer(self, files: int, total_bytes: int) -> None:
        """A transfer of this many files and bytes starts (``progress`` calls follow)."""
        ...

    def progress(self, name: str, done: int, total: int) -> None:
        """Bytes of one file transferred so far."""
        ...


class _NullObserver:
    @contextmanager
    def phase(self, key: str, title: str) -> Iterator[None]:
        yield

    def log(self, message: str) -> None:
        pass

    def transfer(self, files: int, total_bytes: int) -> None:
        pass

    def progress(self, name: str, done: int, total: int) -> None:
        pass


NULL_OBSERVER: Observer = _NullObserver()
