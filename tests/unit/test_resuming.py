"""Where a stopped download keeps its bytes, who takes them over, and what is left out."""

from __future__ import annotations

import hashlib
import signal
from pathlib import Path

from gitlab_model_registry import resuming
from gitlab_model_registry.errors import IntegrityError, Interrupted
from gitlab_model_registry.models import ModelVersion, RemoteFile
from gitlab_model_registry.retry import TransferError

MV = ModelVersion(model="iris", version="1.0.0", version_id="1")
FILES = [RemoteFile("a.bin", 3, hashlib.sha256(b"abc").hexdigest())]


def test_a_kept_try_is_claimed_once_and_only_by_the_same_download(tmp_path: Path) -> None:
    dest = tmp_path / "got"
    work = resuming.claim(dest, MV, FILES)
    assert not work.resumed
    (work.path / "a.bin.part").write_bytes(b"a")
    kept = work.keep()

    other = resuming.claim(dest, MV, [RemoteFile("a.bin", 4, "0" * 64)])
    mine = resuming.claim(dest, MV, FILES)
    late = resuming.claim(dest, MV, FILES)

    assert not other.resumed and mine.resumed and not late.resumed
    assert (mine.path / "a.bin.part").read_bytes() == b"a" and not kept.exists()
    assert list(late.path.iterdir()) == []


def test_the_directory_of_a_download_that_died_is_taken_over_and_a_running_ones_is_not(
    tmp_path: Path,
) -> None:
    dest = tmp_path / "got"
    running = resuming.claim(dest, MV, FILES)  # holds its lock: another process's, for flock
    (running.path / "a.bin.part").write_bytes(b"ab")
    died = resuming.claim(dest, MV, FILES)
    (died.path / "a.bin.part").write_bytes(b"a")
    died.release()  # what the kernel does for a process killed outright: the lock goes

    after = resuming.claim(dest, MV, FILES)

    assert after.resumed and (after.path / "a.bin.part").read_bytes() == b"a"
    assert not died.path.exists() and (running.path / "a.bin.part").read_bytes() == b"ab"
    # A dead download of other files gives way too, kept for its own next try.
    running.release()
    other = resuming.claim(dest, MV, [RemoteFile("a.bin", 4, "0" * 64)])
    assert not other.resumed
    left = {p.name for p in tmp_path.iterdir()} - {after.path.name, other.path.name}
    assert [name.split("-")[1] for name in left] == ["resume"]


def test_only_failures_a_new_try_can_get_past_are_resumable() -> None:
    assert resuming.resumable(Interrupted(signal.SIGTERM))
    assert resuming.resumable(TransferError("downloading a.bin failed after 6 attempts"))
    assert resuming.resumable(TransferError("a.bin: HTTP 503", status=503))
    assert not resuming.resumable(TransferError("a.bin: HTTP 404", status=404))
    assert not resuming.resumable(IntegrityError("sha256 mismatch for a.bin"))
    assert not resuming.resumable(ValueError("bug"))


def test_a_complete_file_is_one_whose_size_and_sha256_match(tmp_path: Path) -> None:
    (tmp_path / "a.bin").write_bytes(b"abc")
    assert resuming.already_here(tmp_path, FILES[0])
    (tmp_path / "a.bin").write_bytes(b"abd")
    assert not resuming.already_here(tmp_path, FILES[0])
    assert not resuming.already_here(tmp_path, RemoteFile("a.bin", 3))  # no sha256: not trusted
    assert not resuming.already_here(tmp_path / "sub", RemoteFile("../a.bin", 3, FILES[0].sha256))


def test_tidy_leaves_exactly_the_versions_files(tmp_path: Path) -> None:
    for name in ("a.bin", "dir/b.bin", "a.bin.part", "dir/c.bin.part", ".gmr-parts/.whole-1"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")

    resuming.tidy(tmp_path, [RemoteFile("a.bin", 1), RemoteFile("dir/b.bin", 1)])

    left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    assert left == ["a.bin", "dir", "dir/b.bin"]


def test_a_symlink_named_like_a_working_directory_is_never_taken_over(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    planted = tmp_path / f".got.gmr-{'0' * 16}-{'1' * 8}"
    planted.symlink_to(elsewhere)

    work = resuming.claim(tmp_path / "got", MV, FILES)

    assert planted.is_symlink() and not work.resumed
    assert not any("-resume-" in p.name for p in tmp_path.iterdir())
