"""The signing options: ``publish --sign`` and the verification of ``download``/``promote``.

Key material is read here, once, and handed to the library as bytes; its value never reaches
a message. A key from a masked CI variable is base64 of the PEM (GitLab masks only one-line
values); a PEM kept in a File-type variable is passed with ``--signing-key "$VAR"``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from pathlib import Path

import click

from gitlab_model_registry import signing
from gitlab_model_registry.cli._context import F, option
from gitlab_model_registry.errors import UsageError

KEY_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def sign_options(command: F) -> F:
    options = [
        option(
            "--sign",
            is_flag=True,
            envvar="GMR_SIGN",
            help="Sign the files (OpenSSF model-signing; stored as model.sig): with "
            "--signing-key, else keyless with the job's SIGSTORE_ID_TOKEN.",
        ),
        option(
            "--signing-key",
            envvar="GMR_SIGNING_KEY",
            type=KEY_FILE,
            metavar="FILE",
            help="EC private key (PEM) to sign with; implies --sign.",
        ),
        option(
            "--signing-key-variable",
            envvar="GMR_SIGNING_KEY_VARIABLE",
            metavar="NAME",
            help="Name of the (masked) variable holding the key as base64 of the PEM; implies --sign.",
        ),
    ]
    for decorator in reversed(options):
        command = decorator(command)
    return command


def verify_options(flag: str, envvar: str, what: str) -> Callable[[F], F]:
    """``--verify`` (download) or ``--require-signature`` (promote) and what to verify with."""
    options = [
        option(flag, "verify", is_flag=True, envvar=envvar, help=what),
        option(
            "--public-key",
            envvar="GMR_PUBLIC_KEY",
            type=KEY_FILE,
            metavar="FILE",
            help="The signer's EC public key (PEM); implies the signature check.",
        ),
        option(
            "--identity",
            envvar="GMR_IDENTITY",
            help="Keyless: the signer's identity, e.g. "
            "https://gitlab.com/g/p//.gitlab-ci.yml@refs/heads/main (with --issuer).",
        ),
        option(
            "--issuer",
            envvar="GMR_ISSUER",
            help="Keyless: the OIDC issuer of that identity, e.g. https://gitlab.com.",
        ),
    ]

    def decorate(command: F) -> F:
        for decorator in reversed(options):
            command = decorator(command)
        return command

    return decorate


def signer(
    sign: bool,
    key_file: Path | None,
    key_variable: str | None,
    environ: Mapping[str, str],
) -> signing.Signer | None:
    """The signer the flags ask for: a key file, a key variable, or keyless (ID token)."""
    if key_file and key_variable:
        raise UsageError(
            "--signing-key and --signing-key-variable are exclusive", hint="use one of them"
        )
    if key_file:
        return signing.key_signer(key_file.read_bytes())
    if key_variable:
        return signing.key_signer(_key_from_variable(key_variable, environ))
    if not sign:
        return None
    identity = signing.keyless_identity(
        environ.get("CI_PROJECT_URL", ""),
        environ.get("CI_CONFIG_PATH", ""),
        environ.get("CI_COMMIT_TAG", ""),
        environ.get("CI_COMMIT_BRANCH") or environ.get("CI_COMMIT_REF_NAME", ""),
    )
    return signing.keyless_signer(environ.get("SIGSTORE_ID_TOKEN", ""), identity)


def verifier(
    verify: bool, public_key: Path | None, identity: str | None, issuer: str | None
) -> signing.Verifier | None:
    """What the signature must verify with; None when no check was asked for."""
    if public_key and (identity or issuer):
        raise UsageError(
            "--public-key and --identity/--issuer are exclusive",
            hint="a signature is either key-based or keyless",
        )
    if public_key:
        return signing.key_verifier(public_key.read_bytes())
    if verify or identity or issuer:
        return signing.keyless_verifier(identity or "", issuer or "")
    return None


def _key_from_variable(name: str, environ: Mapping[str, str]) -> bytes:
    value = environ.get(name, "").strip()
    if not value:
        raise UsageError(
            f"the variable {name} (--signing-key-variable) is not set or empty",
            hint="define it as a masked CI/CD variable holding `base64 -w0 key.pem`",
        )
    if value.startswith("-----BEGIN"):
        return value.encode()
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise UsageError(
            f"the variable {name} holds neither a PEM key nor base64 of one",
            hint="store `base64 -w0 key.pem` in it",
        ) from None
