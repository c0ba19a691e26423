"""Files over --split-size: parts plus a manifest on GitLab, one file for every command."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import pytest

from gitlab_model_registry.transfer import CHUNK
from tests.gitlab_double.pytest_plugin import Double
from tests.integration.publish.conftest import Gmr, writes
from tests.integration.transfers.conftest import publish_split_file

MIB = 1024 * 1024


@pytest.fixture
def big_model(tmp_path: Path) -> tuple[Path, str]:
    """A model with a 2.5 MiB file (3 parts at 1 MiB) and a small one; the big one's sha256."""
    root = tmp_path / "model"
    (root / "weights").mkdir(parents=True)
    data = os.urandom(5 * MIB // 2)
    (root / "weights" / "big.bin").write_bytes(data)
    (root / "config.json").write_text("{}")
    return root, hashlib.sha256(data).hexdigest()


def _stored(double: Double, version: str = "1.0.0") -> dict[str, int]:
    stored = double.control.version("iris", version)
    assert stored is not None
    return {f["name"]: f["size"] for f in stored["files"]}


def test_a_split_file_is_published_shown_downloaded_and_promoted_as_one_file(
    gmr: Gmr, double: Double, big_model: tuple[Path, str], tmp_path: Path
) -> None:
    root, digest = big_model
    published = gmr(*_publish_in_parts(root))
    assert published.code == 0, published.stderr
    assert _stored(double) == {
        "config.json": 2,
        "gmr-split.json": _stored(double)["gmr-split.json"],
        "weights/big.bin.gmr-part-00001": MIB,
        "weights/big.bin.gmr-part-00002": MIB,
        "weights/big.bin.gmr-part-00003": MIB // 2,
    }

    shown = gmr("show", "iris", "1.0.0", "--json")
    files = {f["name"]: f for f in shown.json["files"]}
    assert set(files) == {"config.json", "weights/big.bin"}
    assert files["weights/big.bin"]["sha256"] == digest and files["weights/big.bin"]["parts"] == 3
    assert "(split: 3 parts)" in gmr("show", "iris", "1.0.0").stdout

    got = gmr("download", "iris", "1.0.0", "--dest", str(tmp_path / "got"))
    assert got.code == 0, got.stderr
    assert sorted(p.relative_to(tmp_path / "got").as_posix() for p in (tmp_path / "got").rglob("*")
                  if p.is_file()) == ["config.json", "weights/big.bin"]  # fmt: skip
    assert hashlib.sha256((tmp_path / "got/weights/big.bin").read_bytes()).hexdigest() == digest

    promoted = gmr("promote", "iris", "1.0.0", "--to", "2.0.0")
    assert promoted.code == 0, promoted.stderr
    assert set(_stored(double, "2.0.0")) == set(_stored(double))
    again = gmr("download", "iris", "2.0.0", "--dest", str(tmp_path / "again"), "--json")
    assert again.code == 0, again.stderr
    assert hashlib.sha256((tmp_path / "again/weights/big.bin").read_bytes()).hexdigest() == digest


def test_a_publish_killed_mid_part_resumes_without_sending_stored_parts_again(
    gmr: Gmr, double: Double, big_model: tuple[Path, str]
) -> None:
    root, _ = big_model
    args = _publish_in_parts(root)
    # The third part's PUT hangs for 30 s: the publish is killed while it is on the wire.
    _kill_during_part_3(gmr, double, *args, "--concurrency", "1")
    before = len(writes(double))

    resumed = gmr(*args)

    assert resumed.code == 0, resumed.stderr
    sent = [r["path"] for r in writes(double)[before:] if r["method"] == "PUT"]
    assert not any("part-00001" in path or "part-00002" in path for path in sent), sent
    assert any("part-00003" in path for path in sent) and any("gmr-split.json" in p for p in sent)


def test_a_promotion_killed_mid_part_resumes_without_copying_stored_parts_again(
    gmr: Gmr, double: Double, big_model: tuple[Path, str], tmp_path: Path
) -> None:
    root, digest = big_model
    assert gmr(*_publish_in_parts(root)).code == 0
    # The third part's copy hangs for 30 s: the promotion is killed while it is on the wire.
    _kill_during_part_3(
        gmr, double, "promote", "iris", "1.0.0", "--to", "2.0.0", "--concurrency", "1"
    )
    before = len(writes(double))

    resumed = gmr("promote", "iris", "1.0.0", "--to", "2.0.0")

    assert resumed.code == 0, resumed.stderr
    sent = [r["path"] for r in writes(double)[before:] if r["method"] == "PUT"]
    assert not any("part-00001" in path or "part-00002" in path for path in sent), sent
    assert any("part-00003" in path for path in sent) and any("gmr-split.json" in p for p in sent)
    got = gmr("download", "iris", "2.0.0", "--dest", str(tmp_path / "got"))
    assert got.code == 0, got.stderr
    assert hashlib.sha256((tmp_path / "got/weights/big.bin").read_bytes()).hexdigest() == digest


def test_a_part_cut_off_midway_continues_in_its_place_in_the_file(
    gmr: Gmr, double: Double, tmp_path: Path
) -> None:
    # Two parts of two chunks each and a tail: every answer is reset after one chunk, so each
    # part arrives in two answers, the second a Range continuing where the first one broke.
    data = os.urandom(4 * CHUNK + 1000)
    publish_split_file(gmr, tmp_path, data, 2 * CHUNK)
    double.control.set_faults(reset_rate=1.0, reset_after=CHUNK)

    got = gmr("download", "iris", "1.0.0", "--dest", str(tmp_path / "got"))

    assert got.code == 0, got.stderr
    assert (tmp_path / "got" / "big.bin").read_bytes() == data
    assert [p.name for p in (tmp_path / "got").iterdir()] == ["big.bin"]
    served = {
        path.rsplit("/", 1)[-1]: n
        for path, n in double.control.served_bytes().items()
        if "gmr-part" in path
    }
    # Each part's bytes were served once: the broken answers' chunks stayed in place.
    assert served == {
        "big.bin.gmr-part-00001": 2 * CHUNK,
        "big.bin.gmr-part-00002": 2 * CHUNK,
        "big.bin.gmr-part-00003": 1000,
    }
    assert "retrying downloading big.bin.gmr-part-00001" in got.stderr


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_a_missing_or_corrupt_part_is_refused_with_nothing_written(
    gmr: Gmr, double: Double, big_model: tuple[Path, str], tmp_path: Path, damage: str
) -> None:
    root, _ = big_model
    assert gmr(*_publish_in_parts(root)).code == 0
    if damage == "corrupt":
        double.control.corrupt_file("iris", "1.0.0", "weights/big.bin.gmr-part-00002")
    else:
        _drop_part(double, "weights/big.bin.gmr-part-00002")

    got = gmr("download", "iris", "1.0.0", "--dest", str(tmp_path / "got"))

    assert got.code != 0 and "big.bin" in got.stderr, got.stderr
    assert not (tmp_path / "got").exists() or not any((tmp_path / "got").iterdir())
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".got")] == []


