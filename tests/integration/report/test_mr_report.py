"""The merge-request report against the GitLab double: one note per model, updated in place, the
right baseline, token rules, and "a report never fails a publish"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from gitlab_model_registry import api, mr_report
from gitlab_model_registry.models import CiContext
from gitlab_model_registry.settings import Flags, Settings
from tests.gitlab_double.pytest_plugin import Double
from tests.integration.publish.conftest import ci_environ

MR_IID = 7


def _settings(double: Double, cwd: Path, **env: str) -> Settings:
    environ = ci_environ(double, **env)
    return Settings.resolve(Flags(token=environ.pop("GMR_TOKEN")), environ, cwd)


def _publish(
    double: Double, tmp_path: Path, metrics: dict[str, float], files: dict[str, bytes], **env: str
) -> tuple[Settings, str]:
    """Publish model ``m`` from a job with this CI context; returns the settings and version."""
    root = tmp_path / f"model-{len(list(tmp_path.iterdir()))}"
    root.mkdir()
    for name, data in files.items():
        (root / name).write_bytes(data)
    pipeline = str(700 + len(list(tmp_path.iterdir())))  # each publish is its own pipeline
    settings = _settings(double, tmp_path, **{"CI_PIPELINE_ID": pipeline, **env})
    request = api.PublishRequest(
        model="m", paths=[str(root)], metrics=metrics, params={"lr": str(metrics.get("lr", 1))}
    )
    result = api.publish(settings.open_backend(), request, settings.ci)
    assert result.model_version is not None
    return settings, result.model_version.version


def _mr_env(iid: int = MR_IID, pipeline: str = "601") -> dict[str, str]:
    return {
        "CI_MERGE_REQUEST_IID": str(iid),
        "CI_COMMIT_REF_NAME": f"feature-{iid}",
        "CI_PIPELINE_IID": pipeline,
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
    }


def _notes(double: Double, iid: int = MR_IID) -> list[dict[str, Any]]:
    url = f"{double.api_url}/projects/1/merge_requests/{iid}/notes"
    got = requests.get(url, headers={"PRIVATE-TOKEN": double.owner_token}, timeout=10)
    got.raise_for_status()
    notes: list[dict[str, Any]] = got.json()
    return notes


def _report(settings: Settings, version: str, **kwargs: Any) -> mr_report.ReportResult:
    request = mr_report.ReportRequest(
        model="m", version=version, merge_request=settings.ci.merge_request_iid, **kwargs
    )
    return mr_report.run(settings, settings.open_backend(), request)


@pytest.fixture
def main_version(double: Double, tmp_path: Path) -> str:
    """1.0.0 published from main: the baseline every MR below compares with."""
    double.control.add_merge_request(MR_IID, source_branch=f"feature-{MR_IID}")
    return _publish(double, tmp_path, {"accuracy": 0.90, "loss": 0.3}, {"w.bin": b"a" * 100})[1]


def test_pipelines_of_one_mr_leave_one_note_with_the_newest_content(
    double: Double, tmp_path: Path, main_version: str
) -> None:
    first_settings, first = _publish(
        double, tmp_path, {"accuracy": 0.92, "loss": 0.2}, {"w.bin": b"b" * 120}, **_mr_env()
    )
    one = _report(first_settings, first)
    assert one.warnings == () and one.note_created
    second_settings, second = _publish(
        double,
        tmp_path,
        {"accuracy": 0.95, "loss": 0.1},
        {"w.bin": b"c" * 90},
        **_mr_env(pipeline="602"),
    )
    two = _report(second_settings, second)
    assert (two.note_id, two.note_created) == (one.note_id, False)
    notes = _notes(double)
    assert len(notes) == 1
    body = notes[0]["body"]
    assert second in body and first not in body
    assert f"main ({main_version})" in body  # the baseline is main's release
    assert "▲ +0.05" in body  # accuracy 0.95 against 0.90


def test_someone_elses_note_with_the_marker_is_left_alone(
    double: Double, tmp_path: Path, main_version: str
) -> None:
    settings, version = _publish(double, tmp_path, {"accuracy": 0.91}, {"w.bin": b"x"}, **_mr_env())
    from gitlab_model_registry.report_formats import marker

    url = f"{double.api_url}/projects/1/merge_requests/{MR_IID}/notes"
    lookalike = marker("m") + "\nI copied the report"
    posted = requests.post(
        url,
        json={"body": lookalike},
        headers={"PRIVATE-TOKEN": double.maintainer_token},
        timeout=10,
    )
    assert posted.status_code == 201
    result = _report(settings, version)
    assert result.note_created and result.warnings == ()
    bodies = {n["author"]["username"]: n["body"] for n in _notes(double)}
    assert bodies["maintainer-user"] == lookalike
    assert version in bodies["developer-user"]


def test_the_baseline_is_mains_latest_complete_version_not_another_mrs(
    double: Double, tmp_path: Path, main_version: str
) -> None:
    double.control.add_merge_request(8, source_branch="feature-8")
    other = _publish(double, tmp_path, {"accuracy": 0.99}, {"w.bin": b"o"}, **_mr_env(8))[1]
    # A newer version from main whose run never finished (an interrupted publish).
    incomplete = _publish(double, tmp_path, {"accuracy": 0.5}, {"w.bin": b"i"})[1]
    backend = _settings(double, tmp_path).open_backend()
    mv = backend.get_version("m", incomplete)
    assert mv is not None
    _mark_running(double, mv.run_id)
    settings, version = _publish(double, tmp_path, {"accuracy": 0.93}, {"w.bin": b"n"}, **_mr_env())
    result = _report(settings, version)
    (baseline,) = result.report.baselines
    assert baseline.snapshot is not None, (other, incomplete, version)
    assert baseline.snapshot.version.version == main_version, (other, incomplete, version)


def _mark_running(double: Double, run_id: str) -> None:
    base = f"{double.tracking_uri()}/api/2.0/mlflow"
    answer = requests.post(
        f"{base}/runs/update",
        json={"run_id": run_id, "status": "RUNNING"},
        headers={"Authorization": f"Bearer {double.developer_token}"},
        timeout=10,
    )
    answer.raise_for_status()


def test_files_are_written_even_when_the_note_is_refused(
    double: Double, tmp_path: Path, main_version: str
) -> None:
    _, version = _publish(double, tmp_path, {"accuracy": 0.91}, {"w.bin": b"x"}, **_mr_env())
    read_only = _settings(double, tmp_path, **_mr_env(), GMR_TOKEN=double.read_api_token)
    out = tmp_path / "out"
    result = _report(
        read_only,
        version,
        markdown_file=out / "report.md",
        metrics_file=out / "metrics.txt",
        annotations_file=out / "annotations.json",
    )
    assert result.note_id is None
    (warning,) = result.warnings
    assert "api scope" in warning and "CI_JOB_TOKEN cannot post notes" in warning
    assert double.read_api_token not in warning
    assert {p.name for p in result.written} == {"report.md", "metrics.txt", "annotations.json"}
    assert (out / "metrics.txt").read_text().endswith("# EOF\n")
    assert _notes(double) == []


def test_a_missing_merge_request_is_a_warning(double: Double, tmp_path: Path) -> None:
    settings, version = _publish(
        double, tmp_path, {"accuracy": 0.91}, {"w.bin": b"x"}, **_mr_env(99)
    )
    result = _report(settings, version)
    assert result.note_id is None
    assert result.warnings and "!99" in result.warnings[0]


def test_the_ci_context_carries_the_target_branch(double: Double, tmp_path: Path) -> None:
    settings = _settings(double, tmp_path, **_mr_env())
    assert settings.ci.merge_request_target_branch == "main"
    assert CiContext().merge_request_target_branch == ""


def test_an_environment_is_a_baseline_and_an_empty_one_says_so(
    double: Double, tmp_path: Path, main_version: str
) -> None:
    from gitlab_model_registry import catalog, environments

    main_settings = _settings(double, tmp_path)
    backend = main_settings.open_backend()
    deployed = catalog.get_complete(backend, "m", main_version)
    environments.deploy(backend, deployed, "production", main_settings.ci)
    settings, version = _publish(double, tmp_path, {"accuracy": 0.97}, {"w.bin": b"p"}, **_mr_env())
    result = _report(settings, version, against=["@production", "@staging"])
    main, production, staging = result.report.baselines
    assert main.label == "main" and main.snapshot is not None
    assert production.snapshot is not None
    assert production.snapshot.version.version == main_version
    assert staging.snapshot is None and "@staging holds no version of m" in staging.missing
    assert f"@production ({main_version})" in _notes(double)[0]["body"]


def test_gates_against_an_environment_get_their_verdict_from_what_it_holds(
    double: Double, tmp_path: Path, main_version: str
) -> None:
    from gitlab_model_registry import catalog, environments

    main_settings = _settings(double, tmp_path)
    backend = main_settings.open_backend()
    deployed = catalog.get_complete(backend, "m", main_version)  # accuracy 0.90 in production
    environments.deploy(backend, deployed, "production", main_settings.ci)
    settings, version = _publish(double, tmp_path, {"accuracy": 0.93}, {"w.bin": b"g"}, **_mr_env())

    result = _report(
        settings,
        version,
        requires=["accuracy>=@production+0.01", "accuracy>=@production+0.05", "accuracy>=@staging"],
    )

    assert result.report.gate_baselines["production"].version == main_version
    body = _notes(double)[0]["body"]
    assert "✅ <code>accuracy&gt;=@production+0.01</code>" in body
    assert "❌ <code>accuracy&gt;=@production+0.05</code>" in body
    assert "✅ <code>accuracy&gt;=@staging</code>" in body  # nothing there yet: passes


def test_two_racing_pipelines_end_with_one_note(
    double: Double, tmp_path: Path, main_version: str
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from gitlab_model_registry.backends.gitlab_notes import MergeRequestNotes
    from gitlab_model_registry.report_formats import marker

    settings = _settings(double, tmp_path)
    double.control.set_faults(latency_ms=300)  # both read the notes before either writes
    bodies = [f"{marker('m')}\nfrom pipeline {n}" for n in (1, 2)]
    with ThreadPoolExecutor(2) as pool:
        posted = list(
            pool.map(lambda b: MergeRequestNotes(settings).upsert(MR_IID, marker("m"), b), bodies)
        )
    double.control.set_faults(latency_ms=0)
    writes = [
        (r["method"], r["status"]) for r in double.control.requests() if "/notes" in r["path"]
    ]
    assert writes.count(("POST", 201)) == 2 and writes.count(("DELETE", 204)) == 1  # the race
    (note,) = _notes(double)
    assert {p.id for p in posted} == {note["id"]}
    assert note["body"] in bodies


def test_the_note_goes_to_the_jobs_project_when_the_registry_is_another(
    double: Double, tmp_path: Path
) -> None:
    double.control.add_merge_request(MR_IID, source_branch=f"feature-{MR_IID}")
    environ = ci_environ(double, **_mr_env())
    flags = Flags(token=environ.pop("GMR_TOKEN"), project="group/production")
    settings = Settings.resolve(flags, environ, tmp_path)
    (tmp_path / "w.bin").write_bytes(b"w")
    request = api.PublishRequest(model="m", paths=[str(tmp_path / "w.bin")], metrics={"a": 1.0})
    backend = settings.open_backend()
    published = api.publish(backend, request, settings.ci).model_version
    assert published is not None
    result = mr_report.run(
        settings,
        backend,
        mr_report.ReportRequest(model="m", version=published.version, merge_request="7"),
    )
    assert result.warnings == () and result.note_created
    assert len(_notes(double)) == 1  # on project 1, where the merge request is
