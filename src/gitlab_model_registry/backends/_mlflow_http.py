"""An MLflow tracking server reached with our credentials, timeout and retries, never os.environ.

mlflow reads its token, basic auth, timeout and retries from environment variables, at every
request (``get_default_host_creds``, ``http_request``). Instead of handing ours over through
the environment, the client here is built on mlflow's REST stores (tracking and registry) whose
one transport hook, ``_call_endpoint``, is overridden to send each call with our session: our
``Authorization``, ``verify`` bundle, timeout and visible retries; mlflow still encodes requests
and decodes answers. Artifacts under ``mlflow-artifacts:`` go through our ``Transfer`` with the
same credentials (mlflow's artifact repositories would read the environment again).
"""

from __future__ import annotations

import base64
import json
import posixpath
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from gitlab_model_registry.backends import ProgressCallback
from gitlab_model_registry.backends._mlflow_support import AUTH_HINT, mlflow_errors, sha256_tag_key
from gitlab_model_registry.errors import AuthError, IntegrityError
from gitlab_model_registry.models import RemoteFile, UploadFile
from gitlab_model_registry.retry import (
    RETRY_STATUSES,
    Notify,
    Retrier,
    RetryPolicy,
    TransferError,
    Transient,
    check_response,
    retry_after,
)
from gitlab_model_registry.settings import Secret
from gitlab_model_registry.transfer import Transfer

ARTIFACTS_API = "/api/2.0/mlflow-artifacts/artifacts"


@dataclass(frozen=True)
class Connection:
    """How to reach one MLflow server: credentials (for it only), TLS trust and timeout."""

    token: Secret | None = None
    username: Secret | None = None
    password: Secret | None = None
    verify: bool | str = True
    timeout: float = 60.0

    def headers(self) -> dict[str, str]:
        if self.username is not None and self.password is not None:
            pair = f"{self.username.reveal()}:{self.password.reveal()}".encode()
            return {"Authorization": "Basic " + base64.b64encode(pair).decode()}
        if self.token is not None:
            return {"Authorization": f"Bearer {self.token.reveal()}"}
        return {}


class Sender:
    """Sends mlflow's REST calls: one request per attempt, transient failures retried."""

    def __init__(self, host: str, connection: Connection, retrier: Retrier) -> None:
        self.host, self._connection, self._retrier = host.rstrip("/"), connection, retrier
        self.session = requests.Session()

    def get_json(self, endpoint: str, params: dict[str, str]) -> Any:
        """A JSON GET outside mlflow's protos (the artifact listing), retried like the rest."""

        def attempt() -> Any:
            response = self.session.get(
                self.host + endpoint,
                params=params,
                headers=self._connection.headers(),
                timeout=self._connection.timeout,
                verify=self._connection.verify,
            )
            check_response(response, endpoint.rsplit("/", 1)[-1])
            return response.json()

        return self._retrier.run(attempt, "listing artifacts")

    def delete(self, url: str, what: str) -> None:
        """DELETE ``url`` (the server's artifact API), retried like the rest."""

        def attempt() -> None:
            response = self.session.delete(
                url,
                headers=self._connection.headers(),
                timeout=self._connection.timeout,
                verify=self._connection.verify,
            )
            check_response(response, what)

        self._retrier.run(attempt, what)

    def call(self, endpoint: str, method: str, json_body: str | None, response_proto: Any) -> Any:
        import mlflow.utils.proto_json_utils as proto_json
        from mlflow.utils.rest_utils import verify_rest_response

        parse_dict: Any = proto_json.parse_dict

        body = json.loads(json_body) if json_body is not None else None
        query, payload = (body, None) if method == "GET" else (None, body)

        def attempt() -> requests.Response:
            response = self.session.request(
                method,
                self.host + endpoint,
                params=query,
                json=payload,
                headers=self._connection.headers(),
                timeout=self._connection.timeout,
                verify=self._connection.verify,
            )
            if response.status_code in RETRY_STATUSES:
                raise Transient(f"HTTP {response.status_code}", retry_after(response.headers))
            return response  # not streamed: the body was read inside this attempt

        route = endpoint.split("/mlflow/", 1)[-1]
        response = self._retrier.run(attempt, f"calling MLflow {route}")
        verify_rest_response(response, endpoint)
        if response.status_code != 204:
            parse_dict(js_dict=json.loads(response.text), message=response_proto)
        return response_proto


