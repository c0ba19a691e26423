"""Signed models in the OpenSSF model-signing format (PyPI ``model-signing``).

A signature is a Sigstore bundle holding a DSSE envelope over an in-toto statement whose
resources are every file's path and sha256 (``model_signing``'s "files" serialization, v1.0
predicate). It is built from the digests verified while uploading, so signing never reads a
file again, and it is stored as the file ``model.sig`` at the version's root, where
``model_signing verify`` finds it in a downloaded tree. The signer (``key:<fingerprint>`` or
the keyless identity) is recorded as the run tag ``gmr.signer``.

Verification checks the bundle against ``--public-key`` (or ``--identity``/``--issuer``), then
that its resources are exactly the version's files, ``model.sig`` aside, with the registry's
sha256 for each: a file replaced (even through GitLab's own upload route, whose sha256 then
matches the new bytes), added or removed after signing fails, and so does any other key.
It runs before any file is downloaded or copied; the download then checks every byte against
the same sha256. Failures are ``SignatureError`` (exit 5) and leave nothing written.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gitlab_model_registry import _model_signing as lib
from gitlab_model_registry.backends import Backend
from gitlab_model_registry.errors import SignatureError, UsageError
from gitlab_model_registry.files import sha256_file
from gitlab_model_registry.models import ModelVersion, RemoteFile, UploadFile

__all__ = ["SIGNATURE_FILE", "SIGNER_TAG", "SignatureError", "Signed", "Signer", "Verifier"]

#: The signature's name in a version (``model_signing``'s default file name).
SIGNATURE_FILE = "model.sig"
#: Run tag recording who signed the version (a key fingerprint or a keyless identity).
SIGNER_TAG = "gmr.signer"


@dataclass(frozen=True)
class Signer:
    """How ``publish --sign`` signs: an EC private key (PEM) or a keyless identity token."""

    key_pem: bytes | None = field(default=None, repr=False)
    password: bytes | None = field(default=None, repr=False)
    identity_token: str | None = field(default=None, repr=False)
    #: Keyless: the identity Fulcio certifies for this job (recorded as the signer).
    identity: str = ""


@dataclass(frozen=True)
class Verifier:
    """What a signature must be made with: a public key (PEM), or a keyless identity+issuer."""

    public_key_pem: bytes | None = None
    identity: str = ""
    issuer: str = ""


@dataclass(frozen=True)
class Signed:
    """A signature whose authenticity was checked: the digests it covers, and who made it."""

    digests: dict[str, str]
    signer: str


def key_signer(key_pem: bytes, password: bytes | None = None) -> Signer:
    """A key-based signer, checked now (before anything remote happens)."""
    lib.load_private_key(key_pem, password)
    return Signer(key_pem=key_pem, password=password)


def keyless_signer(identity_token: str, identity: str) -> Signer:
    """A keyless signer from the job's ID token (``SIGSTORE_ID_TOKEN``)."""
    if not identity_token.strip():
        raise UsageError(
            "keyless signing needs an OIDC identity token, and SIGSTORE_ID_TOKEN is empty",
            hint="declare `id_tokens: {SIGSTORE_ID_TOKEN: {aud: sigstore}}` in the job, "
            "or pass --signing-key",
        )
    lib.require_library()
    return Signer(identity_token=identity_token.strip(), identity=identity)


def key_verifier(public_key_pem: bytes) -> Verifier:
    lib.load_public_key(public_key_pem)
    return Verifier(public_key_pem=public_key_pem)


def keyless_verifier(identity: str, issuer: str) -> Verifier:
    if not (identity and issuer):
        raise UsageError(
            "verifying needs --public-key, or both --identity and --issuer",
            hint="e.g. --identity 'https://gitlab.com/g/p//.gitlab-ci.yml@refs/heads/main' "
            "--issuer https://gitlab.com",
        )
    lib.require_library()
    return Verifier(identity=identity, issuer=issuer)


def keyless_identity(project_url: str, config_path: str, tag: str, branch: str) -> str:
    """The certificate identity Sigstore gives a GitLab job (GitLab's signing docs):
    ``<project URL>//<CI config path>@refs/heads/<branch>`` (``refs/tags/<tag>`` for tags)."""
    ref = f"refs/tags/{tag}" if tag else f"refs/heads/{branch}"
    return f"{project_url}//{config_path or '.gitlab-ci.yml'}@{ref}"


