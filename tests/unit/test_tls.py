"""A custom CA is added to the system's trust, never a replacement for it."""

from __future__ import annotations

from pathlib import Path

import certifi
import pytest

from gitlab_model_registry import tls
from gitlab_model_registry.errors import UsageError

SYSTEM = b"-----BEGIN CERTIFICATE-----\nsystem\n-----END CERTIFICATE-----\n"
CUSTOM = b"-----BEGIN CERTIFICATE-----\ncustom\n-----END CERTIFICATE-----\n"


def test_no_ca_file_keeps_the_default_trust() -> None:
    assert tls.verify_setting(None) is True


def test_a_ca_file_is_added_to_the_system_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    system = tmp_path / "system.pem"
    system.write_bytes(SYSTEM)
    custom = tmp_path / "custom.pem"
    custom.write_bytes(CUSTOM)
    monkeypatch.setattr(certifi, "where", lambda: str(system))

    bundle = tls.verify_setting(str(custom))

    assert isinstance(bundle, str) and bundle != str(custom)
    assert Path(bundle).read_bytes() == SYSTEM + CUSTOM
    assert tls.verify_setting(str(custom)) == bundle  # written once per process


def test_an_unreadable_ca_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read the CA file"):
        tls.verify_setting(str(tmp_path / "missing.pem"))
