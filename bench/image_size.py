"""Measure the image: build time, total size, what our layers add, and the installed packages.

    .venv/bin/python -m bench.image_size            # private podman + debootstrap base, as the tests
    .venv/bin/python -m bench.image_size --json
    .venv/bin/python -m bench.image_size --extras ''    # the GitLab-only variant (no signing)

Uses the image tier's helpers (tests/image), so it needs the same tools (podman, runc,
debootstrap) and removes its container store at the end. On python:3.12-slim the layers we add
hold the same venv (same wheels, cp312 builds of the two compiled ones), so the image there is
about the base's size plus the "ours" figure printed here.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from tests.image import images, podman

MB = 1_000_000
SITE_PACKAGES_SIZES = "cd /opt/gmr/lib/python3*/site-packages && du -sk -- * | sort -rn | head -12"


def measure(extras: str | None = None) -> dict[str, object]:
    with podman.running_podman() as service, tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        base = podman.import_debootstrap_base(service)
        base_seconds = time.monotonic() - started
        context = images.prepare_context(Path(tmp), wheelhouse=True)
        buildargs = {"BASE_IMAGE": base} | ({} if extras is None else {"EXTRAS": extras})
        built = images.build(service.client, context, "localhost/gmr:bench", buildargs)
        size = built.image.attrs["Size"]
        base_size = service.client.images.get(base).attrs["Size"]
        venv = images.run(service.client, built.tag, ["du", "-sk", "/opt/gmr"])
        packages = images.run(service.client, built.tag, ["sh", "-c", SITE_PACKAGES_SIZES])
        return {
            "base_seconds": round(base_seconds, 1),
            "build_seconds": round(built.seconds, 1),
            "image_mb": round(size / MB, 1),
            "base_mb": round(base_size / MB, 1),
            "ours_mb": round((size - base_size) / MB, 1),
            "venv_mb": round(int(venv.stdout.split()[0]) * 1024 / MB, 1),
            "largest_packages_kb": dict(_du_lines(packages.stdout)),
        }


def _du_lines(text: str) -> list[tuple[str, int]]:
    return [(name, int(kb)) for kb, name in (line.split(maxsplit=1) for line in text.splitlines())]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the measurements as JSON")
    parser.add_argument("--extras", help="the Dockerfile's EXTRAS (default: its own, signing)")
    args = parser.parse_args()
    result = measure(args.extras)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
