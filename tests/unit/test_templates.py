"""The components (publish, promote, download), their examples and the project's pipeline: GitLab's schema
and our rules.

GitLab's CI schema is the copy vendored by check-jsonschema. A component template holds two YAML
documents (the `spec:` header and the jobs), validated one at a time; the jobs document is
validated after interpolating its inputs, as GitLab does before it validates a pipeline.
Rules gitlab-ci-local does not enforce (unknown input names) are checked here instead.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from gitlab_model_registry import __version__, versioning
from gitlab_model_registry.cli.reading import download as download_command
from gitlab_model_registry.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "templates" / "publish.yml"
PROMOTE = ROOT / "templates" / "promote.yml"
DOWNLOAD = ROOT / "templates" / "download.yml"
TEMPLATES = [TEMPLATE, PROMOTE, DOWNLOAD]
EXAMPLES = sorted((ROOT / "component" / "examples").glob("*.yml"))
PIPELINE = ROOT / ".gitlab-ci.yml"
CATALOG_PROJECT = "gitlab.com/gitlab-model-registry/gitlab-model-registry"
CATALOG_COMPONENT = f"{CATALOG_PROJECT}/publish"
SELF_COMPONENT = "$CI_SERVER_FQDN/$CI_PROJECT_PATH/publish@$CI_COMMIT_SHA"
IMAGE = "registry.gitlab.com/gitlab-model-registry/gitlab-model-registry"
REQUIRED_INPUTS = {"model", "files"}
GLOBAL_KEYWORDS = {"default", "image", "services", "cache", "before_script", "after_script"}
GLOBAL_KEYWORDS |= {"variables", "stages", "workflow", "include", "spec"}
SCRIPT_KEYWORDS = ("script", "before_script", "after_script")
# Where an input may appear in the jobs document: the job's name and these job keywords
# (none of them reaches a shell); promote also chooses `when` (options) and the environment,
# download its cache and artifact paths.
INPUT_KEYWORDS = {"stage", "image", "needs", "variables"}
TEMPLATE_INPUT_KEYWORDS = {
    TEMPLATE: INPUT_KEYWORDS | {"extends"},  # the hidden signing template it extends
    PROMOTE: INPUT_KEYWORDS | {"when", "environment"},
    DOWNLOAD: INPUT_KEYWORDS | {"cache", "artifacts"},
}
INPUT_BLOCK = re.compile(r"\$\[\[\s*inputs\.([\w-]+)\s*\]\]")
SAMPLE_REQUIRED = {"model": "churn-classifier", "files": ["model/", "metrics.json"]}
SAMPLE_INPUTS = {TEMPLATE: SAMPLE_REQUIRED, PROMOTE: {}, DOWNLOAD: {}}
# The templates whose job describes the version it wrote in reports (dotenv, metrics,
# annotations); download hands on files only.
REPORTING_TEMPLATES = [TEMPLATE, PROMOTE]


def load_documents(path: Path) -> list[Any]:
    return list(yaml.safe_load_all(path.read_text()))


def header(template: Path = TEMPLATE) -> dict[str, Any]:
    spec: dict[str, Any] = load_documents(template)[0]["spec"]
    return spec


def inputs(template: Path = TEMPLATE) -> dict[str, dict[str, Any]]:
    declared: dict[str, dict[str, Any]] = header(template)["inputs"]
    return declared


def jobs_document(template: Path = TEMPLATE) -> dict[str, Any]:
    jobs: dict[str, Any] = load_documents(template)[1]
    return jobs


@functools.cache
def gitlab_ci_validator() -> jsonschema.protocols.Validator:
    vendored = resources.files("check_jsonschema.builtin_schemas.vendor") / "gitlab-ci.json"
    schema = json.loads(vendored.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    return validator_class(schema)


def schema_errors(document: Any) -> list[str]:
    errors = gitlab_ci_validator().iter_errors(document)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in errors]


def interpolate(node: Any, values: dict[str, Any]) -> Any:
    """GitLab's interpolation: a value that is one block takes the input's typed value;
    a block inside a longer string is replaced by its text (JSON for arrays)."""
    if isinstance(node, dict):
        return {interpolate(k, values): interpolate(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [interpolate(item, values) for item in node]
    if not isinstance(node, str):
        return node
    whole = INPUT_BLOCK.fullmatch(node)
    if whole:
        return values[whole[1]]
    return INPUT_BLOCK.sub(lambda m: as_text(values[m[1]]), node)


def as_text(value: Any) -> str:
    # Arrays become JSON, booleans GitLab's (Ruby's) true/false.
    return json.dumps(value) if isinstance(value, list | bool) else str(value)


def input_values(template: Path = TEMPLATE, **given: Any) -> dict[str, Any]:
    declared = inputs(template)
    defaults = {name: spec["default"] for name, spec in declared.items() if "default" in spec}
    return {**defaults, **SAMPLE_INPUTS[template], **given}


def interpolated_job(template: Path = TEMPLATE, **given: Any) -> tuple[str, dict[str, Any]]:
    document = interpolate(jobs_document(template), input_values(template, **given))
    (name, job), *others = visible(document).items()
    assert not others, "the template defines exactly one job"
    return name, job


def visible(document: dict[str, Any]) -> dict[str, Any]:
    """The jobs, without the hidden ones (``.name``) that a job may extend."""
    return {name: job for name, job in document.items() if not name.startswith(".")}


def extended_job(**given: Any) -> dict[str, Any]:
    """The publish job once GitLab applied its ``extends`` (a deep merge of mappings)."""
    document = interpolate(jobs_document(), input_values(**given))
    _, job = interpolated_job(**given)
    base = document[job.pop("extends")]
    merged = {**base, **job}
    merged["variables"] = {**base.get("variables", {}), **job.get("variables", {})}
    return merged


def input_problems(given: dict[str, Any], template: Path = TEMPLATE) -> list[str]:
    """What GitLab would refuse in an include's inputs: unknown or missing names, bad values."""
    declared = inputs(template)
    required = {name for name, spec in declared.items() if "default" not in spec}
    problems = [f"unknown input {name!r}" for name in given if name not in declared]
    problems += [f"missing input {name!r}" for name in required - set(given)]
    for name, value in given.items():
        problems += value_problems(name, value, declared.get(name, {}))
    return problems


