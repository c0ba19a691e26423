"""The adapter to the ``model-signing`` library (the ``[signing]`` extra), imported lazily.

The statement and signers used here are ``model_signing`` internals (``model_signing._signing``,
``model_signing.manifest``; tested against 1.1.x): its public API hashes a directory itself,
which is the second read of every file that ``signing`` exists to avoid. Only this module
imports ``model_signing``, ``sigstore`` and ``cryptography``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import tempfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from gitlab_model_registry.errors import RegistryError, SignatureError, UsageError

_EXTRA_HINT = "install the signing extra: pip install 'gitlab-model-registry[signing]'"
_CURVES = ("secp256r1", "secp384r1", "secp521r1")


def require_library() -> None:
    try:
        import model_signing  # noqa: F401
    except ImportError:
        raise UsageError("signing needs the model-signing library", hint=_EXTRA_HINT) from None


def load_private_key(pem: bytes, password: bytes | None) -> Any:
    require_library()
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_pem_private_key(pem, password)
    except (ValueError, TypeError):
        raise UsageError(
            "the signing key is not a usable PEM private key (unreadable, or encrypted)",
            hint="pass an EC private key in PEM (`openssl ecparam -genkey -name prime256v1 "
            "-noout`), with its password if it has one",
        ) from None
    _check_curve(key)
    return key


def load_public_key(pem: bytes) -> Any:
    require_library()
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError:
        raise UsageError(
            "the public key is not a PEM public key",
            hint="pass the signer's EC public key in PEM (`openssl ec -pubout`)",
        ) from None
    _check_curve(key)
    return key


def _check_curve(key: Any) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    usable = (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)
    if not isinstance(key, usable) or key.curve.name not in _CURVES:
        raise UsageError(
            "the key is not an elliptic-curve key on P-256, P-384 or P-521",
            hint="model-signing signs with EC keys; generate one with "
            "`openssl ecparam -genkey -name prime256v1 -noout`",
        )


def fingerprint(key: Any) -> str:
    """``model_signing``'s key hint: sha256 of the public key's SubjectPublicKeyInfo PEM."""
    from cryptography.hazmat.primitives import serialization

    public = key.public_key() if hasattr(key, "public_key") else key
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(pem).hexdigest()


def payload(model: str, digests: Mapping[str, str], ignore: str) -> Any:
    """The in-toto statement (v1.0 predicate, "files" serialization) over known digests."""
    from model_signing import manifest
    from model_signing._hashing import hashing
    from model_signing._signing import signing

    items = [
        manifest.FileManifestItem(
            path=PurePosixPath(name), digest=hashing.Digest("sha256", bytes.fromhex(digest))
        )
        for name, digest in digests.items()
    ]
    serialization = manifest._FileSerialization("sha256", False, [Path(ignore)])
    return signing.Payload(manifest.Manifest(model, items, serialization))


def sign_with_key(statement: Any, key: Any) -> bytes:
    """A Sigstore bundle (DSSE over the statement) signed by ``key``; the key stays in memory."""
    from model_signing._signing import sign_ec_key

    signer = sign_ec_key.Signer.__new__(sign_ec_key.Signer)  # its __init__ reads a key file
    signer._private_key = key
    bundle: Any = signer.sign(statement)
    return str(bundle.bundle.to_json()).encode()


def sign_keyless(statement: Any, identity_token: str) -> bytes:
    """A bundle from Sigstore's public instance (Fulcio certificate, Rekor entry)."""
    from model_signing._signing import sign_sigstore

    try:
        signature = sign_sigstore.Signer(identity_token=identity_token).sign(statement)
    except Exception as error:  # network, token and service errors alike: nothing was signed
        raise RegistryError(
            f"keyless signing with Sigstore failed ({type(error).__name__})",
            hint="it needs Fulcio and Rekor (sigstore.dev) and a fresh SIGSTORE_ID_TOKEN "
            "with aud: sigstore; nothing was signed",
        ) from None
    with tempfile.TemporaryDirectory(prefix="gmr-sig-") as tmp:
        path = Path(tmp) / "model.sig"
        signature.write(path)
        return path.read_bytes()


def verify_with_key(bundle: Path, public_key: Any) -> dict[str, str]:
    """The digests a key-signed bundle covers, once its signature checks with ``public_key``."""
    from model_signing._signing import sign_ec_key, sign_sigstore_pb

    verifier = sign_ec_key.Verifier.__new__(sign_ec_key.Verifier)  # its __init__ reads a file
    verifier._public_key = public_key
    try:  # it prints a warning on stdout for old bundles; stdout carries only our result
        with contextlib.redirect_stdout(io.StringIO()):
            return _digests(verifier.verify(sign_sigstore_pb.Signature.read(bundle)))
    except SignatureError:
        raise
    except Exception as error:  # any parse or crypto failure means: not verified
        raise invalid(error) from None


def verify_keyless(bundle: Path, identity: str, issuer: str) -> dict[str, str]:
    """The digests a Sigstore bundle covers, once its certificate names ``identity``/``issuer``."""
    from model_signing._signing import sign_sigstore

    try:
        signature = sign_sigstore.Signature.read(bundle)
    except Exception as error:
        raise invalid(error) from None
    try:
        checker = sign_sigstore.Verifier(identity=identity, oidc_issuer=issuer)
    except Exception as error:  # the trust root comes from Sigstore's TUF repository
        raise RegistryError(
            f"could not load Sigstore's trust root ({type(error).__name__})",
            hint="keyless verification needs https://tuf-repo-cdn.sigstore.dev; nothing was written",
        ) from None
    try:
        return _digests(checker.verify(signature))
    except SignatureError:
        raise
    except Exception as error:
        raise invalid(error) from None


def invalid(error: Exception) -> SignatureError:
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
                hint="gmr verifies sha256 signatures (model_signing's default hash)",
            )
        digests[resource.identifier] = resource.digest.digest_hex
    return digests
