"""What ``prune`` needs from GitLab beyond the registry routes: deleting a version with GraphQL
``mlModelVersionDelete`` and reading merge-request states.

GitLab's ``mlModelVersionDelete`` (app/graphql/mutations/ml/model_versions/delete.rb,
app/services/ml/destroy_model_version_service.rb) marks the version's package for destruction,
then destroys the version; its run stays, unlinked, and is deleted here with ``runs/delete``.
Deleting the package instead would orphan the version, so that route is never used.
GraphQL answers 200 with errors in the body: a refusal is a top-level error (the same for "not
there" and "not allowed"), a failure of the service is a payload error. Neither is told apart by
its text: after the call, looking the version up says whether it is gone.
"""

from __future__ import annotations

from typing import Any

from gitlab_model_registry.errors import AuthError, RegistryError

DELETE_VERSION = """
mutation gmrDeleteModelVersion($id: MlModelVersionID!) {
  mlModelVersionDelete(input: {id: $id}) { modelVersion { id } errors }
}
"""
DELETE_HINT = (
    "deleting a model version needs a token with the api scope whose user is a Maintainer of "
    "the project (GitLab marks the version's package for destruction, which Developers may not)"
)


def version_gid(version_id: str) -> str:
    """GitLab's global id of a model version (``Ml::ModelVersion``)."""
    return f"gid://gitlab/Ml::ModelVersion/{version_id}"


def refusal(label: str, answer: dict[str, Any]) -> RegistryError | AuthError:
    """The error for a deletion that left the version in place, from GitLab's answer."""
    top = [str(e.get("message", e)) for e in answer.get("errors") or [] if isinstance(e, dict)]
    payload = ((answer.get("data") or {}).get("mlModelVersionDelete") or {}).get("errors") or []
    if top:
        return AuthError(
            f"GitLab refused to delete {label}: {'; '.join(top)[:300]}", hint=DELETE_HINT
        )
    detail = "; ".join(map(str, payload))[:300] or "no reason given"
    return RegistryError(f"GitLab did not delete {label}: {detail}", hint=DELETE_HINT)
