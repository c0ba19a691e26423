"""What users see when an MLflow registry refuses or cannot be reached; mlflow stays lazy."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from gitlab_model_registry.backends._mlflow_http import Connection
from gitlab_model_registry.backends.mlflow import MlflowBackend
from gitlab_model_registry.errors import AuthError, RegistryError, UsageError
from gitlab_model_registry.retry import RetryPolicy
from gitlab_model_registry.settings import Secret

SECRET = "glpat-s3cr3t-never-shown"
ONE_ATTEMPT = RetryPolicy(attempts=1)


class _Refusing(BaseHTTPRequestHandler):
    """Answers every request like an authenticating proxy would (status from the path)."""

    status = 401
    body = b"Unauthorized"

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    do_POST = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def refusing_server(request: pytest.FixtureRequest) -> Iterator[str]:
    status, body = request.param
    handler = type("Handler", (_Refusing,), {"status": status, "body": body})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.mark.parametrize(
    "refusing_server",
    [
        (401, b"You are not authenticated."),
        (403, b"Permission denied"),
        (403, json.dumps({"message": "403 Forbidden"}).encode()),  # GitLab-style, no error_code
        (401, json.dumps({"error_code": "UNAUTHENTICATED", "message": "bad token"}).encode()),
    ],
    indirect=True,
)
def test_refused_credentials_are_auth_errors_without_the_token(refusing_server: str) -> None:
    connection = Connection(token=Secret(SECRET))
    with pytest.raises(AuthError) as caught:
        MlflowBackend(refusing_server, connection=connection, policy=ONE_ATTEMPT).get_model("m")
    assert "MLFLOW_TRACKING_TOKEN" in caught.value.hint
    assert caught.value.exit_code == 4
    assert SECRET not in str(caught.value)


def test_unreachable_server_is_a_registry_error() -> None:
    backend = MlflowBackend(f"http://user:{SECRET}@127.0.0.1:9", policy=ONE_ATTEMPT)  # refused
    with pytest.raises(RegistryError) as caught:
        backend.list_versions("m")
    assert caught.value.exit_code == 3
    assert SECRET not in str(caught.value)
    assert SECRET not in backend.describe()


def test_importing_the_backend_does_not_import_mlflow() -> None:
    code = (
        "import sys, gitlab_model_registry.backends.mlflow;"
        "sys.exit(any(m.split('.')[0] == 'mlflow' for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def test_missing_mlflow_extra_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", None)  # what `import mlflow` sees without it
    with pytest.raises(UsageError) as caught:
        MlflowBackend("sqlite:///never-created.db")
    assert "gitlab-model-registry[mlflow]" in caught.value.hint
    assert caught.value.exit_code == 2
