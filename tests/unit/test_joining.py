"""Joining a split file's parts: the kernel's copy, the digest beside it, the parts removed."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from gitlab_model_registry import _joining
from gitlab_model_registry._joining import RangeDigest, join


def _parts(tmp_path: Path, sizes: list[int]) -> tuple[list[tuple[Path, int]], bytes]:
    parts, whole = [], b""
    for index, size in enumerate(sizes):
        data = os.urandom(size)
        path = tmp_path / f"part-{index}"
        path.write_bytes(data)
        parts.append((path, size))
        whole += data
    return parts, whole


@pytest.mark.parametrize("kernel_copy", [True, False], ids=["copy_file_range", "read-write"])
def test_parts_are_joined_in_order_hashed_and_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kernel_copy: bool
) -> None:
    if not kernel_copy:  # another OS or filesystem: the portable copy gives the same file

        def unsupported(*args: object) -> int:
            raise OSError(18, "Invalid cross-device link")

        monkeypatch.setattr(_joining.os, "copy_file_range", unsupported)
    parts, whole = _parts(tmp_path, [5 * 1024 * 1024 + 3, 4 * 1024 * 1024, 17])

    digest = join(parts, tmp_path / "whole")

    assert (tmp_path / "whole").read_bytes() == whole
    assert digest == hashlib.sha256(whole).hexdigest()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["whole"]


def test_a_part_shorter_than_its_recorded_size_is_an_error(tmp_path: Path) -> None:
    parts, _ = _parts(tmp_path, [1000, 1000])
    short = [parts[0], (parts[1][0], 2000)]

    with pytest.raises(OSError, match="short of its recorded size"):
        join(short, tmp_path / "whole")

    assert not (tmp_path / "whole").exists()


def test_the_digest_covers_exactly_the_ranges(tmp_path: Path) -> None:
    data = os.urandom(10_000)
    (tmp_path / "f").write_bytes(data)

    digest = RangeDigest([(tmp_path / "f", 100, 900), (tmp_path / "f", 5000, 10)])

    assert digest.result() == hashlib.sha256(data[100:1000] + data[5000:5010]).hexdigest()


def test_a_failed_read_is_raised_and_releases_its_waiters(tmp_path: Path) -> None:
    digest = RangeDigest([(tmp_path / "missing", 0, 10)])

    digest.wait_for(0)  # returns: nobody waits forever on a failed hashing
    with pytest.raises(FileNotFoundError):
        digest.result()
