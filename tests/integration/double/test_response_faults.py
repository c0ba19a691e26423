"""Answer faults (truncated bodies, resets mid-download), Range downloads and object storage."""

from __future__ import annotations

import http.client
from typing import Any
from urllib.parse import urlsplit

import requests

from tests.gitlab_double.seed import DEVELOPER_TOKEN

from .helpers import TIMEOUT, bearer, call, files_url, mlflow_url, model_with_version, upload

DATA = bytes(range(256)) * 400  # 100 KiB


def _stored(base: str) -> str:
    version = model_with_version(base, "faulty")
    assert upload(base, version["version"], "w.bin", DATA).status_code == 201
    return files_url(base, version["version"], "w.bin")


def _raw_get(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes, str]:
    """Status, headers, the body bytes that arrived, and how the connection ended."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT)
    target = f"{parts.path}?{parts.query}" if parts.query else parts.path
    connection.request("GET", target, headers=headers)
    response = connection.getresponse()
    received, ending = b"", "complete"
    try:
        while chunk := response.read1(65536):
            received += chunk
    except http.client.IncompleteRead as error:
        received += error.partial
        ending = "closed early"
    except (OSError, ConnectionResetError):
        ending = "reset"
    if ending == "complete" and len(received) < int(response.headers["Content-Length"]):
        ending = "closed early"
    headers_ = dict(response.headers)
    connection.close()
    return response.status, headers_, received, ending


def test_truncated_answers_keep_an_honest_length(faulty_double: Any) -> None:
    url = _stored(faulty_double.url)
    faulty_double.control.set_faults(truncate_rate=1.0)

    status, headers, body, ending = _raw_get(url, bearer(DEVELOPER_TOKEN))

    assert status == 200 and int(headers["Content-Length"]) == len(DATA)
    assert ending == "closed early" and body == DATA[: len(DATA) // 2]
    json_status, json_headers, json_body, json_ending = _raw_get(
        mlflow_url(faulty_double.url, "registered-models/get?name=faulty"), bearer(DEVELOPER_TOKEN)
    )
    assert json_status == 200 and json_ending == "closed early"
    assert 0 < len(json_body) < int(json_headers["Content-Length"])


def test_a_download_is_reset_after_the_configured_bytes(faulty_double: Any) -> None:
    url = _stored(faulty_double.url)
    faulty_double.control.set_faults(reset_rate=1.0, reset_after=12 * 1024)

    with requests.get(url, headers=bearer(DEVELOPER_TOKEN), stream=True, timeout=TIMEOUT) as got:
        try:
            got.content  # noqa: B018 - reading is the point
            broken = False
        except requests.exceptions.ChunkedEncodingError:
            broken = True
    assert broken
    assert faulty_double.control.served_bytes() == {urlsplit(url).path: 12 * 1024}


def test_downloads_honour_ranges_like_workhorse(double: Any) -> None:
    url = _stored(double.url)
    token = bearer(DEVELOPER_TOKEN)

    whole = call("GET", url, token=DEVELOPER_TOKEN)
    tail = requests.get(url, headers={**token, "Range": "bytes=1000-"}, timeout=TIMEOUT)
    middle = requests.get(url, headers={**token, "Range": "bytes=10-19"}, timeout=TIMEOUT)
    past = requests.get(url, headers={**token, "Range": f"bytes={len(DATA)}-"}, timeout=TIMEOUT)

    assert whole.status_code == 200 and whole.headers["Accept-Ranges"] == "bytes"
    assert tail.status_code == 206 and tail.content == DATA[1000:]
    assert tail.headers["Content-Range"] == f"bytes 1000-{len(DATA) - 1}/{len(DATA)}"
    assert middle.status_code == 206 and middle.content == DATA[10:20]
    assert past.status_code == 416 and past.headers["Content-Range"] == f"bytes */{len(DATA)}"


def test_direct_download_redirects_to_the_object_store(faulty_double: Any) -> None:
    url = _stored(faulty_double.url)
    faulty_double.control.set_faults(direct_download=True)

    first = requests.get(
        url, headers=bearer(DEVELOPER_TOKEN), allow_redirects=False, timeout=TIMEOUT
    )
    followed = requests.get(url, headers=bearer(DEVELOPER_TOKEN), timeout=TIMEOUT)
    forged = requests.get(first.headers["Location"].split("?")[0], timeout=TIMEOUT)

    store = faulty_double.control.object_store()
    assert first.status_code == 302 and first.headers["Location"].startswith(store["url"])
    assert followed.status_code == 200 and followed.content == DATA
    assert forged.status_code == 403  # the signature is the credential
    # requests drops Authorization when a redirect leaves the host: the store saw none.
    assert [r["authorization"] for r in store["requests"]] == [None, None]
