"""Bad input, one row each: the exit code, a message that says what to do, and nothing written.

Local mistakes must be caught before the first request; refusals by GitLab must leave its
registry as it was. (Every run is also checked for printed tokens by the ``Gmr`` runner.)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.gitlab_double import seed
from tests.gitlab_double.pytest_plugin import Double
from tests.integration.publish.conftest import Gmr


@dataclass(frozen=True)
class Case:
    id: str
    args: list[str]
    code: int
    message: str
    env: dict[str, str] = field(default_factory=dict)
    setup: Callable[[Path], None] = lambda root: None
    local: bool = True  # caught before any request to GitLab
    faults: dict[str, object] = field(default_factory=dict)


def write(name: str, text: str) -> Callable[[Path], None]:
    return lambda root: (root / name).write_text(text)


def empty_dir(root: Path) -> None:
    (root / "empty").mkdir()


def escaping_link(root: Path) -> None:
    (root / "tree").mkdir()
    (root / "secret.txt").write_text("outside")
    (root / "tree" / "link.txt").symlink_to(root / "secret.txt")


def same_remote_name(root: Path) -> None:
    for part in ("a", "b"):
        (root / part).mkdir()
        (root / part / "w.bin").write_text(part)


M = ["publish", "iris", "model"]
CASES = [
    Case("semver-v-prefix", [*M, "--version", "v1.2.3"], 2, "'v1.2.3' is not a semantic version"),
    Case("semver-two-parts", [*M, "--version", "1.2"], 2, "'1.2' is not a semantic version"),
    Case("semver-leading-zero", [*M, "--version", "01.2.3"], 2, "is not a semantic version"),
    Case("version-and-bump", [*M, "--version", "1.0.0", "--bump", "minor"], 2, "exclusive"),
    Case("unknown-bump", [*M, "--bump", "huge"], 2, "'huge' is not one of"),
    Case(
        "bad-prerelease-label",
        [*M, "--bump", "prerelease", "--prerelease-label", "r c"],
        2,
        "label",
    ),
    Case("missing-path", [*M, "missing.bin"], 2, "'missing.bin' does not exist"),
    Case("empty-directory", ["publish", "iris", "empty"], 2, "contains no files", setup=empty_dir),
    Case("no-paths", ["publish", "iris"], 2, "nothing to upload"),
    Case("no-model", ["publish"], 2, "no model name"),
    Case("symlink-escapes", ["publish", "iris", "tree"], 2, "outside", setup=escaping_link),
    Case(
        "name-gitlab-rejects",
        [*M, "we;ird.bin"],
        2,
        "which GitLab rejects",
        setup=write("we;ird.bin", "x"),
    ),
    Case(
        "percent-in-name", [*M, "100%.bin"], 2, "which GitLab rejects", setup=write("100%.bin", "x")
    ),
    Case(
        "one-remote-name",
        ["publish", "iris", "a", "b"],
        2,
        "would all be stored as",
        setup=same_remote_name,
    ),
    Case("oversize-file", [*M, "--max-file-size", "1000"], 2, "over the 1000 B limit"),
    Case(
        "malformed-json",
        [*M, "--params-file", "p.json"],
        2,
        "p.json",
        setup=write("p.json", "{nope"),
    ),
    Case(
        "yaml-not-mapping",
        [*M, "--params-file", "p.yaml"],
        2,
        "p.yaml",
        setup=write("p.yaml", "- a\n- b\n"),
    ),
    Case(
        "unknown-extension",
        [*M, "--metrics-file", "m.txt"],
        2,
        "m.txt",
        setup=write("m.txt", "a=1"),
    ),
    Case("nan-metric", [*M, "--metric", "acc=nan"], 2, "acc"),
    Case("text-metric", [*M, "--metric", "acc=high"], 2, "acc"),
    Case(
        "inf-in-file",
        [*M, "--metrics-file", "m.json"],
        2,
        "loss",
        setup=write("m.json", json.dumps({"loss": "inf"})),
    ),
    Case("param-without-value", [*M, "--param", "noequals"], 2, "noequals"),
    Case("concurrency-zero", [*M, "--concurrency", "0"], 2, "0"),
    Case(
        "non-semver-tag",
        [*M, "--version", "auto"],
        2,
        "release-7",
        env={"CI_COMMIT_TAG": "release-7"},
    ),
    Case("no-token", M, 2, "no GitLab API token", env={"GMR_TOKEN": ""}),
    Case("read-api-token", M, 4, "api scope", env={"GMR_TOKEN": seed.READ_API_TOKEN}, local=False),
    Case("guest-token", M, 4, "Developer", env={"GMR_TOKEN": seed.GUEST_TOKEN}, local=False),
    Case(
        "job-token-for-mlflow",
        M,
        4,
        "CI_JOB_TOKEN is not accepted",
        env={"GMR_TOKEN": seed.JOB_TOKEN},
        local=False,
    ),
    Case(
        "unknown-token",
        M,
        4,
        "refused the API token",
        env={"GMR_TOKEN": "glpat-nobody"},
        local=False,
    ),
    Case(
        "wrong-project", M, 4, "project '404' not found", env={"CI_PROJECT_ID": "404"}, local=False
    ),
    Case(
        "server-500", M, 3, "500", faults={"fault_rate": 1.0, "fault_statuses": [500]}, local=False
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(gmr: Gmr, double: Double, case: Case) -> None:
    (gmr.cwd / "model").mkdir()
    (gmr.cwd / "model" / "weights.bin").write_bytes(b"w" * 5000)
    case.setup(gmr.cwd)
    if case.faults:
        double.control.set_faults(**case.faults)

    run = gmr(*case.args, env=case.env)

    errors = [line for line in run.stderr.splitlines() if line.startswith("error: ")]
    assert run.code == case.code, run.stderr
    assert len(errors) == 1 and case.message in errors[0], run.stderr
    assert run.stdout == ""
    if case.local:
        assert double.control.requests() == []
    double.control.set_faults(fault_rate=0.0)
    assert double.control.state()["projects"][0]["models"] == []
