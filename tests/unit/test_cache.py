"""The download cache's guards against names and digests chosen by the registry, and its sweep
of copies killed jobs left behind (no sockets)."""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
from pathlib import Path
from typing import BinaryIO

import pytest

from gitlab_model_registry.cache import ABANDONED_AFTER_S, COPYING, Cache
from gitlab_model_registry.models import RemoteFile


def test_the_cache_never_takes_a_path_from_the_registry(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    evil = RemoteFile("../outside.bin", 1, "a" * 64)
    assert not cache.place(evil, tmp_path / "x")
    cache.keep(RemoteFile("w.bin", 1, "../../etc"), tmp_path / "x")  # not a sha256: not kept
    assert not (tmp_path / "cache").exists()


def _copying(cache: Cache, name: str, *, age_s: float) -> Path:
    """A temporary copy in the cache, last written ``age_s`` ago."""
    path = cache.root / "sha256" / "ab" / f".{'ab' * 32}.{name}{COPYING}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"half")
    stamp = time.time() - age_s
    os.utime(path, (stamp, stamp))
    return path


def test_a_sweep_removes_only_the_copies_nobody_is_writing(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    abandoned = _copying(cache, "killed", age_s=ABANDONED_AFTER_S + 5)
    running = _copying(cache, "running", age_s=ABANDONED_AFTER_S + 5)
    fresh = _copying(cache, "fresh", age_s=0)
    entry = cache.entry("ab" * 32)
    entry.write_bytes(b"whole")
    with running.open("rb") as held:  # a copy in progress holds its lock
        fcntl.flock(held, fcntl.LOCK_EX)
        assert cache.sweep() == 1
    assert not abandoned.exists()
    assert running.exists() and fresh.exists() and entry.read_bytes() == b"whole"


def test_a_copy_into_the_cache_holds_its_lock_until_it_is_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = Cache(tmp_path / "cache")
    source = tmp_path / "w.bin"
    source.write_bytes(b"w" * 10)
    seen: list[bool] = []

    def copy_and_probe(src: BinaryIO, out: BinaryIO, length: int) -> None:
        out.write(src.read())
        (temporary,) = (tmp_path / "cache").glob(f"sha256/*/.*{COPYING}")
        with temporary.open("rb") as probe:  # what a sweeping job would try
            try:
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                seen.append(True)

    monkeypatch.setattr("gitlab_model_registry.cache.os.link", _no_hard_links)
    monkeypatch.setattr("gitlab_model_registry.cache.shutil.copyfileobj", copy_and_probe)
    digest = hashlib.sha256(b"w" * 10).hexdigest()
    cache.keep(RemoteFile("w.bin", 10, digest), source)
    assert seen == [True]
    assert cache.entry(digest).read_bytes() == b"w" * 10
    assert not list((tmp_path / "cache").glob(f"sha256/*/.*{COPYING}"))


def _no_hard_links(source: Path, dest: Path) -> None:
    raise OSError(18, "Invalid cross-device link")
