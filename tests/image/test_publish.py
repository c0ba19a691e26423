"""`gmr publish` from inside the image against the GitLab double, as a GitLab job and as the
Docker action run by a GitHub-style runner (containers on the host network reach 127.0.0.1)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from docker.models.containers import Container

from gitlab_model_registry import __version__
from tests.gitlab_double.pytest_plugin import Double
from tests.image import images
from tests.image.conftest import BuiltImage

WEIGHTS = bytes(range(256)) * 1200
ACTION_YML = images.REPO_ROOT / "action" / "action.yml"
OUTPUT_FILE = "/github/file_commands/set_output_0b1c"
RUNNER_UID = 1001  # the GitHub-hosted runner's user, owner of the workspace and output files
OTHER_RUNNER_UID = 4242  # a self-hosted runner's user: the action cannot rely on uid 1001


def _workspace(root: Path) -> Path:
    """A project directory with model files, params and metrics."""
    (root / "model").mkdir(parents=True)
    (root / "model" / "weights.bin").write_bytes(WEIGHTS)
    (root / "model" / "config.json").write_text('{"layers": 3}\n')
    (root / "metrics.json").write_text(json.dumps({"accuracy": 0.93}))
    (root / "params.yaml").write_text("learning_rate: 0.01\nepochs: 5\n")
    return root


def _chmod_tree(root: Path, dirs: int, files: int) -> None:
    for path in [root, *root.rglob("*")]:
        path.chmod(dirs if path.is_dir() else files)


def _chown_tree(root: Path, uid: int) -> None:
    for path in [root, *root.rglob("*")]:
        os.chown(path, uid, uid)


def _action() -> dict[str, Any]:
    action: dict[str, Any] = yaml.safe_load(ACTION_YML.read_text())
    return action


def _files(version: dict) -> dict[str, tuple[int, str]]:
    return {f["name"]: (f["size"], f["sha256"]) for f in version["files"]}


def _expected_files(workspace: Path) -> dict[str, tuple[int, str]]:
    """`model/` uploads its files under their paths inside it, next to `metrics.json`."""
    paths = {"weights.bin": "model/weights.bin", "config.json": "model/config.json"}
    paths["metrics.json"] = "metrics.json"
    return {name: _size_and_sha256(workspace / path) for name, path in paths.items()}


def _size_and_sha256(path: Path) -> tuple[int, str]:
    data = path.read_bytes()
    return len(data), hashlib.sha256(data).hexdigest()


def _gitlab_job_env(double: Double) -> dict[str, str]:
    """What the publish component's job sees: predefined CI_* variables and its `variables:`."""
    return {
        "GITLAB_CI": "true",
        "CI_API_V4_URL": double.api_url,
        "CI_PROJECT_ID": str(double.project_id),
        "CI_PROJECT_PATH": double.project_path,
        "CI_JOB_ID": double.job_id,
        "CI_JOB_TOKEN": double.job_token,
        "CI_JOB_NAME": "publish-model",
        "CI_PIPELINE_ID": "500",
        "CI_PIPELINE_IID": "42",
        "CI_COMMIT_SHA": "0123456789abcdef0123456789abcdef01234567",
        "CI_COMMIT_TAG": "v1.2.0",
        "CI_COMMIT_REF_NAME": "v1.2.0",
        "MODEL_REGISTRY_TOKEN": double.developer_token,
        "GMR_MODEL": "iris",
        "GMR_FILES": '["model/", "metrics.json"]\n',
        "GMR_VERSION": "auto",
        "GMR_PARAMS_FILE": "params.yaml",
        "GMR_METRICS_FILE": "metrics.json",
        "GMR_TOKEN_VARIABLE": "MODEL_REGISTRY_TOKEN",
        "GMR_DOTENV": "model.env",
    }


def test_publish_as_a_gitlab_job(built_image: BuiltImage, double: Double, tmp_path: Path) -> None:
    workspace = _workspace(tmp_path / "project")
    _chmod_tree(workspace, 0o777, 0o666)  # the runner's umask 0000: any image user may write
    ran = images.run(
        built_image.client,
        built_image.tag,
        ["sh", "-c", "gmr publish"],
        environment=_gitlab_job_env(double),
        network_mode="host",
        volumes={str(workspace): {"bind": "/builds/group/project", "mode": "rw"}},
        working_dir="/builds/group/project",
    )
    assert ran.exit_code == 0, ran.stderr
    version = double.control.version("iris", "1.2.0")
    assert version is not None, double.control.state()
    assert _files(version) == _expected_files(workspace)
    assert version["ci_job_id"] == double.job_id
    assert version["run"]["metrics"] == {"accuracy": 0.93}
    assert version["run"]["params"] == {"learning_rate": "0.01", "epochs": "5"}
    dotenv = dict(line.split("=", 1) for line in (workspace / "model.env").read_text().splitlines())
    assert dotenv["MODEL_VERSION"] == "1.2.0"
    assert double.developer_token not in ran.stdout + ran.stderr
    assert double.job_token not in ran.stdout + ran.stderr


def _action_inputs(given: dict[str, str]) -> dict[str, str]:
    """INPUT_* as a GitHub runner sets them: every input's default, then the workflow's `with:`,
    named by upper-casing the input name (hyphens stay, as GitHub does)."""
    spec = _action()["inputs"]
    values = {name: str(item.get("default", "")) for name, item in spec.items()}
    values.update(given)
    return {f"INPUT_{name.upper()}": value for name, value in values.items()}


