"""`gmr prune` on each kind of registry: a dry run writes nothing; a prune deletes the version,
its files and its run, and nothing else. Each `gmr` run on MLflow costs seconds: one scenario."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.publish.conftest import Run, assert_no_secret
from tests.integration.scenarios.conftest import Gmr
from tests.integration.scenarios.registries import GitLabRegistry, MlflowRegistry, Registry

OLD, NEW = "2.0.0-rc.1", "2.0.0-rc.2"


def _run(gmr: Gmr, registry: Registry, *args: str, **env: str) -> Run:
    if isinstance(registry, GitLabRegistry):  # deleting needs a Maintainer (package destroyed)
        env["GMR_TOKEN"] = registry.double.maintainer_token
    return assert_no_secret(gmr(*args, env=env))


@pytest.mark.parametrize("registry", ["gitlab", "mlflow-server", "sqlite"], indirect=True)
def test_prune_deletes_the_version_its_files_and_run_and_nothing_else(
    gmr: Gmr, registry: Registry, model: str, model_dir: Path
) -> None:
    for pipeline, version in enumerate((OLD, NEW)):  # each by its own pipeline
        published = _run(
            gmr,
            registry,
            "publish",
            model,
            str(model_dir),
            "--version",
            version,
            CI_PIPELINE_ID=str(700 + pipeline),
        )
        assert published.code == 0, published.stderr
    old = registry.version(model, OLD)
    assert old is not None and old.files
    artifacts = None
    if isinstance(registry, MlflowRegistry):
        uri = registry.client.get_run(old.run_id).info.artifact_uri
        artifacts = registry._artifacts_on_disk(uri)
        assert artifacts.is_dir()
    kept = registry.version(model, NEW)

    before = registry.snapshot()
    dry = _run(gmr, registry, "prune", model, "--keep-last", "1", "--dry-run")
    assert dry.code == 0, dry.stderr
    assert f"delete  {OLD}" in dry.stdout
    assert registry.snapshot() == before  # nothing written, not even a request that writes

    pruned = _run(gmr, registry, "prune", model, "--keep-last", "1", "--json")
    assert pruned.code == 0, pruned.stderr
    assert pruned.json["deleted"] == [OLD]
    assert registry.version(model, OLD) is None
    assert registry.semvers(model) == [NEW]
    assert registry.version(model, NEW) == kept
    if isinstance(registry, MlflowRegistry):
        assert artifacts is not None and not artifacts.exists()
        assert registry.client.get_run(old.run_id).info.lifecycle_stage == "deleted"
    # (A second prune deleting nothing more: tests/integration/prune, tests/unit/test_retention.)
