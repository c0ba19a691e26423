"""Signed models on the GitLab double: `publish --sign`, `download --verify`,
`promote --require-signature`, `show`, and interoperability with the `model_signing` CLI.

Keys are EC P-256, generated per test. Tampering goes through GitLab's own routes (the
ml_models upload route, the package-files API), so GitLab's sha256 describes the new bytes
and only the signature can tell. Every refusal is exit 5 with nothing written.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.gitlab_double.pytest_plugin import Double
from tests.integration.publish.conftest import Gmr

pytestmark = pytest.mark.integration
MODEL_SIGNING = [sys.executable, "-m", "model_signing"]


def make_keys(where: Path, name: str = "signer") -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    private = where / f"{name}.pem"
    public = where / f"{name}.pub.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    return make_keys(tmp_path)


@pytest.fixture
def signed(gmr: Gmr, model_dir: Path, keys: tuple[Path, Path]) -> dict[str, Any]:
    run = gmr(
        "publish", "iris", str(model_dir), "--version", "1.0.0", "--signing-key", str(keys[0])
    )
    assert run.code == 0, run.stderr
    assert "signed 3 file(s) as key:" in run.stderr
    return {"run": run}


def stored(double: Double, version: str, project_id: int = 1) -> dict[str, Any]:
    found = double.control.version("iris", version, project_id=project_id)
    assert found is not None
    return found


def upload(double: Double, version: str, name: str, body: bytes) -> None:
    """A file written through GitLab's ml_models upload route, as any token holder could."""
    mv = stored(double, version)
    url = f"{double.api_url}/projects/1/packages/ml_models/{mv['id']}/files/{name}"
    auth = {"Authorization": f"Bearer {double.developer_token}"}
    assert requests.put(url, data=body, headers=auth, timeout=10).status_code == 201


def delete_file(double: Double, version: str, name: str) -> None:
    mv = stored(double, version)
    base = f"{double.api_url}/projects/1/packages/{mv['package_id']}/package_files"
    auth = {"Authorization": f"Bearer {double.maintainer_token}"}  # GitLab: Maintainer deletes
    records = requests.get(base, headers=auth, timeout=10).json()
    doomed = next(r for r in records if r["file_name"].replace("%2F", "/") == name)
    assert requests.delete(f"{base}/{doomed['id']}", headers=auth, timeout=10).status_code == 204


def assert_nothing_written(cwd: Path, dest: str) -> None:
    assert not (cwd / dest).exists()
    assert not [p.name for p in cwd.iterdir() if p.name.startswith(f".{dest}.gmr-")]


