"""Transfers at the limit, on the GitLab double, side by side in one run.

1. 1 GiB upload (`gmr publish`) and download (`gmr download`, sha256 verified) vs `curl` of the
   same URL, interleaved (A B A B …, medians), peak RSS at 64 MiB and 1 GiB, and the fixed cost
   of each command (a 1-byte file: start-up and API calls);
2. 200 x 64 KiB + one 64 MiB file at 20 ms latency: `gmr publish` vs the documented MLflow-client
   flow (bench/mlflow_client_flow.py), interleaved, medians;
3. a big file split by `--split-size`: publish and download throughput vs `curl` of one stream;
4. a second download through `--cache-dir`: file bytes GitLab served and time.

Usage (repository root): .venv/bin/python bench/transfers.py [--big-mib 1024] [--runs 3]
       [--split-mib 3072 --split-size 1GiB]   (the issue's 12 GiB / 4GiB, scaled to the disk)
       [--baseline /path/to/worktree/src]     (1 also runs that checkout's gmr, interleaved)
Single runs on shared machines swing widely (page cache, neighbours): read the medians.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
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
HERE = Path(__file__).resolve().parent


def random_file(path: Path, mib: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        for _ in range(mib):
            out.write(os.urandom(MIB))
    return path


def _env() -> dict[str, str]:
    """No CI variables; and Python may cache bytecode, as an installed gmr (pip compiles it,
    the image ships it) does: a PYTHONDONTWRITEBYTECODE inherited from the machine would make
    every run of the editable checkout compile gmr's modules again (about 0.1 s of start-up)."""
    skip = ("CI_", "GMR_", "GITLAB_", "PYTHONDONTWRITEBYTECODE")
    return {k: v for k, v in os.environ.items() if not k.startswith(skip)}


def gmr(base: str, command: str, *args: str, src: Path | None = None) -> tuple[float, int]:
    """Run a `gmr` command (``src``: another checkout's ``src/``); (seconds, peak RSS in KiB)."""
    auth = ["--gitlab-url", base, "--project", "1", "--token", TOKEN, "--upload-token", "api"]
    cmd = [sys.executable, "-m", "gitlab_model_registry", command, *args, "--no-progress", *auth]
    env = _env() | ({"PYTHONPATH": str(src)} if src else {})
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=True,
                          env=env)  # fmt: skip
    seconds = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"gmr {command} failed: {proc.stderr[-2000:]}")
    return seconds, int(proc.stderr.strip().splitlines()[-1])


