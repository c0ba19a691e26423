"""``POST /api/graphql`` with the one mutation gmr uses: ``mlModelVersionDelete``.

Follows GitLab's source (gitlabhq/gitlabhq):
- app/controllers/graphql_controller.rb (commit 017a6c129d6a): a token that matches no user is
  401 ``{"errors":[{"message":"Invalid token"}]}``; anonymous callers go on (and fail the
  mutation's authorization); a mutation in a GET is 422 "Mutations are forbidden in GET
  requests"; a query over 10,000 characters is 422 "Query too large"; every other answer is
  200, errors in the body. Credentials: PRIVATE-TOKEN / ``private_token`` or Bearer (PAT or
  OAuth); a CI job token matches no user here (inferred: the GraphQL finder reads no job token),
  so it is "Invalid token".
- app/graphql/mutations/ml/model_versions/delete.rb (commit 41946e65501d): argument ``id``
  (``MlModelVersionID``, ``gid://gitlab/Ml::ModelVersion/<id>``) inside the Relay ``input``;
  ``authorize :write_model_registry`` (Developer+ with the Model registry on); an unknown id
  answers the payload ``errors: ["Model version not found"]``; a version the caller may not
  write raises ``ResourceNotAvailable`` (top-level error, ``data.mlModelVersionDelete: null``).
  A ``read_api`` token is refused the same way (mutations need the ``api`` scope; inferred).
- app/services/ml/destroy_model_version_service.rb and
  app/services/packages/mark_package_for_destruction_service.rb (commit 017a6c129d6a): the
  package is marked for destruction first, which needs ``destroy_package`` (Maintainer+); a
  Developer gets ``errors: ["You don't have access to this package"]`` and nothing changes.
  Then the version row is destroyed; its run (candidate) stays, no longer linked
  (app/models/ml/model_version.rb: ``has_one :candidate`` without ``dependent``).
Validation messages follow graphql-ruby's wording for the cases modelled (unknown field,
missing argument, undeclared variable, invalid variable value); parse errors are approximate.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.gitlab_double import auth
from tests.gitlab_double.graphql_parse import Field, GraphQLError, Operation, Variable, parse
from tests.gitlab_double.records import Project
from tests.gitlab_double.routing import Request, Response, Router

MAX_QUERY_SIZE = 10_000
NOT_AVAILABLE = (
    "The resource that you are attempting to access does not exist or you don't have "
    "permission to perform this action"
)
_GID = re.compile(r"gid://gitlab/([A-Za-z:]+)/(\d+)")
#: type -> field -> (type, {argument: type}); "__typename" is on every object type.
SCHEMA: dict[str, dict[str, tuple[str, dict[str, str]]]] = {
    "Query": {},
    "Mutation": {
        "mlModelVersionDelete": (
            "MlModelVersionDeletePayload",
            {"input": "MlModelVersionDeleteInput!"},
        )
    },
    "MlModelVersionDeletePayload": {
        "clientMutationId": ("String", {}),
        "errors": ("[String!]!", {}),
        "modelVersion": ("MlModelVersion", {}),
    },
    "MlModelVersion": {
        "id": ("MlModelVersionID!", {}),
        "version": ("String!", {}),
        "description": ("String", {}),
        "createdAt": ("Time!", {}),
    },
}
INPUTS = {"MlModelVersionDeleteInput": {"id": "MlModelVersionID!", "clientMutationId": "String"}}


def _errors(status: int, text: str) -> Response:
    return Response(status, {"errors": [{"message": text}]})


def execute(request: Request) -> Response:
    caller = _caller(request)
    if caller is None:
        return _errors(401, "Invalid token")
    params = request.params()
    text = str(params.get("query") or "")
    if len(text) > MAX_QUERY_SIZE:
        return _errors(422, "Query too large")
    try:
        operation = parse(text)
        _validate(operation)
        variables = _variables(operation, params.get("variables"))
    except GraphQLError as error:
        return Response(200, {"errors": [error.entry()]})
    if operation.kind == "mutation" and request.method == "GET":
        return _errors(422, "Mutations are forbidden in GET requests")
    data: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for selection in operation.selections:
        try:
            data[selection.alias] = _resolve_root(request, caller, selection, variables)
        except GraphQLError as error:
            data[selection.alias] = None
            where = {"locations": [{"line": selection.line, "column": selection.column}]}
            errors.append({"message": error.message, **where, "path": [selection.alias]})
    return Response(200, {"data": data, **({"errors": errors} if errors else {})})


def _caller(request: Request) -> auth.Caller | None:
    """The caller; None for a credential that matches no user (401)."""
    registry = request.app.registry
    for kind, value in auth.sent_credentials(request):
        token = registry.tokens.get(value) if kind != "job-token" else None
        if token is None:
            return None
        return auth.Caller(token.role, token.scopes, token.user, language=token.language)
    return auth.ANONYMOUS


# -- validation ----------------------------------------------------------------------------------


def _validate(operation: Operation) -> None:
    root = "Mutation" if operation.kind == "mutation" else "Query"
    for selection in operation.selections:
        _validate_field(root, selection, operation)


def _validate_field(parent: str, node: Field, operation: Operation) -> None:
    where = {"locations": [{"line": node.line, "column": node.column}]}
    if node.name == "__typename":
        return
    if node.name not in SCHEMA[parent]:
        raise GraphQLError(
            f"Field '{node.name}' doesn't exist on type '{parent}'",
            **where,
            extensions={"code": "undefinedField", "typeName": parent, "fieldName": node.name},
        )
    kind, arguments = SCHEMA[parent][node.name]
    missing = [a for a, t in arguments.items() if t.endswith("!") and a not in node.arguments]
    if missing:
        raise GraphQLError(
            f"Field '{node.name}' is missing required arguments: {', '.join(missing)}", **where
        )
    for name, value in node.arguments.items():
        if name not in arguments:
            raise GraphQLError(f"Field '{node.name}' doesn't accept argument '{name}'", **where)
        _validate_value(arguments[name], value, operation, where)
    inner = kind.strip("[]!")
    if inner in SCHEMA and not node.selections:
        raise GraphQLError(
            f"Field must have selections (field '{node.name}' returns {kind} but has no "
            f"selections. Did you mean '{node.name} {{ ... }}'?)",
            **where,
        )
    if inner not in SCHEMA and node.selections:
        raise GraphQLError(
            f"Selections can't be made on scalars (field '{node.name}' returns {kind} but has "
            f"selections [{', '.join(s.name for s in node.selections)}])",
            **where,
        )
    for child in node.selections:
        _validate_field(inner, child, operation)


def _validate_value(kind: str, value: Any, operation: Operation, where: dict[str, Any]) -> None:
    if isinstance(value, Variable):
        declared = operation.variables.get(value.name)
        if declared is None:
            who = operation.name or f"anonymous {operation.kind}"
            raise GraphQLError(f"Variable ${value.name} is used by {who} but not declared", **where)
        if declared.rstrip("!") != kind.rstrip("!") or (
            kind.endswith("!") and not declared.endswith("!")
        ):
            raise GraphQLError(
                f"Type mismatch on variable ${value.name} and argument ({declared} / {kind})",
                **where,
            )
        return
    fields = INPUTS.get(kind.rstrip("!"))
    if fields is None:
        return
    if not isinstance(value, dict):
        raise GraphQLError(f"Argument expected {kind}, got {json.dumps(value)}", **where)
    for name, field_type in fields.items():
        if field_type.endswith("!") and name not in value:
            raise GraphQLError(
                f"Argument '{name}' on InputObject '{kind.rstrip('!')}' is required. "
                f"Expected type {field_type}",
                **where,
            )
    for name, item in value.items():
        if name not in fields:
            raise GraphQLError(
                f"InputObject '{kind.rstrip('!')}' doesn't accept argument '{name}'", **where
            )
        _validate_value(fields[name], item, operation, where)


def _variables(operation: Operation, given: Any) -> dict[str, Any]:
    if isinstance(given, str):
        given = json.loads(given or "{}")
    values = dict(given or {})
    for name, kind in operation.variables.items():
        if kind.endswith("!") and values.get(name) is None:
            raise GraphQLError(
                f"Variable ${name} of type {kind} was provided invalid value",
                extensions={
                    "value": None,
                    "problems": [{"path": [], "explanation": "Expected value to not be null"}],
                },
            )
        if kind.rstrip("!") == "MlModelVersionID" and name in values:
            _check_gid(name, kind, values[name])
    return values


def _check_gid(name: str, kind: str, value: Any) -> None:
    found = _GID.fullmatch(str(value))
    explanation = ""
    if found is None:
        explanation = f"{json.dumps(value)} is not a valid Global ID"
    elif found.group(1) != "Ml::ModelVersion":
        explanation = f"{value} is not a valid ID for Ml::ModelVersion."
    if explanation:
        raise GraphQLError(
            f"Variable ${name} of type {kind} was provided invalid value",
            extensions={"value": value, "problems": [{"path": [], "explanation": explanation}]},
        )


# -- execution -----------------------------------------------------------------------------------


def _resolve_root(
    request: Request, caller: auth.Caller, node: Field, variables: dict[str, Any]
) -> Any:
    if node.name == "__typename":
        return "Mutation"
    arguments = _substitute(node.arguments, variables)
    return _select(node, _delete_version(request, caller, arguments["input"]))


def _substitute(value: Any, variables: dict[str, Any]) -> Any:
    if isinstance(value, Variable):
        return variables.get(value.name)
    if isinstance(value, dict):
        return {k: _substitute(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, variables) for v in value]
    return value


def _delete_version(request: Request, caller: auth.Caller, given: dict[str, Any]) -> dict[str, Any]:
    registry = request.app.registry
    found = _GID.fullmatch(str(given.get("id")))
    version_id = int(found.group(2)) if found else -1
    owner = next(
        (p for p in registry.projects.values() if p.version_by_id(version_id) is not None), None
    )
    payload: dict[str, Any] = {
        "clientMutationId": given.get("clientMutationId"),
        "errors": [],
        "__typename": "MlModelVersionDeletePayload",
    }
    if owner is None:
        return {**payload, "modelVersion": None, "errors": ["Model version not found"]}
    if not _may_write(caller, owner):
        raise GraphQLError(NOT_AVAILABLE)
    model, version = owner.version_by_id(version_id)  # type: ignore[misc]
    shown = _version_json(version)
    if not caller.at_least("maintainer"):  # MarkPackageForDestructionService: destroy_package
        return {
            **payload,
            "modelVersion": shown,
            "errors": ["You don't have access to this package"],
        }
    package = registry.packages.get(version.package_id)
    if package is not None:
        package.status = "pending_destruction"
        for record in package.files:
            record.status = "pending_destruction"
    del model.versions[version.id]
    run = owner.runs.get(version.run_uuid)
    if run is not None:
        run.model_version_id = None
    return {**payload, "modelVersion": shown}


def _may_write(caller: auth.Caller, project: Project) -> bool:
    """``write_model_registry``: Developer+, the api scope, both ML features on."""
    features_on = not ({"model_registry", "model_experiments"} & project.features_off)
    return caller.at_least("developer") and "api" in caller.scopes and features_on


def _version_json(version: Any) -> dict[str, Any]:
    from datetime import datetime, timezone

    created = datetime.fromtimestamp(version.created_s, tz=timezone.utc)
    return {
        "id": f"gid://gitlab/Ml::ModelVersion/{version.id}",
        "version": version.semver,
        "description": version.description,
        "createdAt": created.isoformat().replace("+00:00", "Z"),
        "__typename": "MlModelVersion",
    }


def _select(node: Field, value: Any) -> Any:
    """Only the selected fields, under their aliases (GraphQL's response shape)."""
    if value is None or not node.selections:
        return value
    return {child.alias: _select(child, value.get(child.name)) for child in node.selections}


def register(router: Router) -> None:
    router.add("POST", r"/api/graphql", execute)
    router.add("GET", r"/api/graphql", execute)
