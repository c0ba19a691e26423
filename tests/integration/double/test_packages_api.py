"""Reference §11.2-§11.4: listing ml_model packages, their files and checksums; deleting them."""

from __future__ import annotations

from typing import Any

import requests

from tests.gitlab_double.seed import DEVELOPER_TOKEN, MAINTAINER_TOKEN

from .helpers import (
    call,
    create_model,
    create_version,
    files_url,
    mlflow_url,
    model_with_version,
    packages_url,
    sha256,
    upload,
)


def _list(base: str, token: str = DEVELOPER_TOKEN, **params: Any) -> requests.Response:
    resp = call("GET", packages_url(base), token=token, params=params)
    assert resp.status_code == 200, resp.text
    return resp


def _names_versions(base: str, **params: Any) -> list[tuple[str, str]]:
    return sorted((p["name"], p["version"]) for p in _list(base, **params).json())


def _package_id(base: str, name: str, version: str) -> int:
    found = _list(base, package_name=name, package_version=version).json()
    matches = [p["id"] for p in found if p["name"] == name]
    assert len(matches) == 1, found
    return int(matches[0])


def _files(base: str, package_id: int) -> list[dict[str, Any]]:
    resp = call("GET", packages_url(base, f"/{package_id}/package_files"))
    assert resp.status_code == 200, resp.text
    files: list[dict[str, Any]] = resp.json()
    return files


def test_list_items_describe_the_ml_model_package_of_each_version(double: Any) -> None:
    model_with_version(double.url, "m", "1.0.0")
    [package] = _list(double.url, package_type="ml_model").json()
    assert (package["name"], package["version"]) == ("m", "1.0.0")
    assert (package["package_type"], package["status"]) == ("ml_model", "default")
    assert isinstance(package["id"], int)
    assert package["_links"]["web_path"] == f"/group/project/-/packages/{package['id']}"
    assert "delete_api_path" not in package["_links"]  # a developer may not delete
    [as_maintainer] = _list(double.url, token=MAINTAINER_TOKEN).json()
    assert as_maintainer["_links"]["delete_api_path"].endswith(
        f"/projects/1/packages/{package['id']}"
    )


def test_package_type_filter_accepts_ml_model_and_rejects_unknown_types(double: Any) -> None:
    model_with_version(double.url, "m", "1.0.0")
    assert _names_versions(double.url, package_type="ml_model") == [("m", "1.0.0")]
    assert _names_versions(double.url, package_type="generic") == []
    bad = call("GET", packages_url(double.url), params={"package_type": "wheel"})
    assert (bad.status_code, bad.json()) == (
        400,
        {"error": "package_type does not have a valid value"},
    )


def test_package_name_filter_is_fuzzy_case_insensitive_and_every_term_must_match(
    double: Any,
) -> None:
    for name in ("foo", "foo-v2", "my_foo", "Bar"):
        model_with_version(double.url, name, "1.0.0")
    assert [n for n, _ in _names_versions(double.url, package_name="foo")] == [
        "foo",
        "foo-v2",
        "my_foo",
    ]
    assert [n for n, _ in _names_versions(double.url, package_name="FOO")] == [
        "foo",
        "foo-v2",
        "my_foo",
    ]
    assert [n for n, _ in _names_versions(double.url, package_name="foo v2")] == ["foo-v2"]
    assert [n for n, _ in _names_versions(double.url, package_name="bar")] == ["Bar"]


def test_package_version_filter_is_an_exact_match(double: Any) -> None:
    create_model(double.url, "m")
    for semver in ("1.0.0", "1.0.1", "11.0.0"):
        create_version(double.url, "m", semver)
    assert _names_versions(double.url, package_version="1.0.0") == [("m", "1.0.0")]
    assert _names_versions(double.url, package_version="1.0") == []


def _follow(base: str, url: str, **params: Any) -> list[requests.Response]:
    pages = [call("GET", url, params=params)]
    for _ in range(10):  # bounded: the test data has 3 pages
        nxt = pages[-1].links.get("next")
        if not nxt:
            break
        pages.append(call("GET", nxt["url"]))
    return pages


def test_list_pagination_headers_and_link_walk_every_package_once(double: Any) -> None:
    create_model(double.url, "m")
    for patch in range(5):
        create_version(double.url, "m", f"1.0.{patch}")
    pages = _follow(double.url, packages_url(double.url), per_page=2)
    assert [len(p.json()) for p in pages] == [2, 2, 1]
    first, _, last = pages
    assert {
        k: first.headers[k] for k in ("X-Page", "X-Per-Page", "X-Next-Page", "X-Prev-Page")
    } == {
        "X-Page": "1",
        "X-Per-Page": "2",
        "X-Next-Page": "2",
        "X-Prev-Page": "",
    }
    assert (first.headers["X-Total"], first.headers["X-Total-Pages"]) == ("5", "3")
    assert (last.headers["X-Page"], last.headers["X-Next-Page"], last.headers["X-Prev-Page"]) == (
        "3",
        "",
        "2",
    )
    assert {"next", "first", "last"} <= set(first.links)
    assert {"prev", "first", "last"} <= set(last.links) and "next" not in last.links
    versions = [p["version"] for page in pages for p in page.json()]
    assert sorted(versions) == [f"1.0.{n}" for n in range(5)]  # each exactly once


