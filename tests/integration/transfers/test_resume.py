"""A download stopped by the network or by a signal continues where it stopped when run again."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from subprocess import Popen

import pytest

from gitlab_model_registry.transfer import CHUNK
from tests.gitlab_double.pytest_plugin import Double
from tests.integration.publish.conftest import Gmr
from tests.integration.transfers.conftest import publish_split_file

#: GitLab transfers make 6 attempts; with every answer reset after one chunk, a file of more
#: chunks than that fails for good.
ATTEMPTS = 6


@pytest.fixture
def published(gmr: Gmr, tmp_path: Path) -> bytes:
    """iris 1.0.0: a file of 2 x ATTEMPTS chunks and a small one; the big file's bytes."""
    root = tmp_path / "model"
    root.mkdir()
    data = os.urandom(2 * ATTEMPTS * CHUNK)
    (root / "weights.bin").write_bytes(data)
    (root / "config.json").write_text("{}")
    assert gmr("publish", "iris", str(root), "--version", "1.0.0").code == 0
    return data


def _served(double: Double, name: str) -> int:
    return sum(n for path, n in double.control.served_bytes().items() if path.endswith(name))


def _leftovers(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".got"))


def _slow_download(gmr: Gmr, double: Double, dest: Path, until: Callable[[], bool]) -> Popen[str]:
    """``gmr download iris 1.0.0`` with each answer broken after one chunk and retried with
    growing delays (slow enough to be stopped midway), once ``until()`` holds while it runs."""
    double.control.set_faults(reset_rate=1.0, reset_after=CHUNK)
    proc = gmr.start("download", "iris", "1.0.0", "--dest", str(dest))
    deadline = time.monotonic() + 60
    while not until():
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    return proc


def test_a_download_the_network_kept_failing_continues_from_its_bytes(
    gmr: Gmr, double: Double, published: bytes, tmp_path: Path
) -> None:
    # Every answer is reset after one chunk: the attempts run out halfway through the file.
    double.control.set_faults(reset_rate=1.0, reset_after=CHUNK)
    failed = gmr("download", "iris", "1.0.0", "--dest", str(tmp_path / "got"))
    assert failed.code == 3, failed.stderr
    assert not (tmp_path / "got").exists()
    assert [name.split("-resume-")[0] for name in _leftovers(tmp_path)] == [".got.gmr"]
    first = _served(double, "weights.bin")
    assert 0 < first < len(published)
    double.control.set_faults(reset_rate=0.0)

    resumed = gmr("download", "iris", "1.0.0", "--dest", str(tmp_path / "got"))

    assert resumed.code == 0, resumed.stderr
    assert "continuing a stopped download: 1 of 2 file(s) were complete" in resumed.stderr
    assert (tmp_path / "got" / "weights.bin").read_bytes() == published
    assert sorted(p.name for p in (tmp_path / "got").iterdir()) == ["config.json", "weights.bin"]
    # The bytes the first try received were not served again, nor the complete small file.
    assert _served(double, "weights.bin") == len(published)
    assert _served(double, "config.json") == 2
    assert _leftovers(tmp_path) == []


def test_a_download_stopped_by_sigterm_continues_and_another_version_does_not_use_it(
    gmr: Gmr, double: Double, published: bytes, tmp_path: Path
) -> None:
    proc = _slow_download(
        gmr, double, tmp_path / "got", lambda: _served(double, "weights.bin") >= CHUNK
    )
    time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 143, stderr
    assert "run it again to continue" in stderr.strip().splitlines()[-1], stderr
    assert len(_leftovers(tmp_path)) == 1
    double.control.set_faults(reset_rate=0.0)

    # What 1.0.0's try kept is not 2.0.0's: another version starts afresh and leaves it alone.
    other = tmp_path / "other"
    other.mkdir()
    (other / "weights.bin").write_bytes(b"different")
    later = {"CI_PIPELINE_ID": "501", "CI_PIPELINE_IID": "43"}  # another pipeline's version
    assert gmr("publish", "iris", str(other), "--version", "2.0.0", env=later).code == 0
    assert gmr("download", "iris", "2.0.0", "--dest", str(tmp_path / "got")).code == 0
    assert (tmp_path / "got" / "weights.bin").read_bytes() == b"different"
    assert len(_leftovers(tmp_path)) == 1

    resumed = gmr("download", "iris", "1.0.0", "--dest", str(tmp_path / "got"), "--force")

    assert resumed.code == 0, resumed.stderr
    got = (tmp_path / "got" / "weights.bin").read_bytes()
    assert hashlib.sha256(got).digest() == hashlib.sha256(published).digest()
    assert _served(double, "weights.bin") == len(published) + len(b"different")  # none twice
    assert _leftovers(tmp_path) == []


