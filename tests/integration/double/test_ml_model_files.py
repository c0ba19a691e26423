"""Reference §2 and §1.3 artifacts: model-version file uploads, stored names, limits, listings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.gitlab_double.seed import DEVELOPER_TOKEN

from .helpers import (
    artifacts_url,
    bearer,
    call,
    files_url,
    model_with_version,
    packages_url,
    raw_request,
    sha256,
    upload,
)
from .standalone import Standalone, running

MAX_FILE_SIZE = 1024


def _stored(double: Any, semver: str = "1.0.0") -> dict[str, tuple[int, str]]:
    files = double.control.version("m", semver)["files"]
    return {f["name"]: (f["size"], f["sha256"]) for f in files}


def _package_file_names(base: str) -> list[str]:
    [package] = call("GET", packages_url(base), params={"package_type": "ml_model"}).json()
    files = call("GET", packages_url(base, f"/{package['id']}/package_files")).json()
    return sorted(f["file_name"] for f in files)


def test_the_raw_request_body_is_the_file_whatever_its_content_type(double: Any) -> None:
    version_id = model_with_version(double.url, "m", "1.0.0")["version"]
    body = b'--boundary\r\nContent-Disposition: form-data; name="file"\r\n\r\n\x00\x01\xfe\xff'
    headers = {"Content-Type": "multipart/form-data; boundary=boundary"}
    resp = call("PUT", files_url(double.url, version_id, "w.bin"), headers=headers, data=body)
    assert resp.status_code == 201
    assert _stored(double) == {"w.bin": (len(body), sha256(body))}
    assert call("GET", files_url(double.url, version_id, "w.bin")).content == body


def test_nested_paths_are_stored_url_encoded_and_listed_encoded_by_mlflow_artifacts(
    double: Any,
) -> None:
    version_id = model_with_version(double.url, "m", "1.0.0")["version"]
    assert upload(double.url, version_id, "dir/w.bin", b"nested").status_code == 201
    assert upload(double.url, version_id, "a/b/c.txt", b"deep").status_code == 201
    assert _package_file_names(double.url) == ["a%2Fb%2Fc.txt", "dir%2Fw.bin"]
    assert set(_stored(double)) == {"dir/w.bin", "a/b/c.txt"}
    listing = call("GET", artifacts_url(double.url), params={"path": version_id})
    assert listing.status_code == 200
    files = sorted(listing.json()["files"], key=lambda f: f["path"])
    assert files == [
        {"path": "a%2Fb%2Fc.txt", "file_size": 4, "is_dir": False},
        {"path": "dir%2Fw.bin", "file_size": 6, "is_dir": False},
    ]
    sub = call("GET", artifacts_url(double.url), params={"path": f"{version_id}/dir"})
    assert sub.json() == {"files": []}


def test_nested_files_download_by_their_plain_path(double: Any) -> None:
    version_id = model_with_version(double.url, "m", "1.0.0")["version"]
    upload(double.url, version_id, "dir/w.bin", b"nested")
    assert call("GET", files_url(double.url, version_id, "dir/w.bin")).content == b"nested"
    via_mlflow = call("GET", artifacts_url(double.url, f"/{version_id}/dir/w.bin"))
    assert (via_mlflow.status_code, via_mlflow.content) == (200, b"nested")


def test_artifacts_listing_of_an_unknown_version_is_404(double: Any) -> None:
    assert call("GET", artifacts_url(double.url), params={"path": "987654"}).status_code == 404


def test_upload_to_an_unknown_model_version_is_404_and_creates_nothing(double: Any) -> None:
    model_with_version(double.url, "m", "1.0.0")
    assert upload(double.url, "987654", "w.bin", b"x").status_code == 404
    assert _stored(double) == {}


BAD_PATHS = [
    "bad$name.bin",
    "semi;colon.bin",
    "quote'.bin",
    "star*.bin",
    "dir/bad$name.bin",
    "../w.bin",
    "dir/../../w.bin",
    "dir/..",
    "%2E%2E/w.bin",
    "a%2Fb.bin",  # an encoded slash in the file name
    "dir%2F..%2Fw.bin",
]


@pytest.mark.parametrize("path", BAD_PATHS)
def test_bad_file_names_and_path_traversal_are_400(double: Any, path: str) -> None:
    version_id = model_with_version(double.url, "m", "1.0.0")["version"]
    status, _ = raw_request(
        "PUT", files_url(double.url, version_id, path), bearer(DEVELOPER_TOKEN), b"x"
    )
    assert status == 400
    assert _stored(double) == {}


@pytest.mark.parametrize("name", ["a.bin", "A-Z_0.9+x y.bin", "v1.2.3-rc.1+build"])
def test_file_names_within_the_regex_are_accepted(double: Any, name: str) -> None:
    version_id = model_with_version(double.url, "m", "1.0.0")["version"]
    assert upload(double.url, version_id, name, b"x").status_code == 201
    assert set(_stored(double)) == {name}


def test_a_chunked_request_body_is_accepted_and_stored_whole(double: Any) -> None:
    version_id = model_with_version(double.url, "m", "1.0.0")["version"]
    chunks = [bytes([n]) * 10_000 for n in range(20)]

    def body() -> Iterator[bytes]:  # a generator makes requests send Transfer-Encoding: chunked
        yield from chunks

    assert upload(double.url, version_id, "w.bin", body()).status_code == 201
    data = b"".join(chunks)
    assert _stored(double) == {"w.bin": (len(data), sha256(data))}


@pytest.fixture(scope="module")
def small_limit_double(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Standalone]:
    """A second double started by the standalone command with a 1 KiB per-file limit."""
    workdir = tmp_path_factory.mktemp("double-max-file-size")
    with running(Path(workdir), "--max-file-size", str(MAX_FILE_SIZE)) as server:
        yield server


def test_max_file_size_accepts_the_limit_and_refuses_one_byte_more(
    small_limit_double: Standalone,
) -> None:
    base = small_limit_double.url
    version_id = model_with_version(base, "limit-ok", "1.0.0")["version"]
    assert upload(base, version_id, "at-limit.bin", b"x" * MAX_FILE_SIZE).status_code == 201
    over = upload(base, version_id, "over.bin", b"x" * (MAX_FILE_SIZE + 1))
    assert over.status_code == 400
    assert over.json() == {"message": "400 Bad request - Artifact file is too large"}

    def chunked() -> Iterator[bytes]:  # no Content-Length: the limit must hold while streaming
        yield from [b"x" * 1000, b"x" * 1000]

    assert upload(base, version_id, "chunked-over.bin", chunked()).status_code == 400
    [package] = call("GET", packages_url(base)).json()
    files = call("GET", packages_url(base, f"/{package['id']}/package_files")).json()
    assert [f["file_name"] for f in files] == ["at-limit.bin"]
