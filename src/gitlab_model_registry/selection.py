"""Which files of a directory PATH are published: VCS folders left out by default, and the
user's ``--exclude``/``--include`` globs.

A file inside a directory PATH is left out when it, or a folder above it, matches an
``--exclude`` glob or is a VCS folder (``.git``, ``.hg``, ``.svn``, ``.bzr``), unless the
file matches an ``--include`` glob. A glob matches a relative path (``logs/*``, ``*.tmp``) or
a single name (``__pycache__``); ``*`` also crosses ``/``. Files given as PATH are always kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

VCS_FOLDERS = (".git", ".hg", ".svn", ".bzr")


@dataclass(frozen=True)
class Rules:
    """``--exclude`` and ``--include`` patterns, applied to remote paths."""

    exclude: Sequence[str] = ()
    include: Sequence[str] = ()

    def leaves_out_folder(self, remote: str) -> bool:
        """Whether the whole folder is skipped unread (no --include could bring a file back)."""
        return not self.include and self._excluded(remote)

    def leaves_out(self, remote: str) -> bool:
        """Whether the file at ``remote`` (a POSIX path below its PATH) is left out."""
        parts = remote.split("/")
        folders = ["/".join(parts[:n]) for n in range(1, len(parts))]
        excluded = self._excluded(remote) or any(self._excluded(f) for f in folders)
        return excluded and not any(_matches(remote, g) for g in self.include)

    def _excluded(self, remote: str) -> bool:
        name = remote.rsplit("/", 1)[-1]
        return name in VCS_FOLDERS or any(_matches(remote, g) for g in self.exclude)


DEFAULT_RULES = Rules()


def _matches(remote: str, glob: str) -> bool:
    glob = glob.rstrip("/")
    return fnmatchcase(remote, glob) or fnmatchcase(remote.rsplit("/", 1)[-1], glob)


def summary(left_out: Sequence[str], limit: int = 5) -> str:
    """``.git/, notes.tmp (and 3 more)``: what a plan says it left out."""
    shown = ", ".join(left_out[:limit])
    return shown + (f" (and {len(left_out) - limit} more)" if len(left_out) > limit else "")
