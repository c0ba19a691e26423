"""Downloads redirected to HTTPS object storage whose CA is not the system's: ``--ca-file`` adds
that CA to the trust (the system's CAs stay trusted, see tests/unit/test_tls.py), no GitLab
credential follows the redirect, and a missing CA is one clear error, not six retries."""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gitlab_double import seed
from tests.gitlab_double.control import DoubleClient
from tests.gitlab_double.process import running_double
from tests.gitlab_double.pytest_plugin import Double
from tests.integration.publish.conftest import Gmr

x509 = pytest.importorskip("cryptography.x509")
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402


def _certificate(
    subject: str, key: ec.EllipticCurvePrivateKey, issuer: tuple[str, ec.EllipticCurvePrivateKey]
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
    is_ca = subject == issuer[0]
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer[0])]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
    )
    if not is_ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False
        )
    return builder.sign(issuer[1], hashes.SHA256())


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A CA of the test's own, and the object store's certificate for ``localhost`` from it."""
    root = tmp_path_factory.mktemp("object-store-tls")
    ca_key, store_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    ca = _certificate("gmr test storage CA", ca_key, ("gmr test storage CA", ca_key))
    store = _certificate("localhost", store_key, ("gmr test storage CA", ca_key))
    files = {"ca": root / "ca.pem", "cert": root / "store.pem", "key": root / "store.key"}
    files["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files["cert"].write_bytes(store.public_bytes(serialization.Encoding.PEM))
    files["key"].write_bytes(
        store_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


@pytest.fixture(scope="module")
def tls_double(
    tls_files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Double]:
    """A double of its own whose object store speaks HTTPS; downloads redirect to it."""
    args = [*seed.command_args(), "--direct-download"]
    args += [
        "--object-store-cert",
        str(tls_files["cert"]),
        "--object-store-key",
        str(tls_files["key"]),
    ]
    with running_double(tmp_path_factory.mktemp("tls-double") / "data", args) as url:
        yield Double(url=url, control=DoubleClient(url))


def test_a_ca_file_lets_downloads_reach_https_object_storage(
    tls_double: Double, tls_files: dict[str, Path], tmp_path: Path
) -> None:
    gmr = Gmr(tls_double, tmp_path)
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "w.bin").write_bytes(os.urandom(200_000))
    assert gmr("publish", "tls", "model", "--version", "1.0.0").code == 0

    refused = gmr("download", "tls", "1.0.0", "--dest", "refused")
    trusted = gmr("download", "tls", "1.0.0", "--dest", "out", "--ca-file", str(tls_files["ca"]))

    assert refused.code == 3, refused.stderr
    assert "TLS verification failed" in refused.stderr and "--ca-file" in refused.stderr
    assert "retrying" not in refused.stderr  # a certificate problem does not heal by waiting
    assert trusted.code == 0, trusted.stderr
    assert (tmp_path / "out" / "w.bin").read_bytes() == (tmp_path / "model" / "w.bin").read_bytes()
    store = tls_double.control.object_store()
    assert store["url"].startswith("https://localhost:")
    assert store["requests"] and {r["authorization"] for r in store["requests"]} == {None}
