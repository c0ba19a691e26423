"""A download cache that jobs can share: files content-addressed by their sha256.

Layout: ``<dir>/sha256/<first two hex digits>/<sha256>``, one entry per distinct content, so the
same weights in several versions or models are stored once. An entry is trusted only after its
size and sha256 are checked again when it is used: a partial entry (a crash while it was copied
in) or a corrupt one (a hard-linked download edited in place) is removed and downloaded again.

Entries appear atomically (written under a unique temporary name, then renamed), so two jobs
sharing the directory at once each see a whole entry or none; the worst a race costs is one
download twice. Files reach the destination by hard link when cache and destination share a
filesystem, by copy otherwise. Files the registry reports no sha256 for are never cached.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from pathlib import Path

from gitlab_model_registry.files import holds, stays_inside
from gitlab_model_registry.models import RemoteFile

_SHA256 = re.compile(r"[0-9a-f]{64}")


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


def _link_or_copy(source: Path, dest: Path) -> None:
    """``dest`` becomes ``source``'s content at once: linked or copied under a temporary name."""
    temporary = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        try:
            os.link(source, temporary)
        except OSError:  # another filesystem, or one without hard links
            shutil.copyfile(source, temporary)
        temporary.replace(dest)
    finally:
        temporary.unlink(missing_ok=True)
