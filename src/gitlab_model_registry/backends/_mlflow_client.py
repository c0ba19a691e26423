"""An ``MlflowClient`` whose REST stores send through our ``Sender`` (see ``_mlflow_http``).

mlflow's tracking and registry REST stores keep one transport hook, ``_call_endpoint``; both
are subclassed to send through ``Sender`` (our credentials, timeout, retries), and the client's
two store holders are given these stores instead of the ones it builds from the environment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gitlab_model_registry.backends._mlflow_http import Sender


def bound_client(uri: str, sender: Sender) -> Any:
    """An ``MlflowClient`` whose tracking and registry stores send through ``sender``."""
    import mlflow.store.model_registry.rest_store as registry_rest
    import mlflow.store.tracking.rest_store as tracking_rest
    import mlflow.tracking._model_registry.client as registry_clients
    import mlflow.tracking._tracking_service.client as tracking_clients
    import mlflow.utils.rest_utils as rest_utils
    from mlflow import MlflowClient
    from mlflow.exceptions import RestException

    tracking_module: Any = tracking_rest  # mlflow's stores are untyped: keep mypy out of them
    registry_module: Any = registry_rest
    host_creds: Any = rest_utils.MlflowHostCreds

    def creds() -> Any:
        return host_creds(uri)  # no credential: ours are added by ``sender`` only

    class TrackingStore(tracking_module.RestStore):  # type: ignore[misc]
        def _call_endpoint(
            self,
            api: Any,
            json_body: str | None = None,
            endpoint: str | None = None,
            retry_timeout_seconds: float | None = None,
            response_proto: Any = None,
        ) -> Any:
            v3 = api in getattr(self, "_V3_APIS", ())
            table = getattr(self, "_V3_METHOD_TO_INFO" if v3 else "_METHOD_TO_INFO", None)
            default_endpoint, method = (table or tracking_module._METHOD_TO_INFO)[api]
            return sender.call(
                endpoint or default_endpoint, method, json_body, response_proto or api.Response()
            )

    class RegistryStore(registry_module.RestStore):  # type: ignore[misc]
        def _call_endpoint(
            self,
            api: Any,
            json_body: str | None,
            call_all_endpoints: bool = False,
            extra_headers: dict[str, str] | None = None,
        ) -> Any:
            proto = self._get_response_from_method(api)
            if not call_all_endpoints:
                endpoint, method = self._get_endpoint_from_method(api)
                return sender.call(endpoint, method, json_body, proto)
            endpoints = self._get_all_endpoints_from_method(api)
            for number, (endpoint, method) in enumerate(endpoints):
                try:
                    return sender.call(endpoint, method, json_body, proto)
                except RestException as error:
                    if error.error_code != "ENDPOINT_NOT_FOUND" or number == len(endpoints) - 1:
                        raise
            return proto

    tracking_store, registry_store = TrackingStore(creds), RegistryStore(creds)

    tracking_base: Any = tracking_clients.TrackingServiceClient
    registry_base: Any = registry_clients.ModelRegistryClient

    class Tracking(tracking_base):  # type: ignore[misc]
        @property
        def store(self) -> Any:
            return tracking_store

    class Registry(registry_base):  # type: ignore[misc]
        @property
        def store(self) -> Any:
            return registry_store

    client: Any = MlflowClient(uri, registry_uri=uri)
    # MlflowClient builds its stores from the URI alone (and so from the environment); these
    # two attributes are where it keeps them. tests/integration/mlflow proves the headers sent.
    client._tracking_client = Tracking(uri)
    client._registry_client_lazy = Registry(uri, uri)
    return client
