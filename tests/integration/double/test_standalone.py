"""The standalone command's interface: READY line, clean exits, start-up time, concurrency."""

from __future__ import annotations

import http.client
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.gitlab_double.control import DoubleClient
from tests.gitlab_double.seed import DEVELOPER_TOKEN

from .helpers import TIMEOUT, bearer, call, model_with_version, upload
from .standalone import READY_LINE, start, stop

STARTUP_BOUND_S = 5.0  # generous: the issue asks for < 1 s, the measured time is printed
CONCURRENT = 16
LATENCY_MS = 1000


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_prints_one_ready_line_serves_and_exits_0_on_signal(
    tmp_path: Path, sig: signal.Signals
) -> None:
    server = start(tmp_path)
    try:
        assert READY_LINE.fullmatch(server.ready_line), server.ready_line
        resp = call("GET", f"{server.url}/api/v4/projects/1")
        assert resp.status_code == 200
    finally:
        code, rest = stop(server.process, sig)
    assert (code, rest) == (0, "")  # exit 0 and nothing else on stdout


def test_starts_within_the_bound(tmp_path: Path) -> None:
    server = start(tmp_path)
    stop(server.process)
    print(f"double start-up (process spawn to READY): {server.startup_seconds:.3f} s")
    assert server.startup_seconds < STARTUP_BOUND_S


def test_without_options_serves_the_default_project_1_group_project(tmp_path: Path) -> None:
    server = start(tmp_path, "--token", "glpat-only:api:developer", seeded=False)
    try:
        project = call("GET", f"{server.url}/api/v4/projects/1", token="glpat-only")
        assert project.json()["path_with_namespace"] == "group/project"
        assert call("GET", f"{server.url}/api/v4/projects/2", token="glpat-only").status_code == 404
        assert (
            call("GET", f"{server.url}/api/v4/projects/1", token=DEVELOPER_TOKEN).status_code == 401
        )
    finally:
        stop(server.process)


def test_start_up_faults_apply_and_reset_restores_them(tmp_path: Path) -> None:
    options = ["--fault-rate", "1", "--fault-statuses", "503", "--seed", "5", "--latency-ms", "200"]
    server = start(tmp_path, *options)
    try:
        began = time.monotonic()
        assert call("GET", f"{server.url}/api/v4/projects/1").status_code == 503
        assert time.monotonic() - began >= 0.19
        control = DoubleClient(server.url)
        control.set_faults(fault_rate=0.0, latency_ms=0)
        assert call("GET", f"{server.url}/api/v4/projects/1").status_code == 200
        control.reset()
        assert call("GET", f"{server.url}/api/v4/projects/1").status_code == 503
    finally:
        stop(server.process)


def test_project_is_found_by_id_and_by_url_encoded_path(double: Any) -> None:
    for ref in ("1", "group%2Fproject"):
        project = call("GET", f"{double.api_url}/projects/{ref}").json()
        assert (project["id"], project["path_with_namespace"]) == (1, "group/project")
    production = call("GET", f"{double.api_url}/projects/group%2Fproduction").json()
    assert production["id"] == 2
    missing = call("GET", f"{double.api_url}/projects/999")
    assert (missing.status_code, missing.json()) == (404, {"message": "404 Project Not Found"})


def test_serves_at_least_16_slow_uploads_at_once(faulty_double: Any) -> None:
    base = faulty_double.url
    version_id = model_with_version(base, "m", "1.0.0")["version"]
    faulty_double.control.set_faults(latency_ms=LATENCY_MS)
    in_flight = threading.Barrier(CONCURRENT, timeout=TIMEOUT)

    def slow_upload(n: int) -> int:
        in_flight.wait()  # all threads send together
        return upload(base, version_id, f"part-{n}.bin", bytes([n]) * 100_000).status_code

    began = time.monotonic()
    with ThreadPoolExecutor(CONCURRENT) as pool:
        statuses = list(pool.map(slow_upload, range(CONCURRENT)))
    elapsed = time.monotonic() - began
    assert statuses == [201] * CONCURRENT
    # Served one by one this takes >= 16 s; served together about one latency.
    assert elapsed < 4 * LATENCY_MS / 1000, f"{elapsed:.1f} s for {CONCURRENT} uploads"
    files = faulty_double.control.version("m", "1.0.0")["files"]
    assert len(files) == CONCURRENT


def test_keeps_connections_alive_across_requests(double: Any) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", urlsplit(double.url).port, timeout=TIMEOUT)
    try:
        sockets = []
        for _ in range(3):
            conn.request("GET", "/api/v4/projects/1", headers=bearer(double.developer_token))
            resp = conn.getresponse()
            assert (resp.status, resp.version) == (200, 11)
            resp.read()
            sockets.append(conn.sock)  # http.client drops the socket when the server closes it
        assert sockets[0] is not None and sockets == [sockets[0]] * 3
    finally:
        conn.close()
