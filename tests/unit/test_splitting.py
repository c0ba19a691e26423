"""The split-file format: part ranges, the manifest, sizes with units (no sockets)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitlab_model_registry.errors import IntegrityError
from gitlab_model_registry.models import RemoteFile, UploadFile
from gitlab_model_registry.sizes import parse_size
from gitlab_model_registry.split_manifest import (
    Split,
    parse_manifest,
    part_sha256,
    plan_parts,
    render_manifest,
    reserved_name_problems,
)


def test_parts_cover_the_file_in_ranges_of_at_most_the_split_size(tmp_path: Path) -> None:
    path = tmp_path / "w.bin"
    path.write_bytes(bytes(range(250)) * 10)
    parts = plan_parts(UploadFile(path, "dir/w.bin", 2500), 1000)
    assert [(p.remote_name, p.offset, p.size) for p in parts] == [
        ("dir/w.bin.gmr-part-00001", 0, 1000),
        ("dir/w.bin.gmr-part-00002", 1000, 1000),
        ("dir/w.bin.gmr-part-00003", 2000, 500),
    ]
    import hashlib

    assert part_sha256(parts[2]) == hashlib.sha256(path.read_bytes()[2000:]).hexdigest()
    assert plan_parts(UploadFile(path, "w.bin", 2000), 1000)[-1].size == 1000


def test_the_manifest_round_trips_and_a_foreign_one_is_refused() -> None:
    parts = (
        RemoteFile("w.bin.gmr-part-00001", 3, "aa"),
        RemoteFile("w.bin.gmr-part-00002", 1, "bb"),
    )
    splits = {"w.bin": Split(RemoteFile("w.bin", 4, "cc", parts=2), parts)}
    assert parse_manifest(render_manifest(splits)) == splits
    for text in ("not json", '{"format": "other/1", "files": []}', '{"format": "gmr-split/1"}'):
        with pytest.raises(IntegrityError, match="not a gmr-split/1 manifest"):
            parse_manifest(text)


def test_names_of_split_files_are_reserved() -> None:
    assert reserved_name_problems(["a.bin", "gmr-split.json", "x.gmr-part-00001", "b/c"]) == [
        "'gmr-split.json' is a name gmr uses for split files on GitLab: rename the file",
        "'x.gmr-part-00001' is a name gmr uses for split files on GitLab: rename the file",
    ]


@pytest.mark.parametrize(
    ("text", "size"),
    [("4GiB", 4 * 1024**3), ("1.5 MiB", 1572864), ("500MB", 500_000_000), ("1024", 1024),
     ("4.5GiB", 4831838208), ("2k", 2000), ("3KiB", 3072), ("7B", 7)],
)  # fmt: skip
def test_sizes_take_binary_and_decimal_units(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "GiB", "-1MiB", "4 GB extra", "1e9"])
def test_a_size_without_a_number_or_with_an_unknown_unit_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a size"):
        parse_size(text)
