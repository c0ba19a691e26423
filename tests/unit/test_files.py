from __future__ import annotations

import hashlib
import os
import tracemalloc
from pathlib import Path

import pytest

from gitlab_model_registry import files, sizes
from gitlab_model_registry._bodies import HashingReader
from gitlab_model_registry.errors import UsageError
from gitlab_model_registry.files import CHUNK_SIZE, InvalidSelection

MiB = 1024 * 1024


def write(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def remote_names(paths: list[str | os.PathLike[str]], **kwargs: int) -> list[str]:
    return [f.remote_name for f in files.collect(paths, **kwargs)]


def problems_of(paths: list[str | os.PathLike[str]], **kwargs: int) -> tuple[str, ...]:
    with pytest.raises(InvalidSelection) as raised:
        files.collect(paths, **kwargs)
    error = raised.value
    assert isinstance(error, UsageError)
    assert error.exit_code == 2
    assert "\n" not in str(error)
    assert str(error).startswith(error.problems[0])
    return error.problems


# -- selection --------------------------------------------------------------------------------


def test_a_file_is_stored_under_its_base_name(tmp_path: Path) -> None:
    path = write(tmp_path / "out" / "model.onnx", b"12345")
    (upload,) = files.collect([str(path)])
    assert (upload.path, upload.remote_name, upload.size) == (path, "model.onnx", 5)


def test_a_directory_keeps_its_structure_below_the_root(tmp_path: Path) -> None:
    root = tmp_path / "model"
    for name in ["weights/b.bin", "weights/a.bin", "config.json", "tok/en/vocab.txt", "Z.md"]:
        write(root / name, name.encode())
    uploads = files.collect([root])
    assert [f.remote_name for f in uploads] == [
        "Z.md",
        "config.json",
        "tok/en/vocab.txt",
        "weights/a.bin",
        "weights/b.bin",
    ]
    by_name = {f.remote_name: f for f in uploads}
    assert by_name["weights/a.bin"].path == root / "weights" / "a.bin"
    assert by_name["weights/a.bin"].size == len(b"weights/a.bin")


def test_several_roots_are_merged_and_sorted(tmp_path: Path) -> None:
    write(tmp_path / "model" / "weights" / "a.bin")
    write(tmp_path / "extra" / "b.txt")
    single = write(tmp_path / "README.md")
    assert remote_names([tmp_path / "model", single, tmp_path / "extra"]) == [
        "README.md",
        "b.txt",
        "weights/a.bin",
    ]


def test_relative_roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "model" / "sub" / "a.bin")
    monkeypatch.chdir(tmp_path / "model")
    assert remote_names(["."]) == ["sub/a.bin"]
    assert remote_names(["sub/"]) == ["a.bin"]
    assert files.collect(["sub/a.bin"])[0].path == Path("sub/a.bin")


def test_the_result_does_not_depend_on_creation_order(tmp_path: Path) -> None:
    names = [f"f{i:02}.bin" for i in range(20)]
    for name in reversed(names):
        write(tmp_path / "d" / name)
    assert remote_names([tmp_path / "d"]) == names


def test_names_gitlab_accepts(tmp_path: Path) -> None:
    write(tmp_path / "d" / "my model+v1_final-2.0.bin")
    write(tmp_path / "d" / ".hidden" / "...")
    assert remote_names([tmp_path / "d"]) == [".hidden/...", "my model+v1_final-2.0.bin"]


# -- problems ---------------------------------------------------------------------------------


def test_a_missing_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.bin"
    assert problems_of([missing]) == (f"{str(missing)!r} does not exist",)


def test_nothing_given() -> None:
    (problem,) = problems_of([])
    assert problem.startswith("nothing to upload")


def test_an_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    write(tmp_path / "ok.bin")
    (problem,) = problems_of([tmp_path / "ok.bin", tmp_path / "empty"])
    assert (
        problem
        == f"directory {str(tmp_path / 'empty')!r} contains no files: nothing to upload from it"
    )


def test_an_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = write(tmp_path / "d" / "secret.bin")
    write(tmp_path / "d" / "fine.bin")
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: Path(p) != secret and real_access(p, mode))
    (problem,) = problems_of([tmp_path / "d"])
    assert problem == f"{str(secret)!r} is not readable: check its permissions"


def test_an_unreadable_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = tmp_path / "d" / "locked"
    write(locked / "a.bin")
    write(tmp_path / "d" / "b.bin")
    real_scandir = os.scandir

    def scandir(path: Path) -> object:
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    (problem,) = problems_of([tmp_path / "d"])
    assert problem == f"{str(locked)!r} cannot be read (Permission denied)"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_an_unreadable_file_for_real(tmp_path: Path) -> None:
    secret = write(tmp_path / "secret.bin")
    secret.chmod(0)
    assert "is not readable" in problems_of([secret])[0]


