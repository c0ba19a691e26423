"""What signing costs on a 1 GiB version, on the GitLab double, side by side in one run:

1. `gmr publish` of one 1 GiB file, without and with `--signing-key` (the signature is built
   from the digests computed while uploading, so the difference is the signing step only);
2. `gmr download`, without and with `--verify --public-key` (the check runs before the
   download, against the registry's sha256; the download checks every byte as always).

Usage: .venv/bin/python bench/signing.py [--big-mib 1024]   (run from the repository root)
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.publish import TOKEN, random_file
from tests.gitlab_double.process import running_double
from tests.integration.publish.test_signing import make_keys


def gmr(base: str, *args: str) -> float:
    cmd = [sys.executable, "-m", "gitlab_model_registry", *args, "--no-progress"]
    cmd += ["--gitlab-url", base, "--project", "1", "--token", TOKEN, "--upload-token", "api"]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(Path.home())}
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode:
        raise SystemExit(f"gmr failed: {proc.stderr[-2000:]}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big-mib", type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        private, public = make_keys(work)
        (work / "model").mkdir()
        random_file(work / "model" / "weights.bin", args.big_mib)
        with running_double(work / "data", ["--token", f"{TOKEN}:api:developer"]) as base:
            plain = gmr(base, "publish", "big", str(work / "model"), "--version", "1.0.0")
            signed = gmr(
                base, "publish", "big", str(work / "model"), "--version", "1.0.1",
                "--signing-key", str(private),
            )  # fmt: skip
            print(f"1. publish {args.big_mib} MiB: {plain:.2f} s, signed {signed:.2f} s")
            down = gmr(base, "download", "big", "1.0.1", "--dest", str(work / "a"))
            shutil.rmtree(work / "a")
            verified = gmr(
                base, "download", "big", "1.0.1", "--dest", str(work / "b"),
                "--public-key", str(public),
            )  # fmt: skip
            print(f"2. download {args.big_mib} MiB: {down:.2f} s, verified {verified:.2f} s")
    subprocess.run(["sync"], check=False)


if __name__ == "__main__":
    main()
