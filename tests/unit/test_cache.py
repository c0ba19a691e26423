"""The download cache's guards against names and digests chosen by the registry (no sockets)."""

from __future__ import annotations

from pathlib import Path

from gitlab_model_registry.cache import Cache
from gitlab_model_registry.models import RemoteFile


def test_the_cache_never_takes_a_path_from_the_registry(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    evil = RemoteFile("../outside.bin", 1, "a" * 64)
    assert not cache.place(evil, tmp_path / "x")
    cache.keep(RemoteFile("w.bin", 1, "../../etc"), tmp_path / "x")  # not a sha256: not kept
    assert not (tmp_path / "cache").exists()
