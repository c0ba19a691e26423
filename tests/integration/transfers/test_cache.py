"""The download cache (--cache-dir): hits transfer nothing, bad entries are replaced, sharing is safe."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from gitlab_model_registry import CiContext, PublishRequest, download, publish
from gitlab_model_registry.cache import ABANDONED_AFTER_S, COPYING, Cache
from tests.gitlab_double.pytest_plugin import Double
from tests.integration.publish.conftest import Gmr, clean_environ
from tests.integration.transfers.conftest import Lines, gitlab

SIZES = {"weights/a.bin": 300_000, "weights/b.bin": 70_000, "config.json": 20}


@pytest.fixture
def published(double: Double, tmp_path: Path, lines: Lines) -> dict[str, str]:
    """iris 1.0.0 with three files; returns name -> sha256."""
    root = tmp_path / "model"
    digests = {}
    for name, size in SIZES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        data = os.urandom(size)
        (root / name).write_bytes(data)
        digests[name] = hashlib.sha256(data).hexdigest()
    request = PublishRequest(model="iris", paths=[str(root)], version="1.0.0")
    publish(gitlab(double, lines, tmp_path), request, CiContext(), lines)
    return digests


def _get(double: Double, tmp_path: Path, dest: str, cache: Path) -> tuple[int, Path]:
    """Download iris 1.0.0 into ``dest``; returns (file bytes GitLab served, dest)."""
    before = sum(double.control.served_bytes().values())
    backend = gitlab(double, Lines(), tmp_path)
    result = download(backend, "iris", "1.0.0", tmp_path / dest, cache_dir=cache)
    return sum(double.control.served_bytes().values()) - before, result.dest


def _tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file()
    }


def test_a_second_download_transfers_nothing_and_hard_links_from_the_cache(
    double: Double, tmp_path: Path, published: dict[str, str]
) -> None:
    cache = tmp_path / "cache"
    first, one = _get(double, tmp_path, "one", cache)
    second, two = _get(double, tmp_path, "two", cache)

    assert first == sum(SIZES.values()) and second == 0
    assert _tree(one) == _tree(two) == published
    entry = Cache(cache).entry(published["weights/a.bin"])
    assert (two / "weights/a.bin").stat().st_ino == entry.stat().st_ino


@pytest.mark.parametrize("damage", ["truncated", "corrupt"])
def test_a_partial_or_corrupt_entry_is_downloaded_again_and_replaced(
    double: Double, tmp_path: Path, published: dict[str, str], damage: str
) -> None:
    cache = tmp_path / "cache"
    _get(double, tmp_path, "one", cache)
    entry = Cache(cache).entry(published["weights/b.bin"])
    entry.unlink()  # the first download's copy is hard-linked: damage a separate file
    data = bytearray((tmp_path / "one/weights/b.bin").read_bytes())
    if damage == "truncated":
        del data[1000:]
    else:
        data[10] ^= 0xFF
    entry.write_bytes(bytes(data))

    served, two = _get(double, tmp_path, "two", cache)

    assert served == SIZES["weights/b.bin"]
    assert _tree(two) == published
    assert hashlib.sha256(entry.read_bytes()).hexdigest() == published["weights/b.bin"]


def test_a_cache_on_another_filesystem_is_copied_from(
    double: Double, tmp_path: Path, published: dict[str, str]
) -> None:
    if not Path("/dev/shm").is_dir() or os.stat("/dev/shm").st_dev == tmp_path.stat().st_dev:
        pytest.skip("needs /dev/shm on another filesystem than the test's temporary directory")
    with tempfile.TemporaryDirectory(dir="/dev/shm", prefix="gmr-cache-") as other:
        cache = Path(other)
        _get(double, tmp_path, "one", cache)
        served, two = _get(double, tmp_path, "two", cache)

        assert served == 0 and _tree(two) == published
        assert (two / "weights/a.bin").stat().st_nlink == 1  # a copy, not a link
        assert Cache(cache).entry(published["config.json"]).is_file()


def test_a_copy_a_killed_job_left_in_the_cache_is_swept_by_the_next_download(
    double: Double, tmp_path: Path, published: dict[str, str]
) -> None:
    cache = Cache(tmp_path / "cache")
    # What SIGKILL leaves of a copy into the cache: a half-written file whose lock died with it.
    left = cache.entry(published["weights/a.bin"]).with_name(
        f".{published['weights/a.bin']}.0badc0de{COPYING}"
    )
    left.parent.mkdir(parents=True)
    left.write_bytes(b"half a file")
    stale = time.time() - ABANDONED_AFTER_S - 1
    os.utime(left, (stale, stale))
    lines = Lines()

    backend = gitlab(double, Lines(), tmp_path)
    result = download(backend, "iris", "1.0.0", tmp_path / "one", cache_dir=cache.root,
                      observer=lines)  # fmt: skip

    assert not left.exists()
    assert any("removed 1 half-written cache file(s)" in line for line in lines.lines)
    assert _tree(result.dest) == published and cache.entry(published["weights/a.bin"]).is_file()


_DOWNLOAD = """
import sys
from pathlib import Path
from gitlab_model_registry import Flags, Settings, download, open_registry
url, token, dest, cache = sys.argv[1:]
settings = Settings.resolve(Flags(gitlab_url=url, project="1", token=token), {}, Path.cwd())
download(open_registry(settings), "iris", "1.0.0", Path(dest), cache_dir=Path(cache))
"""


def test_two_processes_sharing_a_cache_at_once_both_get_whole_files(
    double: Double, tmp_path: Path, published: dict[str, str]
) -> None:
    cache = tmp_path / "cache"
    for round_ in range(2):  # both miss, then both hit
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    _DOWNLOAD,
                    double.url,
                    double.developer_token,
                    str(tmp_path / f"d{round_}{i}"),
                    str(cache),
                ],
                env=clean_environ(),
                stderr=subprocess.PIPE,
                text=True,
            )
            for i in range(2)
        ]
        for proc in procs:
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
        for i in range(2):
            assert _tree(tmp_path / f"d{round_}{i}") == published
    leftovers = [p for p in cache.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def test_the_cli_takes_the_cache_from_gmr_cache_dir(
    gmr: Gmr, double: Double, tmp_path: Path, published: dict[str, str]
) -> None:
    env = {"GMR_CACHE_DIR": str(tmp_path / "cache")}
    first = gmr("download", "iris", "1.0.0", "--dest", str(tmp_path / "a"), env=env)
    second = gmr("download", "iris", "1.0.0", "--dest", str(tmp_path / "b"), "--json", env=env)

    assert first.code == 0 and "from the cache" not in first.stdout, first.stderr
    assert second.code == 0, second.stderr
    assert sorted(second.json["from_cache"]) == sorted(published)
    assert "3 of 3 file(s) from the cache" in second.stderr
    assert _tree(tmp_path / "b") == published