def value_problems(name: str, value: Any, spec: dict[str, Any]) -> list[str]:
    kind = spec.get("type", "string")
    if kind == "array":
        return [] if isinstance(value, list) else [f"{name}: not an array"]
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{name}: not a boolean"]
    if not isinstance(value, str):
        return [f"{name}: not a string"]
    if "options" in spec and value not in spec["options"]:
        return [f"{name}: {value!r} not in options"]
    if "regex" in spec and not re.search(spec["regex"], value):
        return [f"{name}: {value!r} does not match {spec['regex']}"]
    return []


def component_includes(path: Path) -> list[dict[str, Any]]:
    document = load_documents(path)[0]
    items = document.get("include", [])
    return [item for item in items if isinstance(item, dict) and "component" in item]


def input_occurrences(
    node: Any, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], str]]:
    """(path, input name) for every input block in keys and values of ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            for name in INPUT_BLOCK.findall(str(key)):
                yield path, name
            yield from input_occurrences(value, (*path, str(key)))
    elif isinstance(node, list):
        for item in node:
            yield from input_occurrences(item, path)
    elif isinstance(node, str):
        for name in INPUT_BLOCK.findall(node):
            yield path, name


# --- GitLab's schema -------------------------------------------------------------------------


def by_name(path: Path) -> str:
    return path.name


@pytest.mark.parametrize("template", TEMPLATES, ids=by_name)
def test_template_is_a_spec_header_then_the_jobs(template: Path) -> None:
    documents = load_documents(template)
    assert len(documents) == 2
    assert set(documents[0]) == {"spec"}


@pytest.mark.parametrize("template", TEMPLATES, ids=by_name)
def test_template_header_matches_gitlab_schema(template: Path) -> None:
    assert schema_errors(load_documents(template)[0]) == []


@pytest.mark.parametrize(
    "given",
    [{}, {"needs": ["train"], "stage": "publish", "job-name": "publish-embedder", "bump": "major"}],
    ids=["defaults", "every-kind-of-input"],
)
def test_template_jobs_match_gitlab_schema_once_interpolated(given: dict[str, Any]) -> None:
    document = interpolate(jobs_document(), input_values(**given))
    assert schema_errors(document) == []


@pytest.mark.parametrize(
    "given",
    [
        {},
        {
            **{"job-name": "promote-embedder", "stage": "release", "needs": ["publish-embedder"]},
            **{"model": "embedder", "version": "2.1.0-rc.3", "to-version": "2.1.0"},
            **{"release": False, "to-project": "group/production", "when": "on_success"},
            **{
                "require": ["accuracy>=0.9", "loss<0.3"],
                "environment": "review/$CI_COMMIT_REF_SLUG",
            },
        },
    ],
    ids=["defaults", "every-kind-of-input"],
)
def test_promote_jobs_match_gitlab_schema_once_interpolated(given: dict[str, Any]) -> None:
    document = interpolate(jobs_document(PROMOTE), input_values(PROMOTE, **given))
    assert schema_errors(document) == []


def test_schema_check_catches_typos() -> None:
    """The validation above is not vacuous: header and job typos are reported."""
    assert schema_errors({"spec": {"inputz": {}}})
    assert schema_errors({"spec": {"inputs": {"model": {"type": "strin"}}}})
    assert schema_errors({"job": {"script": ["true"], "artefacts": {"paths": ["x"]}}})


@pytest.mark.parametrize("path", [*EXAMPLES, PIPELINE], ids=lambda p: p.name)
def test_pipelines_match_gitlab_schema(path: Path) -> None:
    (document,) = load_documents(path)
    assert schema_errors(document) == []


# --- our rules for the template ------------------------------------------------------------


@pytest.mark.parametrize("template", TEMPLATES, ids=by_name)
def test_every_input_is_described(template: Path) -> None:
    declared = inputs(template)
    undescribed = [n for n, s in declared.items() if not str(s.get("description", "")).strip()]
    assert undescribed == []
    assert header(template)["description"].strip()


def test_only_model_and_files_are_required_and_they_have_no_default() -> None:
    required = {name for name, spec in inputs().items() if "default" not in spec}
    assert required == REQUIRED_INPUTS


def test_input_kinds_and_defaults() -> None:
    declared = inputs()
    assert declared["version"]["default"] == "auto"
    assert declared["bump"]["default"] == ""  # not set: gmr's own default (patch) applies
    assert declared["bump"]["options"] == [
        "",
        *("major", "minor", "patch", "premajor", "preminor", "prepatch", "prerelease"),
    ]
    assert declared["token-variable"]["default"] == "GMR_TOKEN"
    assert declared["files"]["type"] == declared["needs"]["type"] == "array"
    assert declared["needs"]["default"] == []
    assert set(declared) >= {"params-file", "metrics-file", "description", "stage", "job-name"}


@pytest.mark.parametrize("template", TEMPLATES, ids=by_name)
def test_default_image_is_this_release_of_the_project_image(template: Path) -> None:
    assert inputs(template)["image"]["default"] == f"{IMAGE}:{__version__}"


#: One table of version strings for the CLI and every version input of the components: both
#: follow GitLab's semver rule (semver.org, no `v` prefix), so a component never accepts a
#: version that `gmr` then refuses, nor the other way round.
VERSION_STRINGS = {
    "1.4.0": True,
    "0.0.0": True,
    "10.20.30": True,
    "1.4.0-rc.1": True,
    "1.4.0-rc.1+build.7": True,
    "2.0.0+build.7": True,
    "1.0.0+001": True,
    "1.0.0-alpha-1": True,
    "1.0.0-0.3.7": True,
    "1.0.0-0a": True,
    "1.0.0-mr.12.42": True,
    "v1.4.0": False,
    "V1.4.0": False,
    "1.4": False,
    "01.2.3": False,
    "1.02.3": False,
    "1.2.3-01": False,
    "1.2.3-rc..1": False,
    "1.2.3-rc_1": False,
    "1.2.3-": False,
    "1.2.3+": False,
    " 1.2.3": False,
    "1.2.3\n": False,
    "1.4.0 ; touch pwned": False,
    "latest": False,
    "": False,
}
VERSION_INPUTS = [(TEMPLATE, "version"), (PROMOTE, "version"), (PROMOTE, "to-version")]
VERSION_INPUTS += [(DOWNLOAD, "version")]


def re2_matches(regex: str, value: str) -> bool:
    """GitLab checks input regexes with RE2, whose ``$`` never matches before a final newline."""
    return re.search(regex.removesuffix("$") + r"\Z", value) is not None


def cli_accepts(value: str) -> bool:
    try:
        versioning.parse(value)
    except UsageError:
        return False
    return True


@pytest.mark.parametrize("value", list(VERSION_STRINGS), ids=repr)
def test_components_and_cli_accept_the_same_versions(value: str) -> None:
    assert cli_accepts(value) is VERSION_STRINGS[value]
    for template, name in VERSION_INPUTS:
        if value == "" and name == "to-version":
            continue  # empty means "not given" there: promote to the release
        if value == "latest" and template == DOWNLOAD:
            continue  # a version spec of `gmr download` (test_download_version_input_...)
        accepted = re2_matches(inputs(template)[name]["regex"], value)
        assert accepted is VERSION_STRINGS[value], f"{template.name} input {name}"


def test_publish_version_input_also_takes_auto() -> None:
    assert re2_matches(inputs()["version"]["regex"], "auto")


@pytest.mark.parametrize("value", ["$MODEL_VERSION", "${MODEL_VERSION}"])
def test_promote_version_inputs_also_take_a_variable(value: str) -> None:
    for name in ("version", "to-version"):
        assert re2_matches(inputs(PROMOTE)[name]["regex"], value)


@pytest.mark.parametrize("template", TEMPLATES, ids=by_name)
def test_no_global_keywords(template: Path) -> None:
    document = jobs_document(template)
    assert GLOBAL_KEYWORDS.isdisjoint(document)
    for name, job in visible(document).items():
        assert isinstance(job, dict) and "script" in job, f"{name} is not a job"


@pytest.mark.parametrize("template", TEMPLATES, ids=by_name)
def test_inputs_never_reach_a_script_line(template: Path) -> None:
    for job in visible(jobs_document(template)).values():
        lines = [line for keyword in SCRIPT_KEYWORDS for line in job.get(keyword, [])]
        assert lines
        assert [line for line in lines if "$[[" in line] == []


@pytest.mark.parametrize("template", TEMPLATES, ids=by_name)
def test_inputs_reach_the_job_only_as_variables_name_stage_image_and_needs(template: Path) -> None:
    allowed = TEMPLATE_INPUT_KEYWORDS[template]
    occurrences = list(input_occurrences(jobs_document(template)))
    misplaced = [(p, n) for p, n in occurrences if p and (len(p) < 2 or p[1] not in allowed)]
    assert misplaced == []
    used = {name for _, name in occurrences}
    assert used == set(inputs(template)), "every input used, none undeclared"


def test_the_script_is_gmr_publish_reading_the_environment() -> None:
    _, job = interpolated_job()
    assert job["script"] == ["gmr publish"]
    variables = job["variables"]
    assert variables["GMR_MODEL"] == "churn-classifier"
    assert variables["GMR_VERSION"] == "auto"
    assert variables["GMR_BUMP"] == ""  # not set: gmr bumps patch
    assert all(isinstance(value, str) for value in variables.values())


def test_files_reach_gmr_as_a_json_array() -> None:
    files = ["model dir/", 'odd "name".bin', "metrics.json"]
    _, job = interpolated_job(files=files)
    assert json.loads(job["variables"]["GMR_FILES"]) == files


@pytest.mark.parametrize("template", TEMPLATES, ids=by_name)
def test_token_is_named_by_an_input_never_written(template: Path) -> None:
    _, job = interpolated_job(template, **{"token-variable": "REGISTRY_TOKEN"})
    variables = job["variables"]
    assert variables["GMR_TOKEN_VARIABLE"] == "REGISTRY_TOKEN"
    assert {"GMR_TOKEN", "GITLAB_TOKEN", "MLFLOW_TRACKING_TOKEN"}.isdisjoint(variables)
    assert "$REGISTRY_TOKEN" not in json.dumps(job) and "glpat-" not in template.read_text()


@pytest.mark.parametrize("template", REPORTING_TEMPLATES, ids=by_name)
def test_dotenv_report_is_also_a_normal_artifact(template: Path) -> None:
    _, job = interpolated_job(template)
    dotenv = job["variables"]["GMR_DOTENV"]
    assert job["artifacts"]["reports"]["dotenv"] == dotenv
    assert dotenv in job["artifacts"]["paths"]


def test_job_name_stage_and_needs_come_from_inputs() -> None:
    name, job = interpolated_job(TEMPLATE, **{"job-name": "publish-embedder", "stage": "publish"})
    assert (name, job["stage"], job["needs"]) == ("publish-embedder", "publish", [])
    _, job = interpolated_job(needs=["train"])
    assert job["needs"] == ["train"]


# --- the promote component -------------------------------------------------------------------


def test_promote_needs_no_input_and_defaults_to_the_published_version() -> None:
    declared = inputs(PROMOTE)
    assert {name for name, spec in declared.items() if "default" not in spec} == set()
    defaults = {name: spec["default"] for name, spec in declared.items()}
    assert defaults["model"] == "$MODEL_NAME" and defaults["version"] == "$MODEL_VERSION"
    assert (defaults["to-version"], defaults["to-project"]) == ("release", "")
    assert (defaults["require"], defaults["token-variable"]) == ([], "GMR_TOKEN")
    assert (defaults["when"], declared["when"]["options"]) == ("manual", ["manual", "on_success"])
    assert defaults["environment"] == "production"
    # The publish component's job, whose dotenv report names the version.
    assert defaults["needs"] == [inputs()["job-name"]["default"]]
    assert {declared[n].get("type") for n in ("require", "needs")} == {"array"}


def test_the_script_is_gmr_promote_reading_the_environment() -> None:
    name, job = interpolated_job(PROMOTE)
    assert (name, job["script"]) == ("promote-model", ["gmr promote"])
    variables = job["variables"]
    assert all(isinstance(value, str) for value in variables.values())
    assert variables["GMR_MODEL"] == "$MODEL_NAME"
    assert variables["GMR_MODEL_VERSION"] == "$MODEL_VERSION"
    assert (variables["GMR_TO_VERSION"], variables["GMR_TO_PROJECT"]) == ("release", "")
    assert "GMR_RELEASE" not in variables  # one input says where to: no flag to undo
    assert json.loads(variables["GMR_REQUIRE"]) == []


def test_promote_inputs_reach_gmr() -> None:
    gates = ["accuracy>=0.9", "log_loss<0.3"]
    given = {"require": gates, "to-project": "group/production"}
    _, job = interpolated_job(PROMOTE, **given, **{"to-version": "2.0.0"})
    variables = job["variables"]
    assert json.loads(variables["GMR_REQUIRE"]) == gates
    assert (variables["GMR_TO_VERSION"], variables["GMR_TO_PROJECT"]) == (
        "2.0.0",
        "group/production",
    )


def test_promotion_is_a_blocking_manual_deployment_by_default() -> None:
    """Allowed to fail (a manual job's default), a refused gate would let later jobs run."""
    _, job = interpolated_job(PROMOTE)
    assert (job["when"], job["allow_failure"]) == ("manual", False)
    assert job["environment"] == {"name": "production"}
    assert job["needs"] == ["publish-model"]
    _, job = interpolated_job(PROMOTE, when="on_success", environment="staging")
    assert (job["when"], job["allow_failure"], job["environment"]["name"]) == (
        "on_success",
        False,
        "staging",
    )


def test_promote_dotenv_differs_from_the_publish_one() -> None:
    """A job needing both jobs must not get two reports written to one artifact path."""
    promoted = interpolated_job(PROMOTE)[1]["variables"]["GMR_DOTENV"]
    assert promoted != interpolated_job()[1]["variables"]["GMR_DOTENV"]


@pytest.mark.parametrize(
    ("name", "value", "accepted"),
    [
        ("version", "$MODEL_VERSION", True),
        ("version", "${RC_VERSION}", True),
        ("version", "1.4.0-rc.2", True),
        ("version", "latest", False),
        ("version", "$(touch pwned)", False),
        ("to-version", "", True),
        ("to-version", "release", True),
        ("to-version", "releases", False),
        ("to-version", "1.4.0", True),
        ("to-version", "1.4", False),
        ("to-project", "", True),
        ("to-project", "2", True),
        ("to-project", "group/sub.group/production", True),
        ("to-project", "$PRODUCTION_PROJECT", True),
        ("to-project", "a; touch pwned", False),
        ("environment", "review/$CI_COMMIT_REF_SLUG", True),
        ("environment", "", False),
        ("when", "always", False),
    ],
)
def test_promote_input_values(name: str, value: str, accepted: bool) -> None:
    assert (value_problems(name, value, inputs(PROMOTE)[name]) == []) is accepted


# --- the download component ------------------------------------------------------------------


@pytest.mark.parametrize(
    "given",
    [
        {},
        {
            **{"job-name": "download-embedder", "stage": "release", "needs": []},
            **{"model": "embedder", "version": "latest", "dest": "deploy/embedder/"},
            **{"environment": "review/$CI_COMMIT_REF_SLUG", "cache-dir": "cache/gmr"},
            **{"expire-in": "never"},
        },
    ],
    ids=["defaults", "every-kind-of-input"],
)
def test_download_jobs_match_gitlab_schema_once_interpolated(given: dict[str, Any]) -> None:
    document = interpolate(jobs_document(DOWNLOAD), input_values(DOWNLOAD, **given))
    assert schema_errors(document) == []


def test_download_needs_no_input_and_defaults_to_the_promoted_version() -> None:
    declared = inputs(DOWNLOAD)
    assert {name for name, spec in declared.items() if "default" not in spec} == set()
    defaults = {name: spec["default"] for name, spec in declared.items()}
    assert defaults["model"] == "$MODEL_NAME" and defaults["version"] == "$MODEL_VERSION"
    assert (defaults["environment"], defaults["dest"], defaults["cache-dir"]) == (
        "",
        "model",
        ".gmr-cache",
    )
    assert (defaults["token-variable"], defaults["stage"]) == ("GMR_TOKEN", "deploy")
    # The promote component's job, whose dotenv report names the promoted version.
    assert defaults["needs"] == [inputs(PROMOTE)["job-name"]["default"]]
    assert declared["needs"]["type"] == "array"


def download_parameters(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """What `gmr download` parses from the job's variables alone: its parameters and the
    common options (no command line, nothing run)."""
    for name in list(os.environ):
        if name.startswith("GMR_") or name in {"MODEL_NAME", "MODEL_VERSION"}:
            monkeypatch.delenv(name)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    ctx = download_command.make_context("download", [])
    return ctx.params, ctx.meta["gmr.common"]


def test_the_script_is_gmr_download_reading_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    name, job = interpolated_job(DOWNLOAD)
    assert (name, job["script"]) == ("download-model", ["gmr download"])
    variables = job["variables"]
    assert all(isinstance(value, str) for value in variables.values())
    assert (variables["GMR_MODEL"], variables["GMR_MODEL_VERSION"]) == (
        "$MODEL_NAME",
        "$MODEL_VERSION",
    )
    # The runner expands $MODEL_NAME/$MODEL_VERSION (the dotenv's) before gmr reads them.
    expanded = {k: v.replace("$MODEL_NAME", "churn") for k, v in variables.items()}
    expanded = {k: v.replace("$MODEL_VERSION", "1.0.0") for k, v in expanded.items()}
    params, common = download_parameters(monkeypatch, expanded)
    assert (params["model"], params["version"], params["environment"]) == ("churn", "1.0.0", None)
    assert (params["dest"], params["cache_dir"], params["force"]) == (
        Path("model"),
        Path(".gmr-cache"),
        True,
    )
    assert common["token_variable"] == "GMR_TOKEN"
    assert (params["public_key"], params["identity"], params["issuer"]) == (None, None, None)


def test_download_inputs_reach_gmr(monkeypatch: pytest.MonkeyPatch) -> None:
    given = {"model": "embedder", "environment": "production", "dest": "deploy/embedder"}
    _, job = interpolated_job(DOWNLOAD, **given, **{"cache-dir": "cache/gmr"})
    params, _ = download_parameters(monkeypatch, job["variables"])
    assert (params["model"], params["environment"]) == ("embedder", "production")
    assert (params["dest"], params["cache_dir"]) == (Path("deploy/embedder"), Path("cache/gmr"))
    _, job = interpolated_job(DOWNLOAD, version="latest")
    assert download_parameters(monkeypatch, job["variables"])[0]["version"] == "latest"


def test_the_signature_inputs_reach_gmr(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A key file (what a File-type variable expands to) or a keyless identity and issuer."""
    key = tmp_path / "signer.pub.pem"
    key.write_text("-----BEGIN PUBLIC KEY-----\n")
    _, job = interpolated_job(DOWNLOAD, **{"public-key": "$MODEL_PUBLIC_KEY"})
    assert job["variables"]["GMR_PUBLIC_KEY"] == "$MODEL_PUBLIC_KEY"
    expanded = {**job["variables"], "GMR_PUBLIC_KEY": str(key)}
    assert download_parameters(monkeypatch, expanded)[0]["public_key"] == key
    identity = "https://gitlab.com/group/project//.gitlab-ci.yml@refs/heads/main"
    _, job = interpolated_job(DOWNLOAD, identity=identity, issuer="https://gitlab.com")
    params, _ = download_parameters(monkeypatch, job["variables"])
    assert (params["identity"], params["issuer"]) == (identity, "https://gitlab.com")


def test_every_download_variable_is_one_gmr_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """An unknown GMR_* name would be ignored by gmr without a word."""
    read = {
        envvar
        for param in download_command.params
        for envvar in ([param.envvar] if isinstance(param.envvar, str) else param.envvar or [])
    }
    assert set(interpolated_job(DOWNLOAD)[1]["variables"]) <= read


def test_the_cache_follows_cache_dir_and_model_and_the_artifacts_dest() -> None:
    _, job = interpolated_job(DOWNLOAD)
    assert job["cache"] == {"key": "gmr-$MODEL_NAME", "paths": [".gmr-cache"]}
    assert job["artifacts"] == {"paths": ["model"], "expire_in": "1 week"}
    given = {"model": "embedder", "dest": "deploy/", "expire-in": "3 days"}
    _, job = interpolated_job(DOWNLOAD, **given, **{"cache-dir": "cache/gmr"})
    assert job["cache"] == {"key": "gmr-embedder", "paths": ["cache/gmr"]}
    assert job["variables"]["GMR_CACHE_DIR"] == "cache/gmr"
    assert job["artifacts"] == {"paths": ["deploy/"], "expire_in": "3 days"}
    assert job["variables"]["GMR_DEST"] == "deploy/"


def test_the_cache_key_is_one_gitlab_accepts() -> None:
    """GitLab refuses a cache key containing "/" (also as %2F) or being "." or ".."; the model
    input's regex keeps such names out of the key."""
    spec = inputs(DOWNLOAD)["model"]
    for model in ("churn-classifier", "$MODEL_NAME", "${MODEL_NAME}", "a.b_c"):
        assert value_problems("model", model, spec) == []
        key = interpolated_job(DOWNLOAD, model=model)[1]["cache"]["key"]
        assert "/" not in key and "%2f" not in key.lower() and key not in {".", ".."}
    for model in ("group/churn", "churn%2Fx", "a b", ""):
        assert value_problems("model", model, spec) != []


@pytest.mark.parametrize(
    ("name", "value", "accepted"),
    [
        ("version", "$MODEL_VERSION", True),
        ("version", "${RC_VERSION}", True),
        ("version", "1.4.0-rc.2", True),
        ("version", "latest", True),
        ("version", "Latest", False),
        ("version", ">=1.2,<2", False),
        ("version", "$(touch pwned)", False),
        ("environment", "", True),
        ("environment", "review/$CI_COMMIT_REF_SLUG", True),
        ("environment", "a; touch pwned", False),
        ("dest", "model", True),
        ("dest", "deploy/model/", True),
        ("dest", ".model", True),
        ("dest", "$MODEL_DIR", True),
        ("dest", "", False),
        ("dest", ".", False),
        ("dest", "./", False),
        ("dest", "..", False),
        ("dest", "../elsewhere", False),
        ("dest", "a/../../b", False),
        ("dest", "/srv/model", False),
        ("dest", "a b", False),
        ("cache-dir", ".gmr-cache", True),
        ("cache-dir", "cache/gmr", True),
        ("cache-dir", "", False),
        ("cache-dir", "/cache", False),
        ("expire-in", "1 week", True),
        ("expire-in", "never", True),
        ("expire-in", "", False),
        ("token-variable", "REGISTRY_TOKEN", True),
        ("token-variable", "$REGISTRY_TOKEN", False),
        ("public-key", "", True),
        ("public-key", "$MODEL_PUBLIC_KEY", True),
        ("public-key", "/builds/group/project.tmp/MODEL_PUBLIC_KEY", True),
        ("public-key", "$(cat key)", False),
        ("identity", "https://gitlab.com/g/p//.gitlab-ci.yml@refs/tags/1.0.0", True),
        ("identity", "a b", False),
        ("issuer", "https://gitlab.com", True),
        ("issuer", "https://gitlab.com; touch pwned", False),
    ],
)
def test_download_input_values(name: str, value: str, accepted: bool) -> None:
    assert (value_problems(name, value, inputs(DOWNLOAD)[name]) == []) is accepted


def test_download_version_input_also_takes_latest() -> None:
    assert re2_matches(inputs(DOWNLOAD)["version"]["regex"], "latest")
    assert not re2_matches(inputs(DOWNLOAD)["version"]["regex"], "latest\n")


def test_readme_download_example_includes_this_release_with_valid_inputs() -> None:
    section = (ROOT / "README.md").read_text().split("### Download component", 1)[1]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    document = yaml.safe_load(block)
    (include,) = document["include"]
    assert include["component"] == f"{CATALOG_PROJECT}/download@{__version__}"
    assert input_problems(include["inputs"], DOWNLOAD) == []
    assert document["deploy"]["needs"] == [inputs(DOWNLOAD)["job-name"]["default"]]


# --- examples and the project's pipeline -----------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_include_this_release_with_valid_inputs(path: Path) -> None:
    includes = component_includes(path)
    assert includes
    for include in includes:
        found = re.fullmatch(
            rf"{re.escape(CATALOG_PROJECT)}/([\w-]+)@{re.escape(__version__)}", include["component"]
        )
        assert found, f"{include['component']} is not a component of this release"
        template = ROOT / "templates" / f"{found[1]}.yml"
        assert template in TEMPLATES
        assert input_problems(include.get("inputs", {}), template) == []


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_run_this_release_of_the_image(path: Path) -> None:
    (document,) = load_documents(path)
    jobs = [job for job in document.values() if isinstance(job, dict)]
    images = {job["image"] for job in jobs if str(job.get("image", "")).startswith(IMAGE)}
    assert images <= {f"{IMAGE}:{__version__}"}


def test_input_check_reports_what_gitlab_refuses() -> None:
    assert input_problems({"model": "m", "files": ["a"], "bumps": "minor"})
    assert input_problems({"files": ["a"]})
    assert input_problems({"model": "m", "files": ["a"], "bump": "huge"})
    assert input_problems({"model": "m", "files": "a"})


def test_pipeline_self_tests_the_component_at_this_commit() -> None:
    (include,) = component_includes(PIPELINE)
    assert include["component"] == SELF_COMPONENT
    assert input_problems(include["inputs"]) == []
    assert include["inputs"]["image"] == "$CI_REGISTRY_IMAGE:$CI_COMMIT_SHA"


def test_pipeline_builds_and_pushes_the_image_with_buildah() -> None:
    (document,) = load_documents(PIPELINE)
    scripts = " ".join(
        " ".join(job.get("script", [])) for job in document.values() if isinstance(job, dict)
    )
    assert "buildah build" in scripts and "buildah push" in scripts
    assert "kaniko" not in PIPELINE.read_text()


@pytest.mark.parametrize(
    ("tag", "released"), [("1.2.3", True), ("2.0.0-rc.1", True), ("main", False), ("1.2", False)]
)
def test_pipeline_releases_semantic_version_tags(tag: str, released: bool) -> None:
    (document,) = load_documents(PIPELINE)
    (job,) = [job for job in document.values() if isinstance(job, dict) and "release" in job]
    assert job["release"]["tag_name"] == "$CI_COMMIT_TAG"
    (rule,) = job["rules"]
    pattern = re.fullmatch(r"\$CI_COMMIT_TAG =~ /(.+)/", rule["if"])
    assert pattern
    assert bool(re.search(pattern[1], tag)) is released


def test_exclude_and_include_reach_gmr_as_json_arrays_and_default_to_none() -> None:
    _, job = interpolated_job(exclude=["*.tmp", "logs/"], include=["logs/keep.txt"])
    assert json.loads(job["variables"]["GMR_EXCLUDE"]) == ["*.tmp", "logs/"]
    assert json.loads(job["variables"]["GMR_INCLUDE"]) == ["logs/keep.txt"]
    _, job = interpolated_job()
    assert json.loads(job["variables"]["GMR_EXCLUDE"]) == []
    assert json.loads(job["variables"]["GMR_INCLUDE"]) == []


@pytest.mark.parametrize(
    ("sign", "variables", "id_tokens"),
    [
        ("none", {}, None),
        ("key", {"GMR_SIGNING_KEY_VARIABLE": "GMR_SIGNING_KEY_B64"}, None),
        ("keyless", {"GMR_SIGN": "true"}, {"SIGSTORE_ID_TOKEN": {"aud": "sigstore"}}),
    ],
)
def test_sign_input_sets_the_signing_variables_and_id_tokens_only_when_keyless(
    sign: str, variables: dict[str, str], id_tokens: dict[str, Any] | None
) -> None:
    job = extended_job(sign=sign)
    signing = {k: v for k, v in job["variables"].items() if "SIGN" in k}
    assert signing == variables
    assert job.get("id_tokens") == id_tokens
    assert input_problems({**SAMPLE_REQUIRED, "sign": "yes"}) != []