def _run_action(
    action_image: BuiltImage, tmp_path: Path, inputs: dict[str, str], runner_uid: int = RUNNER_UID
) -> tuple[images.Ran, Path]:
    workspace = _workspace(tmp_path / "workspace")
    commands = tmp_path / "file_commands"
    commands.mkdir()
    output = commands / Path(OUTPUT_FILE).name
    output.touch()
    for tree in (workspace, commands):
        _chmod_tree(tree, 0o755, 0o644)  # only the runner's user (and root) may write
        _chown_tree(tree, runner_uid)
    ran = images.run(
        action_image.client,
        action_image.tag,
        None,
        entrypoint=_action()["runs"]["entrypoint"],
        environment={**inputs, "GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": OUTPUT_FILE},
        network_mode="host",
        volumes={
            str(workspace): {"bind": "/github/workspace", "mode": "rw"},
            str(commands): {"bind": "/github/file_commands", "mode": "rw"},
        },
        working_dir="/github/workspace",
    )
    return ran, output


def test_action_publishes_and_sets_outputs(
    action_image: BuiltImage, double: Double, tmp_path: Path
) -> None:
    with_ = {
        "model": "iris-gh",
        "files": "model/\nmetrics.json\n",
        "version": "2.0.0",
        "gitlab-url": double.url,
        "project": double.project_path,
        "token": double.developer_token,
        "params-file": "params.yaml",
        "metrics-file": "metrics.json",
    }
    ran, output = _run_action(action_image, tmp_path, _action_inputs(with_))
    assert ran.exit_code == 0, ran.stdout + ran.stderr
    version = double.control.version("iris-gh", "2.0.0")
    assert version is not None, double.control.state()
    assert _files(version) == _expected_files(tmp_path / "workspace")
    assert version["run"]["params"] == {"learning_rate": "0.01", "epochs": "5"}
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    assert outputs.keys() == {"model-version", "model-version-url"}
    assert outputs["model-version"] == "2.0.0"
    models_url = re.escape(f"{double.url}/{double.project_path}/-/ml/models/")
    assert re.fullmatch(rf"{models_url}\d+/versions/{version['id']}", outputs["model-version-url"])
    assert double.developer_token not in ran.stdout + ran.stderr


@pytest.mark.parametrize("missing", ["token", "files"])
def test_action_warns_early_about_a_missing_input(
    probe: Container, double: Double, missing: str
) -> None:
    given = {"model": "iris-gh", "files": "model/", "gitlab-url": double.url, "project": "1"}
    given["token"] = double.developer_token
    given[missing] = ""
    output = f"/tmp/output-{missing}"
    images.exec_in(probe, ["sh", "-c", f": > {output}"])
    ran = images.exec_in(
        probe,
        [_action()["runs"]["entrypoint"]],
        environment={**_action_inputs(given), "GITHUB_OUTPUT": output},
        workdir="/tmp",
    )
    assert ran.exit_code == 2, ran.stdout + ran.stderr
    assert f"::warning title=gmr::the {missing} input is empty" in ran.stdout
    assert images.exec_in(probe, ["cat", output]).stdout == ""
    assert double.control.requests() == []


def test_action_runs_this_release_image() -> None:
    registry_image = "registry.gitlab.com/gitlab-model-registry/gitlab-model-registry"
    assert _action()["runs"]["image"] == f"docker://{registry_image}:{__version__}-action"


def test_action_runs_as_root_in_a_workspace_of_another_user(
    action_image: BuiltImage, double: Double, tmp_path: Path
) -> None:
    """GitHub requires Docker actions to run as root; a self-hosted runner's workspace belongs
    to whatever user the runner is, and a path may hold spaces."""
    with_ = {
        "model": "iris-self-hosted",
        "files": "model/\n\nrelease notes.txt\n",
        "version": "1.0.0",
        "gitlab-url": double.url,
        "project": double.project_path,
        "token": double.developer_token,
    }
    (tmp_path / "workspace").mkdir()
    (tmp_path / "workspace" / "release notes.txt").write_text("first release\n")
    ran, output = _run_action(action_image, tmp_path, _action_inputs(with_), OTHER_RUNNER_UID)
    assert ran.exit_code == 0, ran.stdout + ran.stderr
    version = double.control.version("iris-self-hosted", "1.0.0")
    assert version is not None, double.control.state()
    assert set(_files(version)) == {"weights.bin", "config.json", "release notes.txt"}
    assert "model-version=1.0.0" in output.read_text().splitlines()


def test_stopping_the_action_container_stops_gmr_at_once(
    action_image: BuiltImage, double: Double
) -> None:
    """A cancelled workflow stops the container with SIGTERM to PID 1 (the entrypoint shell)."""
    double.control.set_faults(latency_ms=10_000)
    inputs = {"model": "m", "files": "/etc/hostname", "gitlab-url": double.url, "project": "1"}
    inputs["token"] = double.developer_token
    container = action_image.client.containers.run(
        action_image.tag,
        None,
        entrypoint=_action()["runs"]["entrypoint"],
        environment=_action_inputs(inputs),
        network_mode="host",
        detach=True,
    )
    try:
        _wait_for_log(container, "Resolving", timeout_s=30)
        started = time.monotonic()
        container.stop(timeout=20)
        stopped_after = time.monotonic() - started
        assert container.wait(timeout=20)["StatusCode"] == 128 + signal.SIGTERM
    finally:
        container.remove(force=True)
    assert stopped_after < 5, "SIGTERM was not forwarded to gmr: the engine had to kill it"


def _wait_for_log(container: Container, text: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while text not in container.logs().decode(errors="replace"):
        assert time.monotonic() < deadline, f"{text!r} not logged in {timeout_s}s"
        time.sleep(0.2)
