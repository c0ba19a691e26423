"""Build the project's image through the Docker API and run containers from it, engine-agnostic."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
from docker.models.containers import Container
from docker.models.images import Image

REPO_ROOT = Path(__file__).resolve().parents[2]
# What the build context needs from the checkout (the .dockerignore narrows it again).
CONTEXT_FILES = (
    "Dockerfile",
    ".dockerignore",
    "pyproject.toml",
    "README.md",
    "LICENSE",
    "src",
    "action",
)
RUN_TIMEOUT_S = 180


@dataclass(frozen=True)
class Built:
    image: Image
    tag: str
    seconds: float


@dataclass(frozen=True)
class Ran:
    exit_code: int
    stdout: str
    stderr: str


def prepare_context(dest: Path, wheelhouse: bool) -> Path:
    """Copy the build inputs to ``dest``; with ``wheelhouse``, add every wheel built on the host.

    Containers cannot reach a package index on our machines, so the host builds our wheel and its
    dependencies' (same Python as the debootstrap base) and the image build runs offline.
    """
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in CONTEXT_FILES:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=ignore)
        elif source.exists():
            shutil.copy2(source, dest / name)
    if wheelhouse:
        pip = [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--wheel-dir",
            str(dest / "wheelhouse"),
        ]
        done = subprocess.run(
            [*pip, f"{dest}[signing]"], capture_output=True, timeout=RUN_TIMEOUT_S, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"pip wheel failed:\n{done.stderr.decode(errors='replace')[-3000:]}")
    return dest


def build(
    client: docker.DockerClient,
    context: Path,
    tag: str,
    buildargs: dict[str, str],
    target: str | None = None,
) -> Built:
    started = time.monotonic()
    options: dict[str, Any] = {"target": target} if target else {}
    try:
        image, _ = client.images.build(
            path=str(context),
            tag=tag,
            buildargs=buildargs,
            rm=True,
            forcerm=True,
            pull=False,
            **options,
        )
    except docker.errors.BuildError as error:
        log = "".join(str(chunk.get("stream", chunk)) for chunk in error.build_log)
        raise RuntimeError(f"image build failed: {error.msg}\n{log[-4000:]}") from error
    return Built(image=image, tag=tag, seconds=time.monotonic() - started)


def run(client: docker.DockerClient, image: str, command: list[str], **options: Any) -> Ran:
    """Run a container to completion (bounded), capture both streams, always remove it."""
    container = client.containers.run(image, command, detach=True, **options)
    try:
        exit_code = container.wait(timeout=RUN_TIMEOUT_S)["StatusCode"]
        stdout = container.logs(stdout=True, stderr=False).decode(errors="replace")
        stderr = container.logs(stdout=False, stderr=True).decode(errors="replace")
    finally:
        container.remove(force=True)
    return Ran(exit_code=exit_code, stdout=stdout, stderr=stderr)


def exec_in(container: Container, command: list[str], **options: Any) -> Ran:
    """Run a command in a running container; both streams captured separately."""
    exit_code, (stdout, stderr) = container.exec_run(command, demux=True, **options)
    return Ran(
        exit_code,
        (stdout or b"").decode(errors="replace"),
        (stderr or b"").decode(errors="replace"),
    )
