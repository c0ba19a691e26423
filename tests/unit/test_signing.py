"""The signing pieces that need no registry: statements over known digests, the coverage
rule, the keyless identity, and how the CLI turns flags and variables into a signer.

Keyless signing is exercised up to the network boundary only: the token is taken from
SIGSTORE_ID_TOKEN and the identity from CI variables here, and the request to Sigstore is left
to fail (no network in the tests; `test_signing.py` checks it fails closed). Fulcio's
certificate, the Rekor entry and keyless verification against Sigstore's trust root are not
exercised offline.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from gitlab_model_registry import signing
from gitlab_model_registry.cli._signing import signer, verifier
from gitlab_model_registry.errors import SignatureError, UsageError
from gitlab_model_registry.models import RemoteFile

pytestmark = pytest.mark.unit
FILES = [RemoteFile("weights/a.bin", 3, "a" * 64), RemoteFile("config.json", 2, "b" * 64)]


def pem_pair(curve: ec.EllipticCurve | None = None) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(curve or ec.SECP256R1())
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


def test_a_statement_over_known_digests_verifies_and_names_its_key(tmp_path: Path) -> None:
    private, public = pem_pair()
    bundle, who = signing.sign("iris", FILES, signing.key_signer(private))
    (tmp_path / "model.sig").write_bytes(bundle)

    signed = signing.verify(tmp_path / "model.sig", signing.key_verifier(public))

    assert signed.digests == {f.name: f.sha256 for f in FILES}
    assert signed.signer == who and who.startswith("key:")
    with pytest.raises(SignatureError, match="not valid"):
        signing.verify(tmp_path / "model.sig", signing.key_verifier(pem_pair()[1]))


def test_coverage_is_exact_and_reports_unknown_digests() -> None:
    signed = signing.Signed({"a": "1" * 64, "b": "2" * 64}, "key:x")
    assert signing.check_covers(signed, {"a": "1" * 64, "b": None, "model.sig": "s"}, "m") == ["b"]
    for files, problem in [
        ({"a": "1" * 64}, "b signed but missing"),
        ({"a": "1" * 64, "b": "2" * 64, "c": "3" * 64}, "c not covered"),
        ({"a": "9" * 64, "b": "2" * 64}, "a changed since signing"),
    ]:
        with pytest.raises(SignatureError, match=problem):
            signing.check_covers(signed, files, "m 1.0.0")


def test_nothing_is_signed_without_every_digest() -> None:
    with pytest.raises(SignatureError, match="no sha256 is known for x"):
        signing.sign("m", [RemoteFile("x", 1, None)], signing.key_signer(pem_pair()[0]))


def test_keys_are_checked_before_anything_remote(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not a usable PEM private key"):
        signing.key_signer(b"not a key")
    with pytest.raises(UsageError, match="P-256, P-384 or P-521"):
        signing.key_signer(pem_pair(ec.SECP256K1())[0])
    with pytest.raises(UsageError, match="not a PEM public key"):
        signing.key_verifier(pem_pair()[0])


@pytest.mark.parametrize(
    ("tag", "branch", "ref"), [("", "main", "refs/heads/main"), ("v1.2.0", "", "refs/tags/v1.2.0")]
)
def test_keyless_signer_from_the_job_token_and_ci_identity(tag: str, branch: str, ref: str) -> None:
    environ = {
        "SIGSTORE_ID_TOKEN": "eyJ.header.sig",
        "CI_PROJECT_URL": "https://gitlab.com/group/project",
        "CI_CONFIG_PATH": ".gitlab-ci.yml",
        "CI_COMMIT_TAG": tag,
        "CI_COMMIT_BRANCH": branch,
    }

    found = signer(True, None, None, environ)

    assert found is not None and found.identity_token == "eyJ.header.sig"
    assert found.identity == f"https://gitlab.com/group/project//.gitlab-ci.yml@{ref}"
    assert "eyJ" not in repr(found)
    with pytest.raises(UsageError, match="SIGSTORE_ID_TOKEN is empty"):
        signer(True, None, None, {**environ, "SIGSTORE_ID_TOKEN": ""})


def test_key_variable_holds_base64_or_pem(tmp_path: Path) -> None:
    private, _ = pem_pair()
    encoded = base64.b64encode(private).decode()
    for value in (encoded, private.decode()):
        found = signer(False, None, "KEY", {"KEY": value})
        assert found is not None and (found.key_pem or b"").strip() == private.strip()
    with pytest.raises(UsageError, match="not set or empty"):
        signer(False, None, "KEY", {})
    with pytest.raises(UsageError, match="neither a PEM key nor base64"):
        signer(False, None, "KEY", {"KEY": "!!"})
    (tmp_path / "k.pem").write_bytes(private)
    with pytest.raises(UsageError, match="exclusive"):
        signer(False, tmp_path / "k.pem", "KEY", {"KEY": encoded})
    assert signer(False, None, None, {"SIGSTORE_ID_TOKEN": "t"}) is None


def test_verification_needs_a_key_or_an_identity_and_issuer(tmp_path: Path) -> None:
    (tmp_path / "k.pub").write_bytes(pem_pair()[1])
    assert verifier(False, None, None, None) is None
    found = verifier(False, tmp_path / "k.pub", None, None)
    assert found is not None and found.public_key_pem
    keyless = verifier(
        False, None, "https://gitlab.com/g/p//.gitlab-ci.yml@refs/heads/main", "https://gitlab.com"
    )
    assert keyless is not None and keyless.issuer == "https://gitlab.com"
    for args in [
        (True, None, None, None),
        (False, None, "id", None),
        (False, tmp_path / "k.pub", "id", "i"),
    ]:
        with pytest.raises(UsageError):
            verifier(*args)