def test_per_page_is_clamped_to_100_and_defaults_to_20(double: Any) -> None:
    model_with_version(double.url, "m", "1.0.0")
    assert _list(double.url).headers["X-Per-Page"] == "20"
    assert _list(double.url, per_page=1000).headers["X-Per-Page"] == "100"


def test_single_package_lists_the_other_versions_and_unknown_ids_are_404(double: Any) -> None:
    create_model(double.url, "m")
    for semver in ("1.0.0", "1.1.0"):
        create_version(double.url, "m", semver)
    package_id = _package_id(double.url, "m", "1.0.0")
    got = call("GET", packages_url(double.url, f"/{package_id}")).json()
    assert (got["id"], got["name"], got["version"]) == (package_id, "m", "1.0.0")
    assert [v["version"] for v in got["versions"]] == ["1.1.0"]
    missing = call("GET", packages_url(double.url, "/987654"))
    assert (missing.status_code, missing.json()) == (404, {"message": "404 Not found"})


def test_package_files_carry_size_and_the_sha256_of_the_uploaded_bytes(double: Any) -> None:
    version_id = model_with_version(double.url, "m", "1.0.0")["version"]
    payloads = {
        "w.bin": bytes(range(256)) * 300,
        "dir/config.json": b'{"a": 1}',
        "my file+1.txt": b"+",
    }
    for path, data in payloads.items():
        assert upload(double.url, version_id, path, data).status_code == 201
    files = _files(double.url, _package_id(double.url, "m", "1.0.0"))
    listed = {f["file_name"]: (f["size"], f["file_sha256"]) for f in files}
    assert listed == {
        "w.bin": (76800, sha256(payloads["w.bin"])),
        "dir%2Fconfig.json": (8, sha256(payloads["dir/config.json"])),
        "my%20file%2B1.txt": (1, sha256(b"+")),
    }


def test_duplicate_uploads_add_records_and_the_newest_wins(double: Any) -> None:
    version_id = model_with_version(double.url, "m", "1.0.0")["version"]
    for data in (b"old", b"newest"):
        assert upload(double.url, version_id, "w.bin", data).status_code == 201
    records = _files(double.url, _package_id(double.url, "m", "1.0.0"))
    assert [f["file_name"] for f in records] == ["w.bin", "w.bin"]
    newest = max(records, key=lambda f: f["id"])
    assert newest["file_sha256"] == sha256(b"newest")
    assert call("GET", files_url(double.url, version_id, "w.bin")).content == b"newest"
    [state_file] = double.control.version("m", "1.0.0")["files"]
    assert (state_file["name"], state_file["sha256"], state_file["size"]) == (
        "w.bin",
        sha256(b"newest"),
        6,
    )


def test_deleting_a_package_file_hides_it_and_a_second_delete_is_404(double: Any) -> None:
    version_id = model_with_version(double.url, "m", "1.0.0")["version"]
    for path in ("a.bin", "b.bin"):
        upload(double.url, version_id, path, path.encode())
    package_id = _package_id(double.url, "m", "1.0.0")
    doomed = next(f for f in _files(double.url, package_id) if f["file_name"] == "a.bin")
    url = packages_url(double.url, f"/{package_id}/package_files/{doomed['id']}")
    deleted = call("DELETE", url, token=MAINTAINER_TOKEN)
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert [f["file_name"] for f in _files(double.url, package_id)] == ["b.bin"]
    assert call("GET", files_url(double.url, version_id, "a.bin")).status_code == 404
    assert call("DELETE", url, token=MAINTAINER_TOKEN).status_code == 404


def test_deleting_a_package_keeps_the_model_version_but_its_files_vanish(double: Any) -> None:
    version_id = model_with_version(double.url, "m", "1.0.0")["version"]
    upload(double.url, version_id, "w.bin", b"weights")
    package_id = _package_id(double.url, "m", "1.0.0")
    deleted = call("DELETE", packages_url(double.url, f"/{package_id}"), token=MAINTAINER_TOKEN)
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert _list(double.url).json() == []
    assert call("GET", packages_url(double.url, f"/{package_id}")).status_code == 404
    assert call("GET", files_url(double.url, version_id, "w.bin")).status_code == 404
    version = call(
        "GET",
        mlflow_url(double.url, "model-versions/get"),
        params={"name": "m", "version": "1.0.0"},
    )
    assert version.status_code == 200
