"""Fault injection (issue 2): deterministic statuses, Retry-After, dropped uploads, latency; the log."""

from __future__ import annotations

import time
from typing import Any

import requests

from tests.gitlab_double.seed import (
    DEVELOPER_TOKEN,
    GUEST_TOKEN,
    JOB_TOKEN,
    MAINTAINER_TOKEN,
    OWNER_TOKEN,
    READ_API_TOKEN,
    REPORTER_JOB_TOKEN,
    REPORTER_TOKEN,
)

from .helpers import (
    CREDENTIAL_KINDS,
    TIMEOUT,
    call,
    files_url,
    mlflow_url,
    model_with_version,
    packages_url,
    upload,
)

SEEDED_TOKENS = (
    DEVELOPER_TOKEN,
    MAINTAINER_TOKEN,
    OWNER_TOKEN,
    REPORTER_TOKEN,
    GUEST_TOKEN,
    READ_API_TOKEN,
    JOB_TOKEN,
    REPORTER_JOB_TOKEN,
)
REQUESTS = 40


def _statuses(base: str, count: int = REQUESTS) -> list[int]:
    return [call("GET", f"{base}/api/v4/projects/1").status_code for _ in range(count)]


def test_same_seed_and_requests_give_the_same_statuses(faulty_double: Any) -> None:
    faults = {"fault_rate": 0.5, "fault_statuses": [500, 502, 503, 429], "seed": 42}
    runs = []
    for _ in range(2):
        faulty_double.control.reset()
        faulty_double.control.set_faults(**faults)
        runs.append(_statuses(faulty_double.url))
    assert runs[0] == runs[1]
    assert 200 in runs[0] and set(runs[0]) - {200}, runs[0]  # some faults, not only faults
    assert set(runs[0]) <= {200, 500, 502, 503, 429}
    faulty_double.control.reset()
    faulty_double.control.set_faults(**{**faults, "seed": 43})
    assert _statuses(faulty_double.url) != runs[0]  # the seed matters


def test_429_is_rack_attacks_plain_text_answer_with_retry_after(faulty_double: Any) -> None:
    faulty_double.control.set_faults(fault_rate=1.0, fault_statuses=[429], seed=1)
    resp = call("GET", f"{faulty_double.api_url}/projects/1")
    assert (resp.status_code, resp.headers.get("Retry-After")) == (429, "1")
    assert resp.headers["Content-Type"].startswith("text/plain") and resp.text == "Retry later\n"
    assert resp.headers["RateLimit-Remaining"] == "0"
    assert abs(int(resp.headers["RateLimit-Reset"]) - time.time()) < 5  # Unix time


def test_fault_rate_0_gives_no_faults(faulty_double: Any) -> None:
    faulty_double.control.set_faults(fault_rate=0.0, fault_statuses=[500, 502, 503, 429], seed=3)
    assert _statuses(faulty_double.url) == [200] * REQUESTS


def test_faults_apply_to_the_gitlab_api_only_never_to_the_control_api(faulty_double: Any) -> None:
    faulty_double.control.set_faults(fault_rate=1.0, fault_statuses=[503], seed=1)
    assert _statuses(faulty_double.url, 5) == [503] * 5
    assert faulty_double.control.state()["projects"]  # the control API still answers
    faulty_double.control.reset()
    assert _statuses(faulty_double.url, 5) == [200] * 5  # reset restores the start-up faults


def test_drop_rate_cuts_part_of_the_uploads_and_stores_nothing_for_them(faulty_double: Any) -> None:
    base = faulty_double.url
    version_id = model_with_version(base, "m", "1.0.0")["version"]
    faulty_double.control.set_faults(drop_rate=0.5, seed=7)
    stored_names = set()
    dropped = 0
    for n in range(20):
        try:
            resp = upload(base, version_id, f"f{n}.bin", bytes([n]) * 256 * 1024)
        except requests.ConnectionError:
            dropped += 1
            continue
        assert resp.status_code == 201
        stored_names.add(f"f{n}.bin")
    assert 0 < dropped < 20
    files = faulty_double.control.version("m", "1.0.0")["files"]
    assert {f["name"] for f in files} == stored_names
    assert call("GET", packages_url(base)).status_code == 200  # only uploads are dropped


def test_latency_delays_gitlab_responses(faulty_double: Any) -> None:
    faulty_double.control.set_faults(latency_ms=300)
    began = time.monotonic()
    assert call("GET", f"{faulty_double.api_url}/projects/1").status_code == 200
    assert time.monotonic() - began >= 0.29
    began = time.monotonic()
    faulty_double.control.state()
    assert time.monotonic() - began < 0.29  # control calls are not delayed


def test_request_log_records_method_path_status_and_credential_kind(double: Any) -> None:
    base = double.url
    search = mlflow_url(base, "registered-models/search")
    for kind, token in [
        ("bearer", DEVELOPER_TOKEN),
        ("private-token", DEVELOPER_TOKEN),
        ("job-token", JOB_TOKEN),
        ("none", ""),
    ]:
        requests.get(
            search,
            headers=CREDENTIAL_KINDS[kind](token),
            params={"max_results": 5},
            timeout=TIMEOUT,
        )
    double.control.state()  # control requests are not logged
    path = "/api/v4/projects/1/ml/mlflow/api/2.0/mlflow/registered-models/search"
    assert double.control.requests() == [
        {"method": "GET", "path": path, "status": 200, "credential": "bearer"},
        {"method": "GET", "path": path, "status": 200, "credential": "private-token"},
        {"method": "GET", "path": path, "status": 401, "credential": "job-token"},
        {"method": "GET", "path": path, "status": 401, "credential": "none"},
    ]


def test_request_log_never_holds_a_token_value(double: Any) -> None:
    base = double.url
    version_id = model_with_version(base, "m", "1.0.0")["version"]
    for token in SEEDED_TOKENS:
        for kind in ("bearer", "private-token", "job-token"):
            headers = CREDENTIAL_KINDS[kind](token)
            requests.put(
                files_url(base, version_id, "w.bin"), headers=headers, data=b"x", timeout=TIMEOUT
            )
        requests.get(
            packages_url(base), params={"private_token": token, "job_token": token}, timeout=TIMEOUT
        )
    log = requests.get(f"{base}/-/double/requests", timeout=TIMEOUT)
    assert len(log.json()) == 2 + len(SEEDED_TOKENS) * 4  # set-up calls included
    for token in SEEDED_TOKENS:
        assert token not in log.text
    assert {entry["credential"] for entry in log.json()} <= {
        "none",
        "bearer",
        "private-token",
        "job-token",
    }