def sign(model: str, files: Sequence[RemoteFile], signer: Signer) -> tuple[bytes, str]:
    """The signature (bundle JSON) over ``files``' known sha256, and the signer's description."""
    lib.require_library()
    unknown = [f.name for f in files if not f.sha256]
    if unknown:
        raise SignatureError(f"no sha256 is known for {_some(unknown)}; nothing was signed")
    statement = lib.payload(model, {f.name: str(f.sha256) for f in files}, SIGNATURE_FILE)
    if signer.key_pem is not None:
        key = lib.load_private_key(signer.key_pem, signer.password)
        return lib.sign_with_key(statement, key), f"key:{lib.fingerprint(key)}"
    return lib.sign_keyless(statement, str(signer.identity_token)), signer.identity


def verify(bundle: Path, verifier: Verifier) -> Signed:
    """Check the signature file's authenticity; returns the digests it covers."""
    lib.require_library()
    if verifier.public_key_pem is not None:
        key = lib.load_public_key(verifier.public_key_pem)
        return Signed(lib.verify_with_key(bundle, key), f"key:{lib.fingerprint(key)}")
    checked = keyless_verifier(verifier.identity, verifier.issuer)
    return Signed(lib.verify_keyless(bundle, checked.identity, checked.issuer), checked.identity)


def check_covers(signed: Signed, files: Mapping[str, str | None], what: str) -> list[str]:
    """Fail unless the signature covers exactly ``files`` (name -> sha256, ``model.sig``
    aside) with the same digests; returns the names whose sha256 the registry did not know."""
    names = {n for n in files if n != SIGNATURE_FILE}
    signed_names = set(signed.digests)
    changed = [n for n in names & signed_names if files[n] and files[n] != signed.digests[n]]
    for problem, found in (
        ("signed but missing", signed_names - names),
        ("not covered by the signature", names - signed_names),
        ("changed since signing (sha256 differs)", changed),
    ):
        if found:
            raise SignatureError(
                f"signature check failed for {what}: {_some(sorted(found))} {problem}",
                hint="nothing was written; use a version whose files are exactly those signed",
            )
    return sorted(n for n in names if not files[n])


def sign_version(
    backend: Backend, mv: ModelVersion, stored: Sequence[RemoteFile], signer: Signer
) -> str:
    """Sign the digests verified while uploading (no file is read again); store ``model.sig``."""
    bundle, who = sign(mv.model, stored, signer)
    with tempfile.TemporaryDirectory(prefix="gmr-sign-") as tmp:
        path = Path(tmp) / SIGNATURE_FILE
        path.write_bytes(bundle)
        backend.upload(mv, [UploadFile(path, SIGNATURE_FILE, len(bundle))], concurrency=1)
    return who


def verify_version(
    backend: Backend,
    mv: ModelVersion,
    files: Sequence[RemoteFile],
    verifier: Verifier,
    where: Path,
) -> tuple[Signed, list[str]]:
    """Fetch the version's ``model.sig`` into ``where`` and check it covers ``files``; returns
    it and the names to check after download (those the registry has no sha256 for)."""
    what = f"{mv.model} {mv.version}"
    signature = next((f for f in files if f.name == SIGNATURE_FILE), None)
    if signature is None:
        raise SignatureError(
            f"{what} is not signed (it has no {SIGNATURE_FILE})",
            hint="nothing was written; publish it with --sign, or drop the signature check",
        )
    backend.download(mv, [signature], where, concurrency=1)
    signed = verify(where / SIGNATURE_FILE, verifier)
    return signed, check_covers(signed, {f.name: f.sha256 for f in files}, what)


def check_downloaded(signed: Signed, root: Path, names: Sequence[str], what: str) -> None:
    """The files the registry had no sha256 for, hashed where they were downloaded."""
    digests: dict[str, str | None] = {n: signed.digests.get(n) for n in signed.digests}
    digests |= {n: sha256_file(root / n) for n in names}
    check_covers(signed, digests, what)


def _some(names: Sequence[str]) -> str:
    return ", ".join(names[:3]) + (f" (and {len(names) - 3} more)" if len(names) > 3 else "")
