"""A download cache that jobs can share: files content-addressed by their sha256.

Layout: ``<dir>/sha256/<first two hex digits>/<sha256>``, one entry per distinct content, so the
same weights in several versions or models are stored once. An entry is trusted only after its
size and sha256 are checked again when it is used: a partial entry (a crash while it was copied
in) or a corrupt one (a hard-linked download edited in place) is removed and downloaded again.

Entries appear atomically (written under a unique temporary name, then renamed), so two jobs
sharing the directory at once each see a whole entry or none; the worst a race costs is one
download twice. Files reach the destination by hard link when cache and destination share a
filesystem, by copy otherwise. Files the registry reports no sha256 for are never cached.

A copy into the cache (from a download on another filesystem) holds an exclusive ``flock`` on its
temporary file while it runs; one a killed job left behind is unlocked and no longer growing, and
``sweep`` removes it so a cache kept between pipelines does not fill up with them.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import time
import uuid
from pathlib import Path

from gitlab_model_registry.files import CHUNK_SIZE, holds, stays_inside
from gitlab_model_registry.models import RemoteFile

_SHA256 = re.compile(r"[0-9a-f]{64}")
#: The suffix of a copy on its way into the cache, locked while it is written.
COPYING = ".copying"
#: An unlocked copy untouched this long is abandoned (a new one is locked within microseconds).
ABANDONED_AFTER_S = 60.0


class Cache:
    def __init__(self, root: Path) -> None:
        self.root = root

    def entry(self, sha256: str) -> Path:
        if not _SHA256.fullmatch(sha256):  # the registry's word: never a path of its choosing
            raise ValueError(f"not a sha256: {sha256!r}")
        return self.root / "sha256" / sha256[:2] / sha256

    def place(self, file: RemoteFile, dest: Path) -> bool:
        """Put the cached bytes of ``file`` at ``dest``; False when there is no good entry."""
        if not file.sha256 or not _SHA256.fullmatch(file.sha256) or not stays_inside(file.name):
            return False  # a name leaving the destination is the download's to refuse
        entry = self.entry(file.sha256)
        if not entry.exists():
            return False
        if not holds(entry, file):
            entry.unlink(missing_ok=True)  # partial or corrupt: the download replaces it
            return False
        dest.parent.mkdir(parents=True, exist_ok=True)
        _link_or_copy(entry, dest)
        return True

    def keep(self, file: RemoteFile, path: Path) -> None:
        """Add a downloaded, verified file to the cache (never a file without a sha256)."""
        if not file.sha256 or not _SHA256.fullmatch(file.sha256):
            return
        entry = self.entry(file.sha256)
        entry.parent.mkdir(parents=True, exist_ok=True)
        _link_or_copy(path, entry)

    def sweep(self) -> int:
        """Remove the copies killed jobs left half-written; returns how many."""
        return sum(_remove_if_abandoned(p) for p in (self.root / "sha256").glob(f"*/.*{COPYING}"))


def _link_or_copy(source: Path, dest: Path) -> None:
    """``dest`` becomes ``source``'s content at once: linked or copied under a temporary name."""
    tag = f".{dest.name}.{uuid.uuid4().hex[:8]}"
    linked = dest.with_name(f"{tag}.tmp")
    try:
        os.link(source, linked)
    except OSError:  # another filesystem, or one without hard links
        _copy_locked(source, dest.with_name(f"{tag}{COPYING}"), dest)
        return
    try:
        linked.replace(dest)
    finally:
        linked.unlink(missing_ok=True)


def _copy_locked(source: Path, temporary: Path, dest: Path) -> None:
    """Copy ``source`` to ``dest`` through ``temporary``, locked until it is renamed."""
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # a sweeping job leaves it alone
        with source.open("rb") as src, os.fdopen(fd, "wb", closefd=False) as out:
            shutil.copyfileobj(src, out, CHUNK_SIZE)
        temporary.replace(dest)
    finally:
        os.close(fd)
        temporary.unlink(missing_ok=True)


def _remove_if_abandoned(path: Path) -> bool:
    """Unlink ``path`` if no copy holds its lock and it has not grown for a while."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:  # gone already (renamed into place, or swept by another job)
        return False
    try:
        if time.time() - os.fstat(fd).st_mtime < ABANDONED_AFTER_S:
            return False  # just created: its copy may not hold the lock yet
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # locked: a copy is running
        return False
    else:
        path.unlink(missing_ok=True)
        return True
    finally:
        os.close(fd)
