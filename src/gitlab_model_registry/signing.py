"""Signed models in the OpenSSF model-signing format (PyPI ``model-signing``).

A signature is a Sigstore bundle holding a DSSE envelope over an in-toto statement whose
resources are every file's path and sha256 (``model_signing``'s "files" serialization, v1.0
predicate). It is built from the digests computed while uploading, so signing never reads a
file again, and it is stored as the file ``model.sig`` at the version's root, where
``model_signing verify`` finds it in a downloaded tree. Verification checks the bundle, then
that its resources are exactly the version's files (``model.sig`` aside) with the same sha256:
a file replaced, added or removed after signing fails, and so does any other key.

``model_signing`` and ``sigstore`` are imported only here and only when signing or verifying,
from the ``[signing]`` extra. The statement and signers are ``model_signing`` internals
(``model_signing._signing``, ``model_signing.manifest``, tested against 1.1.x): its public API
hashes a directory itself, which is the second read this module exists to avoid.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from gitlab_model_registry.errors import ConflictError, RegistryError, UsageError
from gitlab_model_registry.models import RemoteFile

#: The signature's name in a version (``model_signing``'s default file name).
SIGNATURE_FILE = "model.sig"
#: Run tag recording who signed the version (a key fingerprint or a keyless identity).
SIGNER_TAG = "gmr.signer"
#: The audience a GitLab ID token must carry for Sigstore (``id_tokens: … aud: sigstore``).
SIGSTORE_AUDIENCE = "sigstore"
_EXTRA_HINT = "install the signing extra: pip install 'gitlab-model-registry[signing]'"


class SignatureError(ConflictError):
    """A signature is missing, invalid, or does not cover the version's files (exit 5)."""


@dataclass(frozen=True)
class Signer:
    """How ``publish --sign`` signs: an EC private key (PEM) or a keyless identity token."""

    key_pem: bytes | None = field(default=None, repr=False)
    password: bytes | None = field(default=None, repr=False)
    identity_token: str | None = field(default=None, repr=False)
    #: Keyless: the identity Fulcio will certify (recorded as the signer).
    identity: str = ""


@dataclass(frozen=True)
class Verifier:
    """What a signature must be made with: a public key (PEM), or a keyless identity+issuer."""

    public_key_pem: bytes | None = None
    identity: str | None = None
    issuer: str | None = None


@dataclass(frozen=True)
class Signed:
    """A signature whose authenticity was checked: the digests it covers, and who made it."""

    digests: dict[str, str]
    signer: str


def key_signer(key_pem: bytes, password: bytes | None = None) -> Signer:
    """A key-based signer, checked now (before anything remote happens)."""
    _load_private_key(key_pem, password)
    return Signer(key_pem=key_pem, password=password)


def keyless_signer(identity_token: str, identity: str) -> Signer:
    if not identity_token.strip():
        raise UsageError(
            "keyless signing needs an OIDC identity token, and SIGSTORE_ID_TOKEN is empty",
            hint="declare `id_tokens: SIGSTORE_ID_TOKEN: aud: sigstore` in the job, "
            "or pass --signing-key",
        )
    _require_library()
    return Signer(identity_token=identity_token.strip(), identity=identity)


def key_verifier(public_key_pem: bytes) -> Verifier:
    _load_public_key(public_key_pem)
    return Verifier(public_key_pem=public_key_pem)


def keyless_identity(project_url: str, config_path: str, tag: str, branch: str) -> str:
    """The certificate identity GitLab's ID tokens give a job on Sigstore (its docs' form):
    ``<project URL>//<CI config path>@refs/heads/<branch>`` (``refs/tags/<tag>`` for tags)."""
    ref = f"refs/tags/{tag}" if tag else f"refs/heads/{branch}"
    return f"{project_url}//{config_path or '.gitlab-ci.yml'}@{ref}"