def artifact_url(tracking_uri: str, artifact_uri: str, path: str = "") -> str | None:
    """The HTTP URL of ``path`` under a run's ``mlflow-artifacts:`` URI, None for other stores."""
    parts = urlsplit(artifact_uri)
    tracking = urlsplit(tracking_uri)
    if parts.scheme != "mlflow-artifacts" or parts.netloc not in ("", tracking.netloc):
        return None
    root = parts.path.strip("/")
    full = posixpath.join(root, path) if path else root
    encoded = "/".join(quote(segment, safe="") for segment in full.split("/"))
    return f"{tracking_uri.rstrip('/')}{ARTIFACTS_API}/{encoded}"


def artifact_root(artifact_uri: str) -> str:
    return urlsplit(artifact_uri).path.strip("/")


@contextmanager
def _refusals() -> Iterator[None]:
    """A refused artifact request is an authentication error (exit 4), like mlflow's own."""
    try:
        yield
    except TransferError as error:
        if error.status in (401, 403):
            raise AuthError(error.message, hint=AUTH_HINT) from error
        raise


class HttpArtifacts:
    """A run's ``mlflow-artifacts:`` files over the server's artifact API, via ``Transfer``."""

    def __init__(self, tracking_uri: str, sender: Sender, transfer: Transfer) -> None:
        self._uri, self._sender, self._transfer = tracking_uri, sender, transfer

    @classmethod
    def connect(
        cls, tracking_uri: str, connection: Connection, policy: RetryPolicy, notify: Notify | None
    ) -> HttpArtifacts:
        """Sender and transfers for one server, sharing one session and one retry policy."""
        sender = Sender(tracking_uri, connection, Retrier(policy, notify=notify))
        transfer = Transfer(
            sender.session,
            headers=connection.headers(),
            timeout=connection.timeout,
            verify=connection.verify,
            policy=policy,
            notify=notify,
        )
        return cls(tracking_uri, sender, transfer)

    def client(self) -> Any:
        from gitlab_model_registry.backends._mlflow_client import bound_client

        return bound_client(self._uri, self._sender)

    def handles(self, artifact_uri: str) -> bool:
        return artifact_url(self._uri, artifact_uri) is not None

    def delete_all(self, artifact_uri: str) -> None:
        """Remove every file of the run (the server deletes the folder recursively)."""
        url = artifact_url(self._uri, artifact_uri)
        assert url is not None  # callers check ``handles`` first
        with _refusals():
            self._sender.delete(url, "deleting artifacts")

    def walk(self, artifact_uri: str, path: str = "") -> Iterator[tuple[str, int]]:
        """(name relative to the run's root, size) of every file, recursively."""
        root = artifact_root(artifact_uri)
        with _refusals():
            listed = self._sender.get_json(
                ARTIFACTS_API, {"path": posixpath.join(root, path) if path else root}
            )
        for entry in listed.get("files", []):
            name = posixpath.join(path, entry["path"]) if path else str(entry["path"])
            if entry.get("is_dir"):
                yield from self.walk(artifact_uri, name)
            else:
                yield name, int(entry.get("file_size") or 0)

    def upload(
        self,
        client: Any,
        run_id: str,
        artifact_uri: str,
        file: UploadFile,
        report: ProgressCallback,
    ) -> RemoteFile:
        """PUT the file, then record its sha256 as a run tag (MLflow keeps no checksum)."""
        url = artifact_url(self._uri, artifact_uri, file.remote_name)
        assert url is not None  # callers check ``handles`` first
        report(file.remote_name, 0, file.size)
        with _refusals():
            digest = self._transfer.put(url, file, report)
        report(file.remote_name, file.size, file.size)  # empty files report no bytes on the way
        with mlflow_errors(f"recording the sha256 of {file.remote_name}"):
            client.set_tag(run_id, sha256_tag_key(file.remote_name), digest)
        return RemoteFile(file.remote_name, file.size, digest)

    def download(
        self, artifact_uri: str, file: RemoteFile, dest: Path, progress: ProgressCallback
    ) -> None:
        """GET the file into ``dest / name``, resumed and sha256-verified by ``Transfer``."""
        target = dest / safe_name(file.name)
        url = artifact_url(self._uri, artifact_uri, file.name)
        assert url is not None
        progress(file.name, 0, file.size)
        # The file's folder appears only once its bytes are verified.
        with tempfile.TemporaryDirectory(dir=dest, prefix=".gmr-") as tmp, _refusals():
            got = Path(tmp) / "file"
            self._transfer.get(url, file, got, progress)
            target.parent.mkdir(parents=True, exist_ok=True)
            got.replace(target)
        progress(file.name, file.size, file.size)


def safe_name(name: str) -> str:
    """``name`` if it stays inside the destination; a server cannot write outside it."""
    if posixpath.normpath(name) != name or name.startswith(("/", "../")):
        raise IntegrityError(f"refusing to download {name!r}: it leaves the destination")
    return name
