"""A big download on the path GitLab.com's downloads take: the API answers 302 to object storage
over HTTPS. `gmr download --ca-file` (sha256 verified) vs `curl -L --cacert` of the same API URL,
interleaved (A B, then B A), medians, both written to the same place.

Over TLS both tools decrypt every byte, so gmr's sha256, which curl does not compute, is a smaller
share of the work than on `transfers.py`'s plain-HTTP line 1b.

Usage (repository root): .venv/bin/python bench/tls_download.py [--mib 1024] [--runs 5]
       [--land-in /dev/shm]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.transfers import MIB, TOKEN, curl, file_url, gmr, median, random_file
from tests.gitlab_double.control import DoubleClient
from tests.gitlab_double.process import running_double


def certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for ``localhost`` (the object store's name) and its key."""
    cert, key = folder / "store.pem", folder / "store.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert),
         "-addext", "subjectAltName=DNS:localhost", "-addext", "basicConstraints=critical,CA:TRUE"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--land-in", type=Path, help="where both downloads are written")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gmr-bench-tls-") as tmp:
        work = Path(tmp)
        landing = args.land_in or work
        cert, key = certificate(work)
        tls = ["--direct-download", "--object-store-cert", str(cert), "--object-store-key",
               str(key)]  # fmt: skip
        with running_double(work / "data", ["--token", f"{TOKEN}:api:developer", *tls]) as base:
            big = random_file(work / "big" / "big.bin", args.mib)
            gmr(base, "publish", "big", str(big), "--version", "1.0.0")
            big.unlink()
            url = file_url(base, DoubleClient(base), "big", "1.0.0", "big.bin")
            ours, theirs = [], []
            for run in range(args.runs):
                for tool in ("gmr", "curl") if run % 2 == 0 else ("curl", "gmr"):
                    subprocess.run(["rm", "-rf", str(landing / "gmr-tls"),
                                    str(landing / "curl-tls.bin")], check=True)  # fmt: skip
                    os.sync()
                    if tool == "gmr":
                        ours.append(gmr(base, "download", "big", "1.0.0", "--dest",
                                        str(landing / "gmr-tls"), "--ca-file", str(cert))[0])  # fmt: skip
                    else:
                        theirs.append(curl("-L", "--cacert", str(cert), "-o",
                                           str(landing / "curl-tls.bin"), url))  # fmt: skip
            subprocess.run(["rm", "-rf", str(landing / "gmr-tls"), str(landing / "curl-tls.bin")],
                           check=True)  # fmt: skip
    mb = args.mib * MIB / 1e6
    g, c = median(ours), median(theirs)
    print(f"5. {args.mib} MiB download through a 302 to HTTPS object storage, {args.runs} "
          f"interleaved runs, medians: gmr download {g:.2f} s ({mb / g:.0f} MB/s, whole command, "
          f"sha256 verified) vs curl -L {c:.2f} s ({mb / c:.0f} MB/s): ratio {c / g:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
