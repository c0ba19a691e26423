"""GitLab-specific publish scenarios against the double (the shared ones are in ../scenarios)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.gitlab_double.pytest_plugin import Double
from tests.integration.publish.conftest import (
    Gmr,
    Run,
    assert_no_secret,
    ci_environ,
    clean_environ,
    seed_versions,
)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_new_model_is_created_with_version_files_and_ci_link(
    gmr: Gmr, double: Double, model_dir: Path
) -> None:
    run = gmr("publish", "iris", str(model_dir), "--dotenv", "model.env")

    assert run.code == 0, run.stderr
    version = double.control.version("iris", "1.0.0")
    assert version is not None
    files = {f["name"]: f for f in version["files"]}
    assert set(files) == {"config.json", "weights/layer 1.bin", "weights/layer+2.bin"}
    for name, stored in files.items():
        assert stored["sha256"] == sha256(model_dir / name)
        assert stored["size"] == (model_dir / name).stat().st_size
    assert version["ci_job_id"] == double.job_id
    assert version["run"]["tags"]["ci.pipeline_id"] == "500"
    assert "publish-model" in version["description"]
    assert run.stdout.strip().splitlines()[-1].strip().startswith(double.url)
    dotenv = dict(line.split("=", 1) for line in (gmr.cwd / "model.env").read_text().splitlines())
    assert dotenv["MODEL_NAME"] == "iris"
    assert dotenv["MODEL_VERSION"] == "1.0.0"
    assert dotenv["MODEL_VERSION_ID"] == str(version["id"])
    assert dotenv["MODEL_PACKAGE_URL"].startswith(f"{double.url}/{double.project_path}/-/packages/")


def test_many_params_are_sent_in_batches(gmr: Gmr, double: Double, model_dir: Path) -> None:
    (gmr.cwd / "params.json").write_text(json.dumps({f"p{i}": i for i in range(250)}))

    run = gmr("publish", "iris", str(model_dir), "--params-file", "params.json")

    assert run.code == 0, run.stderr
    assert len(double.control.version("iris", "1.0.0")["run"]["params"]) == 250
    batches = [r for r in double.control.requests() if r["path"].endswith("runs/log-batch")]
    assert len(batches) == 3


def test_rerun_of_the_same_job_uploads_no_byte(gmr: Gmr, double: Double, model_dir: Path) -> None:
    first = gmr("publish", "iris", str(model_dir), "--param", "lr=0.1", "--json")
    puts_before = [r for r in double.control.requests() if r["method"] == "PUT"]

    retry = gmr("publish", "iris", str(model_dir), "--param", "lr=0.1", "--json")

    assert first.code == 0 and retry.code == 0, retry.stderr
    assert retry.json["version"] == first.json["version"] == "1.0.0"
    assert retry.json["uploaded"] == [] and len(retry.json["skipped"]) == 3
    assert [r for r in double.control.requests() if r["method"] == "PUT"] == puts_before
    assert len(double.control.model("iris")["versions"]) == 1


def test_faults_of_every_kind_still_give_one_verified_version(
    gmr: Gmr, double: Double, tmp_path: Path
) -> None:
    tree = tmp_path / "many"
    for i in range(30):
        (tree / f"shard-{i % 3}").mkdir(parents=True, exist_ok=True)
        (tree / f"shard-{i % 3}" / f"part-{i}.bin").write_bytes(os.urandom(20_000 + i))
    double.control.set_faults(
        latency_ms=20, fault_rate=0.25, fault_statuses=[500, 502, 503, 429], drop_rate=0.25, seed=5
    )

    run = gmr("publish", "iris", str(tree), "--json", "--concurrency", "6")

    assert run.code == 0, run.stderr
    version = double.control.version("iris", "1.0.0")
    stored = {f["name"]: f["sha256"] for f in version["files"]}
    local = {p.relative_to(tree).as_posix(): sha256(p) for p in tree.rglob("*.bin")}
    assert stored == local
    assert len(double.control.model("iris")["versions"]) == 1
    statuses = {r["status"] for r in double.control.requests()}
    assert {0, 429} <= statuses and statuses & {500, 502, 503}


def test_rerun_of_the_same_job_completes_the_same_version(
    gmr: Gmr, double: Double, model_dir: Path
) -> None:
    first = gmr("publish", "iris", str(model_dir), "--json")
    (model_dir / "extra.txt").write_text("added before the retry")

    retry = gmr("publish", "iris", str(model_dir), "--json")

    assert first.code == 0 and retry.code == 0, retry.stderr
    assert retry.json["version"] == first.json["version"] == "1.0.0"
    assert retry.json["resumed"] is True
    assert len(retry.json["skipped"]) == 3 and [f["name"] for f in retry.json["uploaded"]] == [
        "extra.txt"
    ]
    assert len(double.control.model("iris")["versions"]) == 1


def test_another_pipeline_publishes_a_new_version(
    gmr: Gmr, double: Double, model_dir: Path
) -> None:
    gmr("publish", "iris", str(model_dir))

    run = gmr("publish", "iris", str(model_dir), "--json", env={"CI_PIPELINE_ID": "501"})

    assert run.json["version"] == "1.0.1"


def test_upload_uses_the_job_token_in_ci_and_the_api_token_on_request(
    gmr: Gmr, double: Double, model_dir: Path
) -> None:
    gmr("publish", "iris", str(model_dir / "config.json"))
    gmr(
        "publish",
        "iris",
        str(model_dir / "config.json"),
        "--upload-token",
        "api",
        env={"CI_PIPELINE_ID": "9"},
    )

    puts = [r for r in double.control.requests() if r["method"] == "PUT"]
    assert [r["credential"] for r in puts] == ["bearer", "bearer"]
    assert all(
        r["credential"] == "bearer" for r in double.control.requests() if "/ml/mlflow/" in r["path"]
    )


def test_a_netrc_for_the_gitlab_host_does_not_replace_the_token(
    gmr: Gmr, double: Double, model_dir: Path, tmp_path: Path
) -> None:
    # requests lets ~/.netrc override an Authorization header (git users often keep one).
    home = tmp_path / "home"
    home.mkdir()
    (home / ".netrc").write_text("machine 127.0.0.1 login someone password not-for-gmr\n")
    (home / ".netrc").chmod(0o600)

    run = gmr("publish", "iris", str(model_dir), env={"HOME": str(home)})

    assert run.code == 0, run.stderr
    sent = {r["credential"] for r in double.control.requests()}
    assert sent == {"bearer"}, sent


def test_publish_off_ci_with_flags(gmr: Gmr, double: Double, model_dir: Path) -> None:
    run = gmr(
        "publish",
        "iris",
        str(model_dir),
        "--gitlab-url",
        double.url,
        "--project",
        double.project_path,
        "--token",
        double.developer_token,
        ci=False,
    )

    assert run.code == 0, run.stderr
    version = double.control.version("iris", "1.0.0")
    assert version["ci_job_id"] is None
    assert len(version["files"]) == 3


def test_tracking_uri_of_gitlab_selects_gitlab(gmr: Gmr, double: Double, model_dir: Path) -> None:
    env = {
        "MLFLOW_TRACKING_URI": double.tracking_uri(),
        "MLFLOW_TRACKING_TOKEN": double.developer_token,
    }

    run = gmr("publish", "iris", str(model_dir), ci=False, env=env)

    assert run.code == 0, run.stderr
    assert double.control.version("iris", "1.0.0") is not None


def test_files_from_gmr_files_json_array(gmr: Gmr, double: Double, model_dir: Path) -> None:
    env = {
        "GMR_MODEL": "iris",
        "GMR_FILES": json.dumps([str(model_dir / "weights"), str(model_dir / "config.json")]),
    }

    run = gmr("publish", env=env)

    assert run.code == 0, run.stderr
    names = {f["name"] for f in double.control.version("iris", "1.0.0")["files"]}
    assert names == {"layer 1.bin", "layer+2.bin", "config.json"}


def test_eight_concurrent_publishers_get_distinct_consecutive_versions(
    gmr: Gmr, double: Double, model_dir: Path
) -> None:
    seed_versions(double, "iris", ["1.0.0"])
    procs = [
        gmr.start(
            "publish",
            "iris",
            str(model_dir / "config.json"),
            "--bump",
            "patch",
            "--json",
            env={"CI_PIPELINE_ID": str(600 + i)},
        )
        for i in range(8)
    ]
    outputs = [proc.communicate(timeout=180) for proc in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert_no_secret(Run(proc.returncode, out, err))

    assert [p.returncode for p in procs] == [0] * 8, [err for _, err in outputs]
    versions = sorted(json.loads(out)["version"] for out, _ in outputs)
    assert versions == sorted(f"1.0.{n}" for n in range(1, 9))


def test_publishing_to_gitlab_never_imports_mlflow(double: Double, model_dir: Path) -> None:
    probe = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('mlflow loaded:', any(m.split('.')[0] == 'mlflow' "
        "for m in sys.modules), file=sys.stderr))\n"
        "from gitlab_model_registry.cli import main\n"
        f"main(['publish', 'iris', {str(model_dir)!r}])\n"
    )
    environ = clean_environ() | ci_environ(double)

    proc = subprocess.run(
        [sys.executable, "-c", probe], env=environ, capture_output=True, text=True, timeout=120
    )

    assert proc.returncode == 0, proc.stderr
    assert "mlflow loaded: False" in proc.stderr
    assert double.control.version("iris", "1.0.0") is not None


def test_vcs_folders_and_excluded_files_are_left_out_and_the_plan_says_so(
    gmr: Gmr, double: Double, model_dir: Path
) -> None:
    (model_dir / ".git").mkdir()
    (model_dir / ".git" / "HEAD").write_text("ref: refs/heads/main")
    (model_dir / "notes.tmp").write_text("scratch")
    (model_dir / "keep.tmp").write_text("kept")
    env = {"GMR_EXCLUDE": '["*.tmp"]', "GMR_INCLUDE": "keep.tmp"}  # as the component passes them

    dry = gmr("publish", "iris", str(model_dir), "--dry-run", "--json", env=env)
    run = gmr("publish", "iris", str(model_dir), env=env)

    assert dry.code == 0 and run.code == 0, run.stderr
    # With an --include, folders are read file by file (an included name may be inside).
    assert sorted(dry.json["left_out"]) == [".git/HEAD", "notes.tmp"]
    assert "left out: .git/HEAD, notes.tmp" in run.stderr
    plain = gmr("publish", "iris", str(model_dir), "--dry-run", "--json")
    assert sorted(plain.json["left_out"]) == [".git/"]
    version = double.control.version("iris", "1.0.0")
    assert version is not None
    assert sorted(f["name"] for f in version["files"]) == [
        "config.json",
        "keep.tmp",
        "weights/layer 1.bin",
        "weights/layer+2.bin",
    ]