def test_a_symlink_inside_the_tree_is_followed(tmp_path: Path) -> None:
    root = tmp_path / "model"
    write(root / "blobs" / "abc", b"12345678")
    (root / "weights.bin").symlink_to("blobs/abc")
    uploads = {f.remote_name: f for f in files.collect([root])}
    assert sorted(uploads) == ["blobs/abc", "weights.bin"]
    assert uploads["weights.bin"].path == root / "weights.bin"
    assert uploads["weights.bin"].size == 8


@pytest.mark.parametrize("target", ["../outside.bin", "/etc/hostname", "sub/../../outside.bin"])
def test_a_symlink_leaving_the_tree(tmp_path: Path, target: str) -> None:
    write(tmp_path / "outside.bin")
    root = tmp_path / "model"
    write(root / "sub" / "ok.bin")
    (root / "escape.bin").symlink_to(target)
    (problem,) = problems_of([root])
    assert problem.startswith(f"{str(root / 'escape.bin')!r} is a symlink to ")
    assert f"outside {str(root)!r}: copy the file into the directory" in problem


def test_a_symlinked_root_is_walked(tmp_path: Path) -> None:
    write(tmp_path / "real" / "a.bin")
    (tmp_path / "real" / "b.bin").symlink_to(tmp_path / "real" / "a.bin")  # absolute, inside
    (tmp_path / "link").symlink_to("real")
    assert remote_names([tmp_path / "link"]) == ["a.bin", "b.bin"]


def test_a_symlink_to_a_directory_is_not_followed(tmp_path: Path) -> None:
    root = tmp_path / "model"
    write(root / "sub" / "a.bin")
    (root / "alias").symlink_to("sub")
    (problem,) = problems_of([root])
    assert problem.startswith(f"{str(root / 'alias')!r} is a symlink to a directory")


def test_broken_symlinks(tmp_path: Path) -> None:
    root = tmp_path / "model"
    write(root / "a.bin")
    (root / "dangling").symlink_to("gone")
    (tmp_path / "top").symlink_to("gone")
    assert problems_of([root, tmp_path / "top"]) == (
        f"{str(root / 'dangling')!r} is a broken symlink: remove it or fix its target",
        f"{str(tmp_path / 'top')!r} is a broken symlink",
    )


def test_special_files(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    problems = problems_of([tmp_path / "pipe", "/dev/null"])
    assert problems == tuple(
        f"{p!r} is not a regular file (a fifo, socket or device): pass regular files only"
        for p in [str(tmp_path / "pipe"), "/dev/null"]
    )


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("50%.bin", "'%'"),
        ("modèle.bin", "'è'"),
        ("what?.bin", "'?'"),
        ("a:b.bin", "':'"),
        ("bad#dir/a.bin", "'#'"),
        ("tab\there.bin", "'\\t'"),
        ("new\nline.bin", "'\\n'"),
    ],
)
def test_names_gitlab_rejects(tmp_path: Path, name: str, shown: str) -> None:
    write(tmp_path / "d" / name)
    (problem,) = problems_of([tmp_path / "d"])
    assert f"would be stored as {name!r}, which GitLab rejects (it contains {shown})" in problem
    assert "may only use letters A-Z a-z, digits, '.', '_', '-', '+' and spaces" in problem


def test_a_dot_dot_root_names_only_what_is_below_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "d" / "a.bin")
    (tmp_path / "d" / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "d" / "sub")
    assert remote_names([".."]) == ["a.bin"]


def test_dot_segments_are_never_valid() -> None:
    # A walk cannot produce them; the check guards the rule itself (GitLab's path-traversal check).
    assert files._valid_part("...") and files._valid_part(".hidden")
    assert not any(files._valid_part(part) for part in (".", "..", ""))


def test_two_files_with_one_remote_name(tmp_path: Path) -> None:
    first = write(tmp_path / "run1" / "model.bin")
    second = write(tmp_path / "run2" / "model.bin")
    (problem,) = problems_of([tmp_path / "run1", tmp_path / "run2"])
    assert problem == (
        f"{str(first)!r} and {str(second)!r} would all be stored as 'model.bin': "
        "rename one of them or pass them under different directories"
    )


def test_the_same_file_twice(tmp_path: Path) -> None:
    path = write(tmp_path / "a.bin")
    assert "would all be stored as 'a.bin'" in problems_of([path, path])[0]