def test_only_the_part_that_breaks_the_whole_files_sha256_is_fetched_again(
    gmr: Gmr, double: Double, big_model: tuple[Path, str], tmp_path: Path
) -> None:
    root, _ = big_model
    assert gmr(*_publish_in_parts(root)).code == 0
    double.control.corrupt_file("iris", "1.0.0", "weights/big.bin.gmr-part-00002")

    got = gmr("download", "iris", "1.0.0", "--dest", str(tmp_path / "got"))

    assert got.code == 3 and "big.bin.gmr-part-00002" in got.stderr, got.stderr
    served = {
        path.rsplit("/", 1)[-1]: n
        for path, n in double.control.served_bytes().items()
        if "gmr-part" in path
    }
    # The parts land unhashed and the whole file is hashed as they do; it does not match, so
    # each part is checked and only the damaged one is fetched again (and retried), then refused.
    assert served["big.bin.gmr-part-00001"] == MIB and served["big.bin.gmr-part-00003"] == MIB // 2
    assert served["big.bin.gmr-part-00002"] >= 2 * MIB, served


def _publish_in_parts(root: Path) -> tuple[str, ...]:
    """The command publishing ``big_model`` as iris 1.0.0, its big file in 1 MiB parts."""
    return ("publish", "iris", str(root), "--version", "1.0.0", "--split-size", "1MiB")


def _kill_during_part_3(gmr: Gmr, double: Double, *args: str) -> None:
    """Run gmr with part 3's request hanging; kill it once part 2 was written."""
    before = len(writes(double))
    double.control.set_faults(latency_ms=30_000, fault_path="part-00003")
    proc = gmr.start(*args)
    deadline = time.monotonic() + 60
    while not any("part-00002" in r["path"] for r in writes(double)[before:]):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.1)
    time.sleep(0.5)
    proc.kill()
    proc.wait(timeout=10)
    double.control.set_faults(latency_ms=0, fault_path="")


def _drop_part(double: Double, name: str) -> None:
    """Publish a manifest naming a part that is not stored (as if it were deleted)."""
    import requests

    stored = double.control.version("iris", "1.0.0")
    assert stored is not None
    base = f"{double.api_url}/projects/1/packages/ml_models/{stored['id']}/files"
    auth = {"Authorization": f"Bearer {double.developer_token}"}
    manifest = requests.get(f"{base}/gmr-split.json", headers=auth, timeout=10).json()
    manifest["files"][0]["parts"][1]["name"] = name.replace("00002", "00009")
    put = requests.put(
        f"{base}/gmr-split.json", data=json.dumps(manifest), headers=auth, timeout=10
    )
    assert put.status_code == 201