def key_fingerprint(public_key_pem_or_key: Any) -> str:
    """``model_signing``'s key hint: sha256 of the public key's SubjectPublicKeyInfo PEM."""
    from cryptography.hazmat.primitives import serialization

    pem = public_key_pem_or_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(pem).hexdigest()


def sign(model: str, files: Sequence[RemoteFile], signer: Signer) -> tuple[bytes, str]:
    """The signature (bundle JSON) over ``files``' known sha256, and the signer's description."""
    _require_library()
    from model_signing import manifest
    from model_signing._hashing import hashing
    from model_signing._signing import signing

    unknown = [f.name for f in files if not f.sha256]
    if unknown:
        raise SignatureError(f"no sha256 is known for {', '.join(unknown[:3])}; nothing signed")
    items = [
        manifest.FileManifestItem(
            path=PurePosixPath(f.name), digest=hashing.Digest("sha256", bytes.fromhex(f.sha256))
        )
        for f in files
        if f.sha256
    ]
    serialization = manifest._FileSerialization(
        "sha256", allow_symlinks=False, ignore_paths=[Path(SIGNATURE_FILE)]
    )
    payload = signing.Payload(manifest.Manifest(model, items, serialization))
    if signer.key_pem is not None:
        key = _load_private_key(signer.key_pem, signer.password)
        bundle = _ec_signer(key).sign(payload)
        return bundle.bundle.to_json().encode(), f"key:{key_fingerprint(key.public_key())}"
    return _sign_keyless(payload, signer), signer.identity


def verify(bundle: bytes, verifier: Verifier) -> Signed:
    """Check the signature's authenticity; returns the digests it covers. Reads no model file."""
    _require_library()
    with tempfile.TemporaryDirectory(prefix="gmr-sig-") as tmp:
        path = Path(tmp) / SIGNATURE_FILE
        path.write_bytes(bundle)
        if verifier.public_key_pem is not None:
            return _verify_key(path, verifier.public_key_pem)
        return _verify_keyless(path, verifier)


def check_covers(signed: Signed, files: Mapping[str, str | None], what: str) -> list[str]:
    """Fail unless the signature covers exactly ``files`` (name -> sha256, ``model.sig``
    aside) with the same digests; returns the names whose sha256 is not known yet."""
    names = {n for n in files if n != SIGNATURE_FILE}
    removed = sorted(set(signed.digests) - names)
    unsigned = sorted(names - set(signed.digests))
    differing = sorted(
        n for n in names & set(signed.digests) if files[n] and files[n] != signed.digests[n]
    )
    for problem, found in (
        ("signed but missing", removed),
        ("not covered by the signature", unsigned),
        ("changed since signing (sha256 differs)", differing),
    ):
        if found:
            raise SignatureError(
                f"signature check failed for {what}: {_some(found)} {problem}",
                hint="nothing was written; use a version whose files are exactly those signed",
            )
    return sorted(n for n in names if not files[n])


def _some(names: Sequence[str]) -> str:
    return ", ".join(names[:3]) + (f" (and {len(names) - 3} more)" if len(names) > 3 else "")


def _require_library() -> None:
    try:
        import model_signing  # noqa: F401
    except ImportError:
        raise UsageError("signing needs the model-signing library", hint=_EXTRA_HINT) from None


def _load_private_key(pem: bytes, password: bytes | None) -> Any:
    _require_library()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        key = serialization.load_pem_private_key(pem, password)
    except (ValueError, TypeError) as error:
        reason = "it is encrypted" if "password" in type(error).__name__.lower() else "unreadable"
        raise UsageError(
            f"the signing key is not a usable PEM private key ({reason})",
            hint="pass an unencrypted EC private key in PEM (e.g. `openssl ecparam -genkey "
            "-name prime256v1 -noout`), or its password",
        ) from None
    _check_curve(key, ec)
    return key


def _load_public_key(pem: bytes) -> Any:
    _require_library()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError:
        raise UsageError(
            "the public key is not a PEM public key",
            hint="pass the signer's EC public key in PEM (`openssl ec -pubout`)",
        ) from None
    _check_curve(key, ec)
    return key


