"""`gmr publish` benchmarks on the GitLab double, side by side in one run.

1. throughput: publishing one 1 GiB file vs `curl -T` of the same file to the same upload URL;
2. peak RSS of the publish process for a 64 MiB and a 1 GiB file (must not grow with the size);
3. 500 x 64 KiB files with 20 ms injected latency, --concurrency 1 vs the default;
4. `gmr --version` start-up time (the GitLab path never imports mlflow).

Usage: .venv/bin/python bench/publish.py [--big-mib 1024]   (run from the repository root)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.gitlab_double.control import DoubleClient
from tests.gitlab_double.process import running_double

TOKEN = "glpat-bench-api"
MIB = 1024 * 1024


def random_file(path: Path, mib: int) -> Path:
    with path.open("wb") as out:
        for _ in range(mib):
            out.write(os.urandom(MIB))
    return path


def gmr(base: str, *args: str) -> tuple[float, int, str]:
    """Run `gmr publish`; returns (seconds, peak RSS in KiB, stdout)."""
    cmd = [
        sys.executable,
        "-m",
        "gitlab_model_registry",
        "publish",
        *args,
        "--no-progress",
        "--gitlab-url",
        base,
        "--project",
        "1",
        "--token",
        TOKEN,
        "--upload-token",
        "api",
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CI_", "GMR_", "GITLAB_"))}
    start = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=True, env=env
    )
    seconds = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"gmr failed: {proc.stderr[-2000:]}")
    return seconds, int(proc.stderr.strip().splitlines()[-1]), proc.stdout


def curl_put(base: str, version_id: str, path: Path) -> float:
    url = f"{base}/api/v4/projects/1/packages/ml_models/{version_id}/files/curl-{path.name}"
    out = subprocess.run(
        [
            "curl",
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{time_total}",
            "-T",
            str(path),
            "-H",
            f"Authorization: Bearer {TOKEN}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out[0] == "201", out
    return float(out[1])


def version_id(control: DoubleClient, model: str, semver: str) -> str:
    found = control.version(model, semver)
    assert found is not None
    return str(found["id"])


def throughput(base: str, control: DoubleClient, work: Path, big_mib: int) -> None:
    big = random_file(work / "big.bin", big_mib)
    seconds, rss, _ = gmr(base, "big", str(big), "--version", "1.0.0")
    os.sync()
    curl = statistics.median(
        curl_put(base, version_id(control, "big", "1.0.0"), big) for _ in range(2)
    )
    mb = big_mib * MIB / 1e6
    print(
        f"1. {big_mib} MiB: gmr publish {seconds:.2f} s ({mb / seconds:.0f} MB/s, whole command) "
        f"vs curl -T {curl:.2f} s ({mb / curl:.0f} MB/s): ratio {curl / seconds:.2f}"
    )
    small = random_file(work / "small.bin", 64)
    _, small_rss, _ = gmr(base, "small", str(small), "--version", "1.0.0")
    print(
        f"2. peak RSS: {small_rss / 1024:.0f} MiB for 64 MiB, {rss / 1024:.0f} MiB for {big_mib} MiB"
    )
    big.unlink()


def many_files(base: str, control: DoubleClient, work: Path) -> None:
    tree = work / "many"
    tree.mkdir()
    for i in range(500):
        (tree / f"part-{i:03d}.bin").write_bytes(os.urandom(64 * 1024))
    control.set_faults(latency_ms=20)
    serial, _, _ = gmr(base, "many", str(tree), "--version", "1.0.0", "--concurrency", "1")
    parallel, _, _ = gmr(base, "many", str(tree), "--version", "2.0.0")
    control.set_faults(latency_ms=0)
    print(
        f"3. 500 x 64 KiB, 20 ms latency: concurrency 1 {serial:.1f} s, default (4) "
        f"{parallel:.1f} s: {serial / parallel:.1f}x faster"
    )


def startup() -> None:
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "gitlab_model_registry", "--version"],
            check=True,
            capture_output=True,
        )
        runs.append(time.perf_counter() - start)
    probe = (
        "import sys, gitlab_model_registry.cli, gitlab_model_registry.backends.gitlab; "
        "print('mlflow' in sys.modules)"
    )
    imported = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True
    ).stdout.strip()
    median_ms = statistics.median(runs) * 1000
    print(f"4. gmr --version: median {median_ms:.0f} ms over 5; mlflow imported: {imported}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--big-mib", type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gmr-bench-") as tmp:
        work = Path(tmp)
        with running_double(work / "data", ["--token", f"{TOKEN}:api:developer"]) as base:
            control = DoubleClient(base)
            throughput(base, control, work, args.big_mib)
            many_files(base, control, work)
    startup()


if __name__ == "__main__":
    main()
