"""Where a stopped download keeps what it received, so that running it again continues.

A download works in a hidden directory of its own beside ``--dest``. When it stops for a reason
that running it again can overcome (SIGINT or SIGTERM, the network or the registry still failing
after the retries), that directory is renamed ``.<dest>.gmr-resume-<key>``, the key naming the
version and its files. The same download run again claims it by renaming it to its own name
(of two downloads started at once, one wins the rename, the other starts afresh), keeps the
files in it whose size and sha256 match, and continues each cut-off ``<file>.part`` with a
``Range`` request (a split file's parts: from where its record says each landed, ``_joining``;
the whole file's sha256 covers those bytes too). Any other failure (bytes that do not match,
a missing file, a refused credential) removes the directory; ``--dest`` is only written whole.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path

from gitlab_model_registry.errors import Interrupted
from gitlab_model_registry.files import holds, stays_inside
from gitlab_model_registry.models import ModelVersion, RemoteFile
from gitlab_model_registry.retry import RETRY_STATUSES, TransferError


def claim(dest: Path, mv: ModelVersion, files: Sequence[RemoteFile]) -> tuple[Path, bool]:
    """This download's working directory, and whether it holds a stopped try's bytes."""
    work = dest.parent / f".{dest.name}.gmr-{uuid.uuid4().hex[:8]}"
    try:
        _resume_dir(dest, mv, files).rename(work)
        return work, True
    except OSError:  # none left, or another download claimed it first
        work.mkdir(parents=True)
        return work, False


def keep(work: Path, dest: Path, mv: ModelVersion, files: Sequence[RemoteFile]) -> Path:
    """Leave ``work`` for the next try of the same download; where it now is."""
    kept = _resume_dir(dest, mv, files)
    shutil.rmtree(kept, ignore_errors=True)  # an older try's, superseded by this one
    work.rename(kept)
    return kept


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


def _resume_dir(dest: Path, mv: ModelVersion, files: Sequence[RemoteFile]) -> Path:
    listed = sorted((f.name, f.size, f.sha256 or "") for f in files)
    identity = json.dumps([mv.model, mv.version, listed]).encode()
    return dest.parent / f".{dest.name}.gmr-resume-{hashlib.sha256(identity).hexdigest()[:16]}"