def test_a_file_over_the_size_limit(tmp_path: Path) -> None:
    big = write(tmp_path / "d" / "big.bin", b"x" * 1536)
    write(tmp_path / "d" / "small.bin", b"x" * 1000)
    (problem,) = problems_of([tmp_path / "d"], max_file_size=1000)
    assert problem == (
        f"{str(big)!r} is 1.5 KiB, over the 1000 B limit per file: split it into smaller files"
    )
    assert remote_names([tmp_path / "d"], max_file_size=1536) == ["big.bin", "small.bin"]


def test_every_problem_is_collected_and_summarised(tmp_path: Path) -> None:
    write(tmp_path / "d" / "50%.bin", b"x" * 2000)
    write(tmp_path / "e" / "50%.bin")
    problems = problems_of([tmp_path / "nope", tmp_path / "d", tmp_path / "e"], max_file_size=1024)
    assert len(problems) == 5  # missing, 2 bad names, duplicate, size
    with pytest.raises(InvalidSelection) as raised:
        files.collect([tmp_path / "nope", tmp_path / "d", tmp_path / "e"], max_file_size=1024)
    assert str(raised.value) == f"{str(tmp_path / 'nope')!r} does not exist (and 4 more problems)"
    with pytest.raises(InvalidSelection, match=r"does not exist \(and 1 more problem\)$"):
        files.collect([tmp_path / "nope", tmp_path / "nope2"])


# -- sizes and streams ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (512, "512 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (MiB - 1, "1.0 MiB"),
        (5 * MiB // 2, "2.5 MiB"),
        (2 * 1024**3, "2.0 GiB"),
        (10 * 1024**3, "10.0 GiB"),
        (3 * 1024**6, "3072.0 PiB"),
    ],
)
def test_human_size(size: int, text: str) -> None:
    assert sizes.human_size(size) == text


@pytest.fixture
def blob(tmp_path: Path) -> tuple[Path, bytes]:
    data = os.urandom(3 * MiB + 12345)
    return write(tmp_path / "blob.bin", data), data


def test_hashing_reader_hashes_what_it_streams(blob: tuple[Path, bytes]) -> None:
    path, data = blob
    seen: list[int] = []
    with path.open("rb") as handle:
        reader = HashingReader(handle, on_progress=seen.append)
        assert len(reader) == len(data)
        chunks = list(reader)
    assert b"".join(chunks) == data
    assert [len(c) for c in chunks] == [CHUNK_SIZE] * 3 + [12345]
    assert seen == [MiB, 2 * MiB, 3 * MiB, len(data)]
    assert reader.bytes_read == len(data)
    assert reader.hexdigest() == hashlib.sha256(data).hexdigest()


def test_rewind_before_a_retry_gives_the_same_digest(blob: tuple[Path, bytes]) -> None:
    path, data = blob
    with path.open("rb") as handle:
        reader = HashingReader(handle)
        reader.read(1000)  # an attempt that dropped part-way
        reader.read(70000)
        reader.rewind()
        assert reader.bytes_read == 0
        assert reader.read() == data
    assert reader.hexdigest() == hashlib.sha256(data).hexdigest()
    assert len(reader) == len(data)


def test_reads_of_any_size_give_the_same_digest(blob: tuple[Path, bytes]) -> None:
    path, data = blob
    expected = hashlib.sha256(data).hexdigest()
    for size in (1, 4096, 65536, 999_999, 10 * MiB):
        with path.open("rb") as handle:
            reader = HashingReader(handle, size=len(data))
            while reader.read(size if size > 1 else 777):
                pass
        assert reader.hexdigest() == expected
        assert files.sha256_file(path, chunk=size) == expected


def test_an_empty_file_is_a_true_zero_length_body(tmp_path: Path) -> None:
    path = write(tmp_path / "empty", b"")
    with path.open("rb") as handle:
        reader = HashingReader(handle)
        assert len(reader) == 0 and bool(reader)
        assert list(reader) == []
    assert reader.hexdigest() == hashlib.sha256(b"").hexdigest()
    assert files.sha256_file(path) == reader.hexdigest()


def _peak_bytes_while_hashing(path: Path) -> int:
    tracemalloc.start()
    try:
        with path.open("rb") as handle:
            for _ in HashingReader(handle):
                pass
        files.sha256_file(path)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    small, large = tmp_path / "small.bin", tmp_path / "large.bin"
    for path, mib in ((small, 2), (large, 48)):
        with path.open("wb") as out:
            for _ in range(mib):
                out.write(b"\x5a" * MiB)
    peak_small, peak_large = _peak_bytes_while_hashing(small), _peak_bytes_while_hashing(large)
    assert peak_large < 3 * MiB
    assert peak_large - peak_small < MiB // 2