def test_a_download_killed_outright_continues_from_its_bytes_and_leaves_nothing_behind(
    gmr: Gmr, double: Double, published: bytes, tmp_path: Path
) -> None:
    # SIGKILL: no handler runs, the working directory keeps its name. Its lock dies with the
    # process, so the next download into the same --dest takes it over.
    proc = _slow_download(
        gmr, double, tmp_path / "got", lambda: _served(double, "weights.bin") >= 2 * CHUNK
    )
    proc.kill()
    proc.communicate(timeout=30)
    assert [name.count("-") for name in _leftovers(tmp_path)] == [2]  # .got.gmr-<key>-<id>
    first = _served(double, "weights.bin")
    double.control.set_faults(reset_rate=0.0)

    resumed = gmr("download", "iris", "1.0.0", "--dest", str(tmp_path / "got"))

    assert resumed.code == 0, resumed.stderr
    assert "continuing a stopped download" in resumed.stderr
    assert (tmp_path / "got" / "weights.bin").read_bytes() == published
    # Only what the killed try had not written yet was served again (at most its last chunk,
    # received but not yet in the file).
    assert _served(double, "weights.bin") - first <= len(published) - first + CHUNK
    assert _served(double, "weights.bin") - first < len(published)
    assert _leftovers(tmp_path) == []


@pytest.fixture
def split_published(gmr: Gmr, tmp_path: Path) -> tuple[bytes, int]:
    """iris 1.0.0: big.bin in two parts of ATTEMPTS + 1 chunks; its bytes and the part size."""
    part = (ATTEMPTS + 1) * CHUNK
    data = os.urandom(2 * part)
    publish_split_file(gmr, tmp_path, data, part)
    return data, part


def test_a_split_download_the_network_kept_failing_continues_each_part_where_it_stopped(
    gmr: Gmr, double: Double, split_published: tuple[bytes, int], tmp_path: Path
) -> None:
    data, part = split_published
    # Each answer is reset after one chunk: the attempts run out one chunk before each part ends.
    double.control.set_faults(reset_rate=1.0, reset_after=CHUNK)
    failed = gmr("download", "iris", "1.0.0", "--dest", str(tmp_path / "got"))
    assert failed.code == 3, failed.stderr
    assert not (tmp_path / "got").exists() and len(_leftovers(tmp_path)) == 1
    double.control.set_faults(reset_rate=0.0)

    resumed = gmr("download", "iris", "1.0.0", "--dest", str(tmp_path / "got"))

    assert resumed.code == 0, resumed.stderr
    assert (tmp_path / "got" / "big.bin").read_bytes() == data
    assert [p.name for p in (tmp_path / "got").iterdir()] == ["big.bin"]
    # Each part's bytes were served once in all: the second run asked only for the last chunk of each.
    assert _served(double, "big.bin.gmr-part-00001") == part
    assert _served(double, "big.bin.gmr-part-00002") == part
    assert _leftovers(tmp_path) == []


def test_a_split_download_killed_outright_continues_each_part_from_its_record(
    gmr: Gmr, double: Double, split_published: tuple[bytes, int], tmp_path: Path
) -> None:
    data, part = split_published
    # Its attempts run out after about 8 s; the record is written every second meanwhile.
    proc = _slow_download(gmr, double, tmp_path / "got", lambda: _recorded(tmp_path) >= 2 * CHUNK)
    proc.kill()
    proc.communicate(timeout=30)
    assert all("-resume-" not in name for name in _leftovers(tmp_path))  # killed, not stopped
    recorded = _recorded(tmp_path)  # the last record the killed try wrote
    parts = ("big.bin.gmr-part-00001", "big.bin.gmr-part-00002")
    before = sum(_served(double, name) for name in parts)
    double.control.set_faults(reset_rate=0.0)

    resumed = gmr("download", "iris", "1.0.0", "--dest", str(tmp_path / "got"))

    assert resumed.code == 0, resumed.stderr
    assert (tmp_path / "got" / "big.bin").read_bytes() == data
    # Each part continued where the record said it had landed: nothing recorded came again.
    assert sum(_served(double, name) for name in parts) - before == 2 * part - recorded
    assert _leftovers(tmp_path) == []


def _recorded(tmp_path: Path) -> int:
    """Bytes the record of a running split download says landed (0 if none yet)."""
    for record in tmp_path.glob(".got.gmr-*/.gmr-parts/*.landed.json"):
        if "-resume-" in record.parts[-3]:
            continue  # a stopped try's: not the running one's
        try:
            return sum(json.loads(record.read_text())["landed"].values())
        except (OSError, ValueError):
            return 0
    return 0