def test_signed_publish_verifies_on_download_and_with_model_signing(
    gmr: Gmr, double: Double, signed: dict[str, Any], keys: tuple[Path, Path]
) -> None:
    mv = stored(double, "1.0.0")
    assert "model.sig" in {f["name"] for f in mv["files"]}
    assert mv["run"]["tags"]["gmr.signer"].startswith("key:")
    show = gmr("show", "iris", "1.0.0")
    assert f"signed: yes, by {mv['run']['tags']['gmr.signer']}" in show.stdout

    run = gmr("download", "iris", "1.0.0", "--dest", "out", "--public-key", str(keys[1]))

    assert run.code == 0, run.stderr
    assert "signature verified, signed by key:" in run.stdout
    out = gmr.cwd / "out"
    assert (out / "weights" / "layer 1.bin").is_file() and (out / "model.sig").is_file()
    cli = subprocess.run(
        [
            *MODEL_SIGNING,
            "verify",
            "key",
            str(out),
            "--signature",
            str(out / "model.sig"),
            "--public_key",
            str(keys[1]),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cli.returncode == 0, cli.stdout + cli.stderr


@pytest.mark.parametrize("tamper", ["replaced", "added", "removed", "other-key", "truncated"])
def test_tampered_versions_are_refused_with_nothing_written(
    gmr: Gmr, double: Double, signed: dict[str, Any], keys: tuple[Path, Path], tamper: str
) -> None:
    public = keys[1]
    if tamper == "replaced":
        upload(double, "1.0.0", "config.json", b'{"layers": 3}')
    elif tamper == "added":
        upload(double, "1.0.0", "extra.bin", b"unsigned")
    elif tamper == "removed":
        delete_file(double, "1.0.0", "config.json")
    elif tamper == "other-key":
        public = make_keys(gmr.cwd, "other")[1]
    else:
        sig = (gmr.cwd / "sig").with_suffix(".json")
        gmr("download", "iris", "1.0.0", "--dest", "whole")
        sig.write_bytes((gmr.cwd / "whole" / "model.sig").read_bytes()[:300])
        shutil.rmtree(gmr.cwd / "whole")
        upload(double, "1.0.0", "model.sig", sig.read_bytes())

    run = gmr("download", "iris", "1.0.0", "--dest", "out", "--public-key", str(public))

    assert run.code == 5, run.stderr
    assert len(run.stderr.strip().splitlines()[-1]) < 400
    assert_nothing_written(gmr.cwd, "out")
    expected = {
        "replaced": "config.json changed since signing",
        "added": "extra.bin not covered by the signature",
        "removed": "config.json signed but missing",
        "other-key": "the signature is not valid",
        "truncated": "the signature is not valid",
    }[tamper]
    assert expected in run.stderr


def test_promote_requires_and_carries_the_signature(
    gmr: Gmr, double: Double, signed: dict[str, Any], keys: tuple[Path, Path]
) -> None:
    upload(double, "1.0.0", "extra.bin", b"unsigned")
    refused = gmr("promote", "iris", "1.0.0", "--to", "2.0.0", "--public-key", str(keys[1]))
    assert refused.code == 5, refused.stderr
    assert double.control.version("iris", "2.0.0") is None

    again = {"CI_PIPELINE_ID": "501"}  # another pipeline: not a retry of the first publish
    published = gmr(
        "publish",
        "iris",
        str(gmr.cwd / "model"),
        "--version",
        "1.1.0",
        "--signing-key",
        str(keys[0]),
        env=again,
    )
    assert published.code == 0, published.stderr
    run = gmr(
        "promote",
        "iris",
        "1.1.0",
        "--to",
        "2.0.0",
        "--require-signature",
        "--public-key",
        str(keys[1]),
    )

    assert run.code == 0, run.stderr
    assert "signature: carried (model.sig, signed by key:" in run.stdout
    target = stored(double, "2.0.0")
    source = stored(double, "1.1.0")
    assert {f["name"]: f["sha256"] for f in target["files"]} == {
        f["name"]: f["sha256"] for f in source["files"]
    }
    assert target["run"]["tags"]["gmr.signer"] == source["run"]["tags"]["gmr.signer"]
    deployed = gmr("download", "iris", "2.0.0", "--dest", "prod", "--public-key", str(keys[1]))
    assert deployed.code == 0, deployed.stderr


def test_a_tree_signed_by_model_signing_verifies_with_gmr(
    gmr: Gmr, double: Double, model_dir: Path, keys: tuple[Path, Path]
) -> None:
    cli = subprocess.run(
        [
            *MODEL_SIGNING,
            "sign",
            "key",
            str(model_dir),
            "--private_key",
            str(keys[0]),
            "--signature",
            str(model_dir / "model.sig"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert gmr("publish", "iris", str(model_dir), "--version", "1.0.0").code == 0

    run = gmr(
        "download", "iris", "1.0.0", "--dest", "out", "--verify", "--public-key", str(keys[1])
    )

    assert run.code == 0, run.stderr
    assert "Downloaded iris 1.0.0: 4 file(s)" in run.stdout


def test_unsigned_version_fails_closed(gmr: Gmr, model_dir: Path, keys: tuple[Path, Path]) -> None:
    assert gmr("publish", "iris", str(model_dir), "--version", "1.0.0").code == 0

    run = gmr("download", "iris", "1.0.0", "--dest", "out", "--public-key", str(keys[1]))

    assert run.code == 5 and "is not signed" in run.stderr
    assert_nothing_written(gmr.cwd, "out")


def test_key_from_a_masked_variable_and_bad_signing_input(
    gmr: Gmr, double: Double, model_dir: Path, keys: tuple[Path, Path]
) -> None:
    encoded = base64.b64encode(keys[0].read_bytes()).decode()
    env = {"MODEL_SIGNING_KEY": encoded}
    ok = gmr(
        "publish", "iris", str(model_dir), "--signing-key-variable", "MODEL_SIGNING_KEY", env=env
    )
    assert ok.code == 0, ok.stderr
    assert encoded not in ok.stdout + ok.stderr

    keyless = gmr("publish", "iris", str(model_dir), "--sign")
    assert keyless.code == 2 and "SIGSTORE_ID_TOKEN is empty" in keyless.stderr
    not_a_key = gmr(
        "publish", "iris", str(model_dir), "--signing-key", str(model_dir / "config.json")
    )
    assert not_a_key.code == 2 and "not a usable PEM private key" in not_a_key.stderr
    (model_dir / "model.sig").write_text("{}")
    clash = gmr("publish", "iris", str(model_dir), "--signing-key", str(keys[0]))
    assert clash.code == 2 and "model.sig is among the files" in clash.stderr
    assert [v["version"] for v in double.control.model("iris")["versions"]] == ["1.0.0"]


def test_keyless_publish_up_to_the_network_boundary(
    gmr: Gmr, double: Double, model_dir: Path
) -> None:
    """Keyless signing as far as it goes offline: the token comes from SIGSTORE_ID_TOKEN (the
    component's `id_tokens`), the identity from CI variables, and the request to Sigstore
    fails. Not exercised here: Fulcio issuing the certificate, the Rekor entry, and keyless
    verification against Sigstore's trust root, which need sigstore.dev. The version stays
    incomplete, so readers never see it unsigned, and the token is never printed."""
    token = ".".join(
        base64.urlsafe_b64encode(part).rstrip(b"=").decode()
        for part in (b'{"alg":"RS256"}', b'{"iss":"https://gitlab.com","aud":"sigstore"}', b"sig")
    )
    env = {"SIGSTORE_ID_TOKEN": token, "CI_PROJECT_URL": f"{double.url}/{double.project_path}"}

    run = gmr("publish", "iris", str(model_dir), "--version", "1.0.0", "--sign", env=env)

    assert run.code == 3, run.stderr
    assert "keyless signing with Sigstore failed" in run.stderr
    assert token not in run.stdout + run.stderr
    assert gmr("download", "iris", "1.0.0", "--dest", "out").code != 0  # incomplete: not served
    assert_nothing_written(gmr.cwd, "out")