def _check_curve(key: Any, ec: Any) -> None:
    curve = getattr(key, "curve", None)
    if not isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) or (
        curve is not None and curve.name not in ("secp256r1", "secp384r1", "secp521r1")
    ):
        raise UsageError(
            "the key is not an elliptic-curve key on P-256, P-384 or P-521",
            hint="model-signing signs with EC keys only; generate one with "
            "`openssl ecparam -genkey -name prime256v1 -noout`",
        )


def _ec_signer(key: Any) -> Any:
    """``model_signing``'s EC signer given a loaded key rather than a file: the key may come
    from a masked variable and is never written to disk."""
    from model_signing._signing import sign_ec_key

    signer = sign_ec_key.Signer.__new__(sign_ec_key.Signer)
    signer._private_key = key
    return signer


def _verify_key(path: Path, public_key_pem: bytes) -> Signed:
    from model_signing._signing import sign_ec_key, sign_sigstore_pb

    key = _load_public_key(public_key_pem)
    verifier = sign_ec_key.Verifier.__new__(sign_ec_key.Verifier)
    verifier._public_key = key
    try:
        expected = verifier.verify(sign_sigstore_pb.Signature.read(path))
    except Exception as error:  # any parse or crypto failure means: not verified
        raise _invalid(error) from None
    return Signed(_digests(expected), f"key:{key_fingerprint(key)}")


def _verify_keyless(path: Path, verifier: Verifier) -> Signed:
    from model_signing._signing import sign_sigstore

    if not (verifier.identity and verifier.issuer):
        raise UsageError(
            "verifying needs --public-key, or both --identity and --issuer",
            hint="e.g. --identity 'https://gitlab.com/g/p//.gitlab-ci.yml@refs/heads/main' "
            "--issuer https://gitlab.com",
        )
    try:
        signature = sign_sigstore.Signature.read(path)
    except Exception as error:
        raise _invalid(error) from None
    try:
        checker = sign_sigstore.Verifier(identity=verifier.identity, oidc_issuer=verifier.issuer)
    except Exception as error:  # the trust root comes from Sigstore's TUF repository
        raise RegistryError(
            f"could not load Sigstore's trust root ({type(error).__name__})",
            hint="keyless verification needs https://tuf-repo-cdn.sigstore.dev; "
            "nothing was written",
        ) from None
    try:
        expected = checker.verify(signature)
    except Exception as error:
        raise _invalid(error) from None
    return Signed(_digests(expected), verifier.identity)


def _sign_keyless(payload: Any, signer: Signer) -> bytes:
    from model_signing._signing import sign_sigstore

    try:
        signature = sign_sigstore.Signer(identity_token=signer.identity_token).sign(payload)
    except Exception as error:
        raise RegistryError(
            f"keyless signing with Sigstore failed ({type(error).__name__})",
            hint="it needs Fulcio and Rekor (sigstore.dev) and a fresh SIGSTORE_ID_TOKEN "
            "with aud: sigstore; nothing was signed",
        ) from None
    with tempfile.TemporaryDirectory(prefix="gmr-sig-") as tmp:
        path = Path(tmp) / SIGNATURE_FILE
        signature.write(path)
        return path.read_bytes()


def _invalid(error: Exception) -> SignatureError:
    reason = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
    return SignatureError(
        f"the signature is not valid: {reason}",
        hint="nothing was written; check --public-key (or --identity/--issuer) and the version",
    )


def _digests(expected: Any) -> dict[str, str]:
    digests: dict[str, str] = {}
    for resource in expected.resource_descriptors():
        if resource.digest.algorithm != "sha256":
            raise SignatureError(
                f"the signature uses {resource.digest.algorithm} digests",
                hint="gmr verifies sha256 signatures (model_signing's default); "
                "re-sign with --hash_method sha256",
            )
        digests[resource.identifier] = resource.digest.digest_hex
    return digests