def curl(*args: str) -> float:
    out = subprocess.run(
        ["curl", "-sS", "-w", "%{http_code} %{time_total}", "-H", f"Authorization: Bearer {TOKEN}",
         *args],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert out[-2] in ("200", "201"), out
    return float(out[-1])


def sha256_seconds(path: Path) -> float:
    """Seconds for ``openssl dgst -sha256`` of ``path``: what a curl script adds to verify a file.
    OpenSSL's sha256 is the one hashlib uses (1 GiB in 0.75 s here); coreutils' sha256sum 9.1
    has its own, four times slower (3.1 s), which would flatter gmr."""
    start = time.perf_counter()
    subprocess.run(["openssl", "dgst", "-sha256", str(path)], check=True, capture_output=True)
    return time.perf_counter() - start


def file_url(base: str, control: DoubleClient, model: str, semver: str, name: str) -> str:
    found = control.version(model, semver)
    assert found is not None
    return f"{base}/api/v4/projects/1/packages/ml_models/{found['id']}/files/{name}"


def mlflow_flow(base: str, model: str, version: str, folder: Path) -> float:
    env = _env() | {
        "MLFLOW_TRACKING_URI": f"{base}/api/v4/projects/1/ml/mlflow",
        "MLFLOW_TRACKING_TOKEN": TOKEN,
    }
    start = time.perf_counter()
    subprocess.run([sys.executable, str(HERE / "mlflow_client_flow.py"), model, version,
                    str(folder)], check=True, env=env, capture_output=True)  # fmt: skip
    return time.perf_counter() - start


def median(values: list[float]) -> float:
    return statistics.median(values)


def rotated(tools: tuple[str, ...], run: int) -> tuple[str, ...]:
    """A B, B A, or every order of three in turn: each tool runs first, second and last, after
    each other, equally often (in 6 runs), so neither the machine's state one leaves nor the
    position in a run favours one tool."""
    if len(tools) == 2:
        return tools if run % 2 == 0 else tools[::-1]
    orders = list(itertools.permutations(tools))
    return orders[run % len(orders)]


def paired(ours: list[float], theirs: list[float]) -> float:
    """Median of the per-run ratios theirs / ours: robust where the machine's speed shifts
    between runs (both tools in a run meet the same state), unlike a ratio of medians."""
    return median([t / o for o, t in zip(ours, theirs, strict=True)])


def big_transfers(
    base: str,
    control: DoubleClient,
    work: Path,
    mib: int,
    runs: int,
    landing: Path,
    baseline: Path | None = None,
) -> None:
    big = random_file(work / "big" / "big.bin", mib)
    mb = mib * MIB / 1e6
    up_gmr, up_curl, down_gmr, down_curl, rss_up, rss_down = [], [], [], [], [], []
    up_base: list[float] = []
    down_base: list[float] = []
    up_sum: list[float] = []  # curl's time plus a sha256 of the same file, after it
    down_sum: list[float] = []
    tools = ("gmr", "curl", "baseline") if baseline else ("gmr", "curl")
    tiny = work / "tiny" / "tiny.bin"
    tiny.parent.mkdir()
    tiny.write_bytes(b"x")
    gmr(base, "publish", "curl-target", str(tiny), "--version", "1.0.0")
    target = file_url(base, control, "curl-target", "1.0.0", "c.bin")
    fixed_up, fixed_down = [], []  # a 1-byte file: start-up and API calls, next to no transfer
    for run in range(runs):  # A B, then B A: neither always runs after the other's write-back
        fixed_up.append(gmr(base, "publish", "fixed", str(tiny), "--version", f"{run + 1}.0.0")[0])
        fixed_down.append(gmr(base, "download", "fixed", f"{run + 1}.0.0", "--dest",
                              str(landing / f"fixed-{run}"))[0])  # fmt: skip
        version = f"{run + 1}.0.0"
        for tool in rotated(tools, run):
            os.sync()
            if tool == "gmr":
                seconds, rss = gmr(base, "publish", "big", str(big), "--version", version)
                up_gmr.append(seconds)
                rss_up.append(rss)
            elif tool == "baseline":
                up_base.append(gmr(base, "publish", "big-baseline", str(big), "--version",
                                   version, src=baseline)[0])  # fmt: skip
            else:
                up_curl.append(curl("-o", "/dev/null", "-T", str(big), f"{target}{run}"))
                up_sum.append(up_curl[-1] + sha256_seconds(big))
        url = file_url(base, control, "big", version, "big.bin")
        dest = landing / f"down-{run}"
        for tool in rotated(tools, run):
            os.sync()
            if tool == "gmr":
                seconds, rss = gmr(base, "download", "big", version, "--dest", str(dest))
                down_gmr.append(seconds)
                rss_down.append(rss)
            elif tool == "baseline":
                down_base.append(gmr(base, "download", "big-baseline", version, "--dest",
                                     str(landing / "baseline"), src=baseline)[0])  # fmt: skip
            else:
                down_curl.append(curl("-o", str(landing / "curl.bin"), url))
                down_sum.append(down_curl[-1] + sha256_seconds(landing / "curl.bin"))
        subprocess.run(["rm", "-rf", str(dest), str(landing / "curl.bin"), str(landing / "baseline"),
                        str(landing / f"fixed-{run}")], check=True)  # fmt: skip
    g, c = median(up_gmr), median(up_curl)
    print(f"1a. {mib} MiB upload, {runs} interleaved runs, medians: gmr publish {g:.2f} s "
          f"({mb / g:.0f} MB/s, whole command) vs curl -T {c:.2f} s ({mb / c:.0f} MB/s): "
          f"ratio {c / g:.2f}")  # fmt: skip
    g, c = median(down_gmr), median(down_curl)
    print(f"1b. {mib} MiB download: gmr download {g:.2f} s ({mb / g:.0f} MB/s, sha256 verified) "
          f"vs curl -o {c:.2f} s ({mb / c:.0f} MB/s): ratio {c / g:.2f}")  # fmt: skip
    small = random_file(work / "small" / "small.bin", 64)
    _, small_rss = gmr(base, "publish", "small", str(small), "--version", "1.0.0")
    _, small_down = gmr(base, "download", "small", "1.0.0", "--dest", str(work / "small-down"))
    print(f"1c. peak RSS: publish {small_rss / 1024:.0f} MiB at 64 MiB, "
          f"{max(rss_up) / 1024:.0f} MiB at {mib} MiB; download {small_down / 1024:.0f} MiB "
          f"at 64 MiB, {max(rss_down) / 1024:.0f} MiB at {mib} MiB")  # fmt: skip
    up, down = median(up_gmr) - median(fixed_up), median(down_gmr) - median(fixed_down)
    print(f"1d. fixed cost (1-byte file, whole command): publish {median(fixed_up):.2f} s, "
          f"download {median(fixed_down):.2f} s; 1a and 1b without it: upload {up:.2f} s "
          f"(ratio {median(up_curl) / up:.2f}), download {down:.2f} s "
          f"(ratio {median(down_curl) / down:.2f})")  # fmt: skip
    if baseline:
        b_up, b_down = median(up_base), median(down_base)
        print(f"1e. the same loop, {baseline}'s gmr: publish {b_up:.2f} s, download {b_down:.2f} s; "
              f"per-run ratios (medians), baseline's time / this checkout's: publish "
              f"{paired(up_gmr, up_base):.2f}, download {paired(down_gmr, down_base):.2f}; "
              f"curl's / this checkout's: {paired(up_gmr, up_curl):.2f}, "
              f"{paired(down_gmr, down_curl):.2f}; curl's / baseline's: "
              f"{paired(up_base, up_curl):.2f}, {paired(down_base, down_curl):.2f}")  # fmt: skip
    print(f"1f. curl with the verification gmr makes (curl, then openssl's sha256 of the file): "
          f"upload {median(up_sum):.2f} s, download {median(down_sum):.2f} s; per-run ratios, its "
          f"time / gmr's: upload {paired(up_gmr, up_sum):.2f}, download "
          f"{paired(down_gmr, down_sum):.2f}")  # fmt: skip
    big.unlink()


def many_files(base: str, control: DoubleClient, work: Path, runs: int) -> Path:
    tree = work / "tree"
    tree.mkdir()
    for i in range(200):
        (tree / f"part-{i:03d}.bin").write_bytes(os.urandom(64 * 1024))
    random_file(tree / "weights.bin", 64)
    control.set_faults(latency_ms=20)
    ours, theirs = [], []
    for run in range(runs):
        ours.append(gmr(base, "publish", "tree", str(tree), "--version", f"{run + 1}.0.0")[0])
        theirs.append(mlflow_flow(base, f"mlflow-tree-{run}", "1.0.0", tree))
    control.set_faults(latency_ms=0)
    g, m = median(ours), median(theirs)
    print(f"2. 200 x 64 KiB + 64 MiB at 20 ms latency, {runs} interleaved runs, medians: "
          f"gmr publish {g:.2f} s vs MLflow client (GitLab's documented flow) {m:.2f} s: "
          f"{m / g:.1f}x")  # fmt: skip
    return tree


def split_file(
    base: str, control: DoubleClient, work: Path, mib: int, split: str, runs: int
) -> None:
    """Publish once each, after an untimed warm-up transfer; downloads interleaved (A B, then
    B A), each after an ``os.sync()`` so neither pays for the write-back of what came before it
    (a file this big outgrows the page cache's dirty limit: without the sync, whichever runs
    second is throttled to disk speed)."""
    big = random_file(work / "split" / "huge.bin", mib)
    mb = mib * MIB / 1e6
    # curl's one stream goes to a version of its own: in ``huge``'s, gmr would download it too.
    tiny = work / "split-tiny" / "tiny.bin"
    tiny.parent.mkdir()
    tiny.write_bytes(b"x")
    gmr(base, "publish", "huge-curl", str(tiny), "--version", "1.0.0")
    whole = file_url(base, control, "huge-curl", "1.0.0", "whole.bin")
    # Untimed: the first transfer this big after the file is written ran 2-3x slower than the
    # next ones, whichever tool made it (most likely because these VMs hand freed memory back to
    # their host at once, and touching it again is slow); without it, the tool going first paid.
    os.sync()
    curl("-o", "/dev/null", "-T", str(big), f"{whole}.warm-up")
    os.sync()
    up, _ = gmr(base, "publish", "huge", str(big), "--version", "1.0.0", "--split-size", split)
    os.sync()
    one = curl("-o", "/dev/null", "-T", str(big), whole)
    ours, theirs = [], []
    for run in range(runs):
        for tool in ("gmr", "curl") if run % 2 == 0 else ("curl", "gmr"):
            subprocess.run(["rm", "-rf", str(work / "split-down"), str(work / "curl.bin")],
                           check=True)  # fmt: skip
            os.sync()
            if tool == "gmr":
                ours.append(gmr(base, "download", "huge", "1.0.0", "--dest",
                                str(work / "split-down"))[0])  # fmt: skip
            else:
                theirs.append(curl("-o", str(work / "curl.bin"), whole))
    subprocess.run(["rm", "-rf", str(work / "split-down"), str(work / "curl.bin"), str(big)],
                   check=True)  # fmt: skip
    down, curl_down = median(ours), median(theirs)
    print(f"3. {mib} MiB split at {split}: publish {up:.2f} s ({mb / up:.0f} MB/s) vs curl -T "
          f"of one stream {one:.2f} s ({mb / one:.0f} MB/s); download (reassembled, verified; "
          f"{runs} interleaved runs, medians) {down:.2f} s ({mb / down:.0f} MB/s) vs curl -o "
          f"{curl_down:.2f} s ({mb / curl_down:.0f} MB/s): ratio {curl_down / down:.2f}")  # fmt: skip


def cached_download(base: str, control: DoubleClient, work: Path) -> None:
    cache = work / "cache"
    times, served = [], []
    for run in range(2):
        before = sum(control.served_bytes().values())
        dest = work / f"cached-{run}"
        times.append(gmr(base, "download", "tree", "1.0.0", "--dest", str(dest),
                         "--cache-dir", str(cache))[0])  # fmt: skip
        served.append(sum(control.served_bytes().values()) - before)
    print(f"4. tree download with --cache-dir: first {times[0]:.2f} s, {served[0] / MIB:.1f} MiB "
          f"served; second {times[1]:.2f} s, {served[1]} bytes served")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--big-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--split-mib", type=int, default=3072)
    parser.add_argument("--split-size", default="1GiB")
    parser.add_argument("--only", default="1234", help="which measurements, e.g. 12")
    parser.add_argument(
        "--land-in",
        type=Path,
        help="where 1's downloads (gmr's and curl's) are written, e.g. /dev/shm: on a VM whose "
        "disk write-back swings identical writes 10x, this compares the tools, not the disk",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another checkout's src/ (e.g. a git worktree of an earlier commit): its gmr runs in "
        "1's interleaved loop beside this one's and curl, to measure a change against what it "
        "replaced on the same machine at the same moment",
    )
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gmr-bench-")))
        # A directory of this run's own inside --land-in, removed however the run ends.
        landing = work
        if args.land_in:
            landing = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=args.land_in)))
        # The per-file limit is raised above the split file so that curl's one reference stream
        # may carry it whole (gmr still splits it at --split-size).
        limit = ["--max-file-size", str(max(args.split_mib + 1, 10 * 1024) * MIB)]
        with running_double(work / "data", ["--token", f"{TOKEN}:api:developer", *limit]) as base:
            control = DoubleClient(base)
            if "1" in args.only:
                big_transfers(base, control, work, args.big_mib, args.runs, landing, args.baseline)
            if "2" in args.only or "4" in args.only:
                many_files(base, control, work, args.runs)
            if "4" in args.only:
                cached_download(base, control, work)
            if args.split_mib and "3" in args.only:
                split_file(base, control, work, args.split_mib, args.split_size, args.runs)


if __name__ == "__main__":
    main()
