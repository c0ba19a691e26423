"""TLS trust: a custom CA (``--ca-file`` / ``CI_SERVER_TLS_CA_FILE``) is added to the system's.

requests takes one bundle in ``verify=``: given only the custom CA, it would trust nothing else,
and a private-CA GitLab redirecting downloads to public object storage would fail every one.
So the custom CA is appended to certifi's bundle (what requests trusts by default) in a file
of our own, written once per process and removed at exit.
"""

from __future__ import annotations

import atexit
import os
import tempfile
import threading
from pathlib import Path

import certifi

from gitlab_model_registry.errors import UsageError

_lock = threading.Lock()
_bundles: dict[str, str] = {}


def verify_setting(ca_file: str | None) -> bool | str:
    """What to pass as requests' ``verify``: True, or a bundle of the system's CAs plus ours."""
    if not ca_file:
        return True
    with _lock:
        if ca_file not in _bundles:
            _bundles[ca_file] = _combined(ca_file)
        return _bundles[ca_file]


def _combined(ca_file: str) -> str:
    try:
        custom = Path(ca_file).read_bytes()
    except OSError as error:
        raise UsageError(f"cannot read the CA file {ca_file}: {error.strerror}") from None
    system = Path(certifi.where()).read_bytes()
    handle, name = tempfile.mkstemp(prefix="gmr-ca-", suffix=".pem")
    with os.fdopen(handle, "wb") as out:
        out.write(system.rstrip(b"\n") + b"\n" + custom)
    atexit.register(Path(name).unlink, missing_ok=True)
    return name
