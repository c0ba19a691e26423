"""Files as run artifacts (tree kept, sha256 recorded and verified) and run data via log_batch."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest

from gitlab_model_registry.backends.mlflow import MlflowBackend
from gitlab_model_registry.errors import ConflictError, IntegrityError
from gitlab_model_registry.models import ModelVersion, RemoteFile, RunData, UploadFile

# remote name -> content; '+' is refused in MLflow tag keys, a deep path and an empty file too
TREE = {
    "MLmodel": b"flavors: {}\n",
    "weights/a.bin": os.urandom(300_000),
    "weights/deep/er/b.bin": b"b" * 1024,
    "weights/c+d v2.bin": b"plus and space",
    "empty.txt": b"",
}


def _version(backend: MlflowBackend, model: str) -> ModelVersion:
    backend.create_model(model, "")
    return backend.create_version(model, "1.0.0", "", {})


def _upload_files(root: Path) -> list[UploadFile]:
    files = []
    for name, content in TREE.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        files.append(UploadFile(path, name, len(content)))
    return files


def _sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def test_tree_round_trips_with_sha256(
    mlflow_backend: MlflowBackend, unique_model: str, tmp_path: Path
) -> None:
    mv = _version(mlflow_backend, unique_model)
    seen: list[tuple[str, int, int]] = []
    lock = threading.Lock()

    def progress(name: str, done: int, total: int) -> None:
        with lock:
            seen.append((name, done, total))

    stored = mlflow_backend.upload(
        mv, _upload_files(tmp_path / "src"), concurrency=3, progress=progress
    )

    expected = {RemoteFile(n, len(c), _sha(c)) for n, c in TREE.items()}
    assert set(stored) == expected
    assert set(mlflow_backend.list_files(mv)) == expected
    assert {(n, len(c), len(c)) for n, c in TREE.items()} <= set(seen)

    dest = tmp_path / "dest"
    mlflow_backend.download(mv, mlflow_backend.list_files(mv), dest, concurrency=2)
    got = {p.relative_to(dest).as_posix(): p.read_bytes() for p in dest.rglob("*") if p.is_file()}
    assert got == TREE


def test_remote_name_differing_from_local_name(
    mlflow_backend: MlflowBackend, unique_model: str, tmp_path: Path
) -> None:
    mv = _version(mlflow_backend, unique_model)
    local = tmp_path / "model.pkl.tmp"
    local.write_bytes(b"pickled")
    mlflow_backend.upload(mv, [UploadFile(local, "model/model.pkl", 7)], concurrency=1)
    assert mlflow_backend.list_files(mv) == [RemoteFile("model/model.pkl", 7, _sha(b"pickled"))]


def test_download_refuses_bytes_that_do_not_match(
    mlflow_backend: MlflowBackend, unique_model: str, tmp_path: Path
) -> None:
    mv = _version(mlflow_backend, unique_model)
    mlflow_backend.upload(mv, _upload_files(tmp_path / "src"), concurrency=2)
    wrong = RemoteFile("weights/a.bin", 300_000, "0" * 64)
    with pytest.raises(IntegrityError, match="sha256"):
        mlflow_backend.download(mv, [wrong], tmp_path / "dest", concurrency=1)
    assert not (tmp_path / "dest" / "weights" / "a.bin").exists()
    assert list((tmp_path / "dest").iterdir()) == []  # no temp leftovers either


def test_download_refuses_names_leaving_the_destination(
    mlflow_backend: MlflowBackend, unique_model: str, tmp_path: Path
) -> None:
    mv = _version(mlflow_backend, unique_model)
    with pytest.raises(IntegrityError, match="leaves the destination"):
        mlflow_backend.download(mv, [RemoteFile("../x", 1)], tmp_path / "d", concurrency=1)


def test_run_data_round_trips_in_batches(mlflow_backend: MlflowBackend, unique_model: str) -> None:
    mv = _version(mlflow_backend, unique_model)
    data = RunData(
        params={f"p{i}": str(i) for i in range(250)},  # > 100 params per log_batch
        metrics={f"m{i}": i / 3 for i in range(1200)},  # > 1000 metrics per log_batch
        tags={f"t{i}": f"v{i}" for i in range(120)},
    )
    mlflow_backend.log_run_data(mv.run_id, data)
    mlflow_backend.log_run_data(mv.run_id, data)  # a retried job logs the same again
    got = mlflow_backend.get_run_data(mv.run_id)
    assert got.params == data.params
    assert got.metrics == data.metrics
    assert data.tags.items() <= got.tags.items()
    assert not [k for k in got.tags if k.startswith(("mlflow.", "gmr.sha256"))]


def test_changing_a_logged_param_is_a_conflict(
    mlflow_backend: MlflowBackend, unique_model: str
) -> None:
    mv = _version(mlflow_backend, unique_model)
    mlflow_backend.log_run_data(mv.run_id, RunData(params={"lr": "0.1"}, tags={"stage": "a"}))
    with pytest.raises(ConflictError, match="lr"):
        mlflow_backend.log_run_data(mv.run_id, RunData(params={"lr": "0.2"}))
    mlflow_backend.log_run_data(mv.run_id, RunData(params={"lr": "0.1"}, tags={"stage": "b"}))
    got = mlflow_backend.get_run_data(mv.run_id)
    assert got.params == {"lr": "0.1"} and got.tags["stage"] == "b"


def test_version_tags_are_on_its_run_too(mlflow_backend: MlflowBackend, unique_model: str) -> None:
    mlflow_backend.create_model(unique_model, "")
    mv = mlflow_backend.create_version(unique_model, "1.0.0", "", {"gitlab.CI_JOB_ID": "42"})
    assert mlflow_backend.get_run_data(mv.run_id).tags["gitlab.CI_JOB_ID"] == "42"


def test_embedded_registry_keeps_artifacts_under_the_artifact_root(
    sqlite_uri: str, unique_model: str, tmp_path: Path
) -> None:
    root = tmp_path / "mlartifacts"
    backend = MlflowBackend(sqlite_uri, artifact_root=str(root))
    mv = _version(backend, unique_model)
    backend.upload(mv, _upload_files(tmp_path / "src"), concurrency=2)
    stored = root / unique_model / mv.run_id / "artifacts"
    assert mv.package_url == stored.as_uri()
    assert (stored / "weights" / "deep" / "er" / "b.bin").read_bytes() == TREE[
        "weights/deep/er/b.bin"
    ]


def test_package_url_shows_where_the_files_are(
    mlflow_backend: MlflowBackend, unique_model: str
) -> None:
    mv = _version(mlflow_backend, unique_model)
    url = mlflow_backend.package_url(mv)
    if mlflow_backend.tracking_uri.startswith("http"):
        assert url.startswith(f"{mlflow_backend.tracking_uri}/#/experiments/")
        assert url.endswith(f"/runs/{mv.run_id}/artifacts")
    else:
        assert url.startswith("file:///") and url.endswith(f"/{mv.run_id}/artifacts")
