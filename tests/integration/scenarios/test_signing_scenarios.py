"""Signed models on the embedded SQLite registry (the GitLab double's round trip, tampering
and interop are in tests/integration/publish/test_signing.py): the same round trip, and a
stored file changed behind `gmr`'s back refused with nothing written.

On GitLab the signature check refuses a replaced file (exit 5) because the registry's sha256
follows the new bytes; here the recorded sha256 stays, so the signature still matches the
record and the download's own sha256 check refuses the bytes (exit 3): the tree never appears.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.publish.test_signing import assert_nothing_written, make_keys
from tests.integration.scenarios.conftest import Gmr
from tests.integration.scenarios.registries import Registry

pytestmark = [
    pytest.mark.integration,
    pytest.mark.parametrize("registry", ["sqlite"], indirect=True),
]


def test_signed_round_trip_and_a_changed_file(
    gmr: Gmr, registry: Registry, model: str, model_dir: Path
) -> None:
    private, public = make_keys(registry.cwd)
    published = gmr(
        "publish", model, str(model_dir), "--version", "1.0.0", "--signing-key", str(private)
    )
    assert published.code == 0, published.stderr

    stored = registry.version(model, "1.0.0")
    assert stored is not None and "model.sig" in stored.files
    assert stored.tags["gmr.signer"].startswith("key:")

    run = gmr("download", model, "1.0.0", "--dest", "out", "--public-key", str(public))
    assert run.code == 0, run.stderr
    assert (registry.cwd / "out" / "model.sig").is_file()

    registry.corrupt(model, "1.0.0", "config.json")
    refused = gmr("download", model, "1.0.0", "--dest", "again", "--public-key", str(public))
    assert refused.code == 3, refused.stderr
    assert_nothing_written(registry.cwd, "again")
