"""A private podman for the image tier: no Docker engine and no registry are needed.

Everything lives under one temporary root (vfs storage, configuration, the API socket) that is
deleted at the end: the ``docker`` SDK talks to ``podman system service`` as it would to a
Docker engine, so the tests themselves are engine-agnostic. See ``tooling.md`` for the traps
this works around (crun's rlimits, the unreachable registry, intercepted HTTPS in builds).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import docker

BASE_IMAGE = "localhost/localbase:bookworm"
SERVICE_READY_TIMEOUT_S = 30.0
LEFTOVER_GRACE_S = 10.0
COMMAND_TIMEOUT_S = 300.0
# minbase plus what the Dockerfile needs from a Python base image (venv creation, TLS roots).
DEBOOTSTRAP = [
    "debootstrap",
    "--variant=minbase",
    "--include=python3,python3-venv,python3-pip,ca-certificates",
    "bookworm",
]
# Emptied as in Debian's slim images (directories kept): vfs copies the whole tree for every layer
# and container, and these are half of it.
ROOTFS_PRUNE = (
    "var/cache/apt",
    "var/lib/apt/lists",
    "usr/share/doc",
    "usr/share/man",
    "usr/share/locale",
    "usr/share/info",
)
# As tooling.md says, plus a short exit_command_delay: each exec session otherwise leaves two
# conmon processes sleeping for 5 minutes after the exec ended (and after the tests).
CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
exit_command_delay = 5
"""


def missing_tools() -> list[str]:
    return [tool for tool in ("podman", "runc", "debootstrap") if shutil.which(tool) is None]


@dataclass(frozen=True)
class Podman:
    """A running podman API service over a private store."""

    root: Path
    env: dict[str, str]
    client: docker.DockerClient

    def run(self, *args: str) -> str:
        """Run the podman CLI on this store; raise with its stderr on failure."""
        return _check(["podman", *args], self.env)


def _check(argv: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        argv, env=env, capture_output=True, timeout=COMMAND_TIMEOUT_S, check=False
    )
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace")[-3000:]
        raise RuntimeError(f"{argv[0]} {argv[1]} failed ({done.returncode}):\n{tail}")
    return done.stdout.decode(errors="replace")


def _write_configuration(root: Path) -> dict[str, str]:
    storage = root / "storage.conf"
    storage.write_text(
        f'[storage]\ndriver = "vfs"\ngraphroot = "{root / "graph"}"\nrunroot = "{root / "run"}"\n'
    )
    containers = root / "containers.conf"
    containers.write_text(CONTAINERS_CONF)
    return {
        **os.environ,
        "CONTAINERS_STORAGE_CONF": str(storage),
        "CONTAINERS_CONF": str(containers),
        # Builds run their steps chrooted rather than in runc containers: faster, fewer mounts.
        "BUILDAH_ISOLATION": "chroot",
    }


def _connect(socket: Path, process: subprocess.Popen[bytes]) -> docker.DockerClient:
    """A client once the service answers (the SDK asks for the API version on creation)."""
    deadline = time.monotonic() + SERVICE_READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"podman system service exited with {process.returncode}")
        try:
            return docker.DockerClient(base_url=f"unix://{socket}", timeout=COMMAND_TIMEOUT_S)
        except docker.errors.DockerException:
            time.sleep(0.2)
    raise RuntimeError(f"podman API not ready within {SERVICE_READY_TIMEOUT_S}s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


@contextmanager
def running_podman(parent: str | None = None) -> Iterator[Podman]:
    """Yield a podman API service on a fresh store under ``parent``; remove everything after."""
    root = Path(tempfile.mkdtemp(prefix="gmr-podman-", dir=parent))
    env = _write_configuration(root)
    socket = root / "podman.sock"
    log = (root / "service.log").open("wb")
    process = subprocess.Popen(
        ["podman", "system", "service", "--time=0", f"unix://{socket}"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    client = None
    try:
        client = _connect(socket, process)
        yield Podman(root=root, env=env, client=client)
    finally:
        if client is not None:
            client.close()
        _stop(process)
        log.close()
        remove_all = ["podman", "rm", "--all", "--force"]
        subprocess.run(remove_all, env=env, capture_output=True, check=False)
        _end_leftovers(root)
        shutil.rmtree(root, ignore_errors=True)


def _processes_using(root: Path) -> list[int]:
    """PIDs whose command line names our private root (conmon monitors of this store)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if str(root).encode() in cmdline.read_bytes():
                pids.append(int(cmdline.parent.name))
        except OSError:  # the process ended meanwhile
            continue
    return pids


def _end_leftovers(root: Path) -> None:
    """Give this store's monitors their exit_command_delay to finish, then end the rest."""
    deadline = time.monotonic() + LEFTOVER_GRACE_S
    while _processes_using(root) and time.monotonic() < deadline:
        time.sleep(0.5)
    for pid in _processes_using(root):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)


def import_debootstrap_base(podman: Podman, tag: str = BASE_IMAGE) -> str:
    """Make a Debian bookworm image with Python 3.11 from the Debian mirror; return its tag."""
    rootfs = podman.root / "rootfs"
    _check([*DEBOOTSTRAP, str(rootfs)], podman.env)
    for path in ROOTFS_PRUNE:
        for item in (rootfs / path).rglob("*"):
            if item.is_file():
                item.unlink()
    with subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE) as tar:
        imported = subprocess.run(
            ["podman", "import", "-", tag],
            env=podman.env,
            stdin=tar.stdout,
            capture_output=True,
            timeout=COMMAND_TIMEOUT_S,
            check=False,
        )
    if imported.returncode != 0 or tar.returncode != 0:
        raise RuntimeError(
            f"podman import failed: {imported.stderr.decode(errors='replace')[-2000:]}"
        )
    shutil.rmtree(rootfs, ignore_errors=True)
    return tag
