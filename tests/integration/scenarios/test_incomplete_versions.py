"""A publish stopped half-way (SIGTERM, SIGKILL, SIGINT) leaves an *incomplete* version that no
reader uses, whose number is never reused, and that publishing it again finishes.

Run on the GitLab double (uploads slowed by its latency setting) and on the embedded registry
(many small files); each case stops one publish at a random point after its version appeared.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.integration.scenarios.conftest import Gmr
from tests.integration.scenarios.registries import GitLabRegistry, Registry

#: Enough files that storing them takes seconds: on the double with its latency setting, and
#: on the embedded registry (no latency to add) through its per-file cost.
FILES = {"gitlab": 60, "sqlite": 150}
#: Longest random wait before the signal once the version exists: the embedded registry has no
#: latency to slow it down, so its window is its upload of many small files.
LATEST_SIGNAL_S = {"gitlab": 0.3, "sqlite": 0.05}
VERSION = "2.0.0"
#: Another pipeline than the interrupted one (the same pipeline and job would be a retry).
OTHER_PIPELINE = {"CI_PIPELINE_ID": "501", "CI_PIPELINE_IID": "43"}
#: The pipeline that published the complete release the readers must fall back to.
EARLIER_PIPELINE = {"CI_PIPELINE_ID": "499", "CI_PIPELINE_IID": "41"}


@pytest.fixture(params=["gitlab", "sqlite"])
def slow_registry(request: pytest.FixtureRequest, tmp_path: Path) -> Registry:
    """The double with every request delayed, or the embedded registry."""
    cwd = tmp_path / "work"
    cwd.mkdir()
    if request.param == "gitlab":
        double = request.getfixturevalue("double")
        double.control.set_faults(latency_ms=100)
        return GitLabRegistry(double, cwd)
    from tests.integration.scenarios.registries import EmbeddedRegistry

    return EmbeddedRegistry(cwd, request.getfixturevalue("empty_mlflow_database"))


@pytest.fixture
def many_files(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    kind = "sqlite" if "sqlite" in request.node.name else "gitlab"
    root = tmp_path / "many"
    (root / "shards").mkdir(parents=True)
    for n in range(FILES[kind]):
        (root / "shards" / f"part-{n:03}.bin").write_bytes(os.urandom(2_000 + n))
    return root


def start(registry: Registry, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "gitlab_model_registry", *args],
        cwd=registry.cwd,
        env=registry.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_version(
    registry: Registry, model: str, proc: subprocess.Popen[str], files: int = 0
) -> None:
    """Until VERSION exists and holds at least ``files`` files."""
    deadline = time.monotonic() + 60
    while not stored(registry, model, files):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the version never appeared"
        time.sleep(0.05)


def stored(registry: Registry, model: str, files: int) -> bool:
    if not files:  # cheap: reading a version back downloads an MLflow version's files
        return VERSION in registry.semvers(model)
    found = registry.version(model, VERSION)
    return found is not None and len(found.files) >= files


def interrupt(
    registry: Registry, model: str, source: Path, signum: int, files: int = 0
) -> tuple[subprocess.Popen[str], float, str]:
    """Start a publish of VERSION, stop it with ``signum`` at a random point once the version
    exists; returns the process, the seconds it took to exit after the signal, and stderr."""
    proc = start(
        registry, "publish", model, str(source), "--version", VERSION, "--concurrency", "4"
    )
    wait_for_version(registry, model, proc, files)
    kind = "gitlab" if isinstance(registry, GitLabRegistry) else "sqlite"
    time.sleep(random.uniform(0.0, LATEST_SIGNAL_S[kind]))
    sent = time.monotonic()
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=60)
    return proc, time.monotonic() - sent, stderr


def assert_readers_ignore_it(gmr: Gmr, registry: Registry, model: str) -> None:
    dest = registry.cwd / f"dl-{random.randrange(10**6)}"
    download = gmr("download", model, "latest", "--dest", str(dest), "--json")
    assert download.code == 0, download.stderr
    assert download.json["version"] == "1.0.0"
    assert gmr("download", model, f"=={VERSION}", "--dest", str(dest) + "x").code == 3
    promote = gmr("promote", model, VERSION, "--to", "9.0.0", "--require", "accuracy>=0")
    assert promote.code == 3 and "incomplete" in promote.stderr, promote.stderr
    assert registry.version(model, "9.0.0") is None
    listed = {v["version"]: v for v in gmr("versions", model, "--json").json}
    assert listed[VERSION]["complete"] is False
    bumped = gmr("next-version", model, "--bump", "patch", env=OTHER_PIPELINE)
    assert bumped.stdout.strip() == "2.0.1", bumped.stderr


def count(source: Path) -> int:
    return sum(1 for path in source.rglob("*") if path.is_file())


def assert_resume_completes_it(gmr: Gmr, registry: Registry, model: str, source: Path) -> None:
    resumed = gmr("publish", model, str(source), "--version", VERSION, env=OTHER_PIPELINE)
    assert resumed.code == 0, resumed.stderr
    version = registry.version(model, VERSION)
    assert version is not None and len(version.files) == count(source)
    if isinstance(registry, GitLabRegistry):
        stored = Counter(
            r["path"].rsplit("/", 1)[-1]
            for r in registry.double.control.requests()
            if r["method"] == "PUT" and r["status"] == 201
        )
        assert set(stored.values()) == {1}, "a file was stored twice"
    again = gmr("publish", model, str(source), "--version", VERSION, env=OTHER_PIPELINE)
    assert again.code == 5, again.stderr
    download = gmr("download", model, "latest", "--dest", str(registry.cwd / "final"), "--json")
    assert download.json["version"] == VERSION


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL], ids=["term", "kill"])
def test_a_stopped_publish_is_never_read_and_publishing_it_again_finishes_it(
    slow_registry: Registry, many_files: Path, signum: int
) -> None:
    registry, model, gmr = slow_registry, "shards", Gmr(slow_registry)
    released = registry.cwd / "released.bin"
    released.write_bytes(b"the complete 1.0.0")
    first = gmr("publish", model, str(released), "--version", "1.0.0", env=EARLIER_PIPELINE)
    assert first.code == 0, first.stderr

    proc, took, stderr = interrupt(registry, model, many_files, signum)

    if signum == signal.SIGTERM:
        assert proc.returncode == 143, stderr
        last = stderr.strip().splitlines()[-1]
        assert f"{model} {VERSION} is incomplete" in last, stderr
        assert f"gmr publish {model} {many_files} --version {VERSION}" in last
        assert took < 5, f"took {took:.1f}s to stop"
    else:
        assert proc.returncode == -signal.SIGKILL
    if isinstance(registry, GitLabRegistry):
        registry.double.control.set_faults(latency_ms=0)
    version = registry.version(model, VERSION)
    assert version is not None and len(version.files) < count(many_files), "it was not stopped"
    assert_readers_ignore_it(gmr, registry, model)
    assert_resume_completes_it(gmr, registry, model, many_files)


def test_sigint_stops_uploads_within_two_seconds(
    double_registry: GitLabRegistry, many_files: Path
) -> None:
    registry, model = double_registry, "shards"
    registry.double.control.set_faults(latency_ms=300)

    proc, took, stderr = interrupt(registry, model, many_files, signal.SIGINT, files=4)

    print(f"SIGINT to exit: {took:.2f}s")  # the figure reported with the change
    assert proc.returncode == 130, stderr
    assert f"{model} {VERSION} is incomplete" in stderr
    assert took < 2.5, f"took {took:.2f}s to stop"
    stored = len(registry.version(model, VERSION).files)  # type: ignore[union-attr]
    time.sleep(1)
    # Only uploads already sent when the signal came may still land (the double answers after
    # its latency): at most one per upload thread, none started afterwards.
    later = len(registry.version(model, VERSION).files)  # type: ignore[union-attr]
    assert later - stored <= 4 and later < count(many_files)


@pytest.fixture
def double_registry(request: pytest.FixtureRequest, tmp_path: Path) -> GitLabRegistry:
    cwd = tmp_path / "work"
    cwd.mkdir()
    return GitLabRegistry(request.getfixturevalue("double"), cwd)
