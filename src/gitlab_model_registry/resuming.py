"""Where a stopped download keeps what it received, so that running it again continues.

A download works in a hidden directory of its own beside ``--dest``,
``.<dest>.gmr-<key>-<id>``, the key naming the version and its files; it holds an exclusive
``flock`` on that directory while it runs. When it stops for a reason that running it again can
overcome (SIGINT or SIGTERM, the network or the registry still failing after the retries), the
directory is renamed ``.<dest>.gmr-resume-<key>``. A download killed outright (SIGKILL, the
machine lost) cannot rename it, but its lock dies with it: the next download into the same
``--dest`` finds the unlocked directory and makes it that key's kept try, so nothing is left
behind for good. The same download run again claims the kept try by renaming it to its own
name (of two downloads started at once, one wins the rename, the other starts afresh), keeps the
files in it whose size and sha256 match, and continues each cut-off ``<file>.part`` with a
``Range`` request (a split file's parts: from where its record says each landed, ``_joining``;
the whole file's sha256 covers those bytes too). Any other failure (bytes that do not match,
a missing file, a refused credential) removes the directory; ``--dest`` is only written whole.
"""

from __future__ import annotations

import fcntl
import glob
import hashlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gitlab_model_registry.errors import Interrupted
from gitlab_model_registry.files import holds, stays_inside
from gitlab_model_registry.models import ModelVersion, RemoteFile
from gitlab_model_registry.retry import RETRY_STATUSES, TransferError

#: A running download's directory, after ``.<dest>``: its key and its own id.
_WORKING = re.compile(r"\.gmr-(?P<key>[0-9a-f]{16})-[0-9a-f]{8}")


@dataclass
class Claim:
    """A download's working directory, locked while the download runs."""

    path: Path
    resumed: bool  # it holds a stopped try's bytes
    kept: Path  # where ``keep`` leaves it for the next try
    _lock: int | None

    def keep(self) -> Path:
        """Leave the directory for the next try of the same download, unlocked; where it is."""
        shutil.rmtree(self.kept, ignore_errors=True)  # an older try's, superseded by this one
        self.path.rename(self.kept)  # then unlocked: while locked, it is no orphan to take over
        self.release()
        return self.kept

    def release(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None


def claim(dest: Path, mv: ModelVersion, files: Sequence[RemoteFile]) -> Claim:
    """This download's working directory (a stopped try's, when one was kept)."""
    key = _key(mv, files)
    kept = _kept(dest, key)
    _adopt_orphans(dest)
    own = uuid.uuid4().hex[:8]
    # Locked under a name no other download takes for an orphan, then given its working name.
    staging = dest.parent / f".{dest.name}.gmr-new-{own}"
    try:
        kept.rename(staging)
        resumed = True
    except OSError:  # none left, or another download claimed it first
        staging.mkdir(parents=True)
        resumed = False
    lock = _lock(staging)
    work = dest.parent / f".{dest.name}.gmr-{key}-{own}"
    staging.rename(work)
    return Claim(work, resumed, kept, lock)


def resumable(error: BaseException) -> bool:
    """Whether running the download again may get further (else its bytes are worthless)."""
    if isinstance(error, Interrupted):
        return True
    # Retries ran out (status 0: the network) or the registry kept answering "try later".
    return type(error) is TransferError and (error.status == 0 or error.status in RETRY_STATUSES)


def holds_bytes(work: Path) -> bool:
    """Whether a try got anything worth keeping."""
    return any(path.is_file() and path.stat().st_size for path in work.rglob("*"))


def already_here(work: Path, file: RemoteFile) -> bool:
    """Whether a stopped try left ``file`` complete in ``work`` (size and sha256 checked)."""
    # A name leaving the directory is the download's to refuse.
    return stays_inside(file.name) and holds(work / file.name, file)


def tidy(work: Path, files: Sequence[RemoteFile]) -> None:
    """Remove what a stopped try left that is none of ``files`` (a ``.part`` of a file that came
    from the cache this time, a split file's records), so ``--dest`` holds the version only."""
    names = {f.name for f in files}
    for path in sorted(work.rglob("*"), reverse=True):  # children before their folders
        name = path.relative_to(work).as_posix()
        if path.is_dir() and not path.is_symlink():
            if not any(n.startswith(name + "/") for n in names):
                shutil.rmtree(path, ignore_errors=True)
        elif name not in names:
            path.unlink(missing_ok=True)


def _adopt_orphans(dest: Path) -> None:
    """Make the working directory of each download into ``dest`` that died holding it (its lock
    is free) the kept try of its key, or remove it where that key already has one."""
    prefix = f".{dest.name}"
    for path in dest.parent.glob(f"{glob.escape(prefix)}.gmr-*"):
        match = _WORKING.fullmatch(path.name[len(prefix) :])
        if match is None:
            continue
        try:
            lock = _lock(path, wait=False)
        except OSError:  # gone meanwhile, or a running download's
            continue
        try:
            if lock is not None:  # where locks do not work, no directory is taken for dead
                kept = _kept(dest, match["key"])
                if kept.exists():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.rename(kept)
        finally:
            if lock is not None:
                os.close(lock)


def _lock(path: Path, *, wait: bool = True) -> int | None:
    """An exclusive flock on the directory ``path`` (its descriptor); None where the filesystem
    has no locks. Without ``wait``, a directory locked by another process raises OSError."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)  # never a symlink's target
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        os.close(fd)
        raise
    except OSError:  # e.g. ENOLCK on a filesystem without locks
        os.close(fd)
        return None
    return fd


def _key(mv: ModelVersion, files: Sequence[RemoteFile]) -> str:
    listed = sorted((f.name, f.size, f.sha256 or "") for f in files)
    identity = json.dumps([mv.model, mv.version, listed]).encode()
    return hashlib.sha256(identity).hexdigest()[:16]


def _kept(dest: Path, key: str) -> Path:
    return dest.parent / f".{dest.name}.gmr-resume-{key}"
