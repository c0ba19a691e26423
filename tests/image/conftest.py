"""Session fixtures of the image tier: an engine, a base image, and the project's image built once.

By default a private podman (tests/image/podman.py) serves the Docker API and the base is a
debootstrap'd Debian with Python 3.11, built from wheels made on the host, because our machines
have neither a Docker engine nor a reachable registry. ``GMR_IMAGE_ENGINE=docker`` runs the same
tests against the Docker engine of the environment (``DOCKER_HOST``) with the Dockerfile's
default base, building wheels inside the image.

``GMR_IMAGE_TAG`` tests an image that already exists in that engine instead of building one
(e.g. the image a release pipeline built; ``GMR_IMAGE_BASE`` then names its base for the size
report).

``GMR_IMAGE_STORE`` names a directory to keep the (disk-hungry) container store in; ``.ci/run``
sets it so the store is removed even if pytest is killed.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import docker
import pytest
from docker.models.containers import Container

from tests.image import images, podman


@dataclass(frozen=True)
class Engine:
    client: docker.DockerClient
    base_image: str | None  # None: the Dockerfile's default
    offline_build: bool


@dataclass(frozen=True)
class BuiltImage:
    tag: str
    build_seconds: float
    base_image: str | None
    client: docker.DockerClient
    context: Path | None = None  # what it was built from (None: a prebuilt image)


def _podman_engine() -> Iterator[Engine]:
    missing = podman.missing_tools()
    if missing:
        pytest.skip(f"the image tier needs {', '.join(missing)}, not installed")
    with podman.running_podman(os.environ.get("GMR_IMAGE_STORE") or None) as service:
        base = podman.import_debootstrap_base(service)
        yield Engine(client=service.client, base_image=base, offline_build=True)


def _docker_engine() -> Iterator[Engine]:
    client = docker.from_env()
    try:
        client.ping()
        yield Engine(
            client=client, base_image=os.environ.get("GMR_IMAGE_BASE"), offline_build=False
        )
    finally:
        client.close()


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    if os.environ.get("GMR_IMAGE_ENGINE") == "docker":
        yield from _docker_engine()
    else:
        yield from _podman_engine()


@pytest.fixture(scope="session")
def built_image(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltImage]:
    """The project's image, built once per session from a copy of the checkout."""
    prebuilt = os.environ.get("GMR_IMAGE_TAG")
    if prebuilt:
        yield BuiltImage(prebuilt, 0.0, engine.base_image, engine.client)
        return
    context = images.prepare_context(tmp_path_factory.mktemp("image-context"), engine.offline_build)
    buildargs = {"BASE_IMAGE": engine.base_image} if engine.base_image else {}
    tag = f"localhost/gitlab-model-registry:test-{uuid.uuid4().hex[:8]}"
    built = images.build(engine.client, context, tag, buildargs)
    try:
        yield BuiltImage(tag, built.seconds, engine.base_image, engine.client, context)
    finally:
        engine.client.images.remove(tag, force=True)


@pytest.fixture(scope="session")
def action_image(built_image: BuiltImage) -> Iterator[BuiltImage]:
    """The Docker action's variant (``--target action``), built from the same context: every
    layer but its last stage comes from the build cache."""
    prebuilt = os.environ.get("GMR_ACTION_IMAGE_TAG")
    if prebuilt or built_image.context is None:
        yield replace(built_image, tag=prebuilt or built_image.tag)
        return
    buildargs = {"BASE_IMAGE": built_image.base_image} if built_image.base_image else {}
    tag = f"{built_image.tag}-action"
    built = images.build(built_image.client, built_image.context, tag, buildargs, target="action")
    try:
        yield replace(built_image, tag=tag, build_seconds=built.seconds)
    finally:
        built_image.client.images.remove(tag, force=True)


@pytest.fixture(scope="session")
def probe(built_image: BuiltImage) -> Iterator[Container]:
    """One long-lived container of the image for read-only checks: each new container costs
    a full copy of the image on podman's vfs store, an exec costs nothing."""
    container = built_image.client.containers.run(
        built_image.tag, ["sleep", "infinity"], detach=True, network_mode="host"
    )
    try:
        yield container
    finally:
        container.remove(force=True)
