"""The prune use case: gather the facts about a model's versions, plan with ``retention``, then
delete what the plan deletes (nothing with ``dry_run``). The only code in gmr that deletes.

Facts come from the registry (versions, completeness, tags, signed run tags), from GitLab's
merge requests API (MR states, GitLab only) and from environment history (``deployments``).
A version that fails to delete is reported and the others go on; a re-run finishes the job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

from gitlab_model_registry import catalog, retention
from gitlab_model_registry.backends import Backend
from gitlab_model_registry.errors import AuthError, GmrError, RegistryError
from gitlab_model_registry.models import ModelVersion
from gitlab_model_registry.observer import NULL_OBSERVER, Observer
from gitlab_model_registry.promotion import PROMOTED_FROM
from gitlab_model_registry.retention import Decision, Facts, Policy, VersionFacts
from gitlab_model_registry.signing import SIGNER_TAG

MergeRequestState = Callable[[str], "str | None"]


@dataclass(frozen=True)
class Failure:
    """A version ``prune`` meant to delete but could not, with the error's line."""

    version: str
    message: str
    exit_code: int
    hint: str = ""


@dataclass(frozen=True)
class PruneResult:
    """Every version's decision, and what was deleted or failed."""

    model: str
    decisions: tuple[Decision, ...]
    deleted: tuple[str, ...] = ()
    failed: tuple[Failure, ...] = ()
    dry_run: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)


class PruneIncomplete(GmrError):
    """Some versions the plan deletes are still there; the message lists them."""

    def __init__(self, result: PruneResult) -> None:
        super().__init__(
            f"{len(result.failed)} version(s) of {result.model} were not deleted: "
            + "; ".join(f"{f.version}: {f.message}" for f in result.failed[:3]),
            hint=next((f.hint + "; then " for f in result.failed if f.hint), "")
            + "run gmr prune again: it finishes what is left",
        )
        self.exit_code = max(f.exit_code for f in result.failed)


def prune(
    backend: Backend,
    model: str,
    policy: Policy,
    *,
    dry_run: bool = False,
    mr_state: MergeRequestState | None = None,
    now: datetime | None = None,
    observer: Observer = NULL_OBSERVER,
) -> PruneResult:
    """Plan, then (unless ``dry_run``) delete; the result says what happened to each version."""
    now = now or datetime.now(timezone.utc)
    if mr_state is None:  # GitLab's merge requests API; other registries know no MRs
        mr_state = getattr(backend, "merge_request_state", None)
    with observer.phase("plan", f"Planning the retention of {model}"):
        versions = catalog.all_versions(backend, model)
        placements, current = environment_facts(backend, model)
        facts, notes = gather(versions, policy, mr_state, now, backend=backend)
        facts = replace(
            facts,
            environments=retention.environment_protections(placements, now, current),
        )
        decisions = tuple(retention.plan(facts, policy))
        for note in notes:
            observer.log(note)
    if dry_run:
        return PruneResult(model, decisions, dry_run=True, notes=notes)
    with observer.phase("delete", "Deleting versions"):
        deleted, failed = _delete(backend, versions, decisions, observer)
    return PruneResult(model, decisions, deleted, failed, notes=notes)


def _delete(
    backend: Backend,
    versions: Sequence[ModelVersion],
    decisions: Sequence[Decision],
    observer: Observer,
) -> tuple[tuple[str, ...], tuple[Failure, ...]]:
    """Delete what the plan deletes, one version at a time; a failure does not stop the rest."""
    by_version = {mv.version: mv for mv in versions}
    deleted: list[str] = []
    failed: list[Failure] = []
    for decision in (d for d in decisions if d.delete):
        mv = by_version[decision.version]
        try:
            backend.delete_version(mv)
        except (RegistryError, AuthError) as error:
            failed.append(Failure(mv.version, error.message, error.exit_code, error.hint))
            observer.log(f"not deleted: {mv.model} {mv.version}: {error.message}")
            continue
        deleted.append(mv.version)
        observer.log(f"deleted {mv.model} {mv.version} ({decision.reason})")
    return tuple(deleted), tuple(failed)


def environment_facts(
    backend: Backend, model: str
) -> tuple[list[retention.Placement], dict[str, str]]:
    """Every placement of a version of ``model`` in an environment, and what each environment
    holds now. A registry that cannot say fails the prune: protection is never guessed."""
    ledger = backend.environments()
    placements = [
        retention.Placement(d.environment, d.version, parse_time(d.created_at), d.status)
        for d in ledger.history(model, None)
    ]
    current = {}
    for environment in sorted({p.environment for p in placements}):
        held = ledger.current(model, environment)
        if held is not None:
            current[environment] = held
    return placements, current


def gather(
    versions: Sequence[ModelVersion],
    policy: Policy,
    mr_state: MergeRequestState | None,
    now: datetime,
    *,
    backend: Backend,
) -> tuple[Facts, tuple[str, ...]]:
    """The facts the policy reads (environments apart), and notes on what could not be known."""
    notes: list[str] = []
    facts = [_version_facts(backend, mv, policy) for mv in versions]
    iids = sorted({f.mr_iid for f in facts if f.mr_iid}, key=int)
    states: dict[str, str] = {}
    if iids and mr_state is None:
        notes.append("MR states are known on GitLab only: MR prereleases are kept")
    if mr_state is not None:
        for iid in iids:
            state = mr_state(iid)
            if state is not None:
                states[iid] = state
    return (
        Facts(
            now=now,
            versions=facts,
            mr_states=states,
            promotion_sources=promotion_sources(versions),
        ),
        tuple(notes),
    )


def _version_facts(backend: Backend, mv: ModelVersion, policy: Policy) -> VersionFacts:
    release = retention.is_release(mv.version)
    # A run lookup per release only where a release can be deleted at all.
    signed = bool(release and policy.include_releases and mv.run_id and _signed(backend, mv))
    mr_iid = retention.mr_iid_of(mv.version)
    return VersionFacts(
        mv.version,
        created_at=parse_time(mv.created_at),
        complete=mv.complete,
        signed=signed,
        mr_iid=mr_iid,
    )


def _signed(backend: Backend, mv: ModelVersion) -> bool:
    return SIGNER_TAG in mv.tags or SIGNER_TAG in backend.get_run_data(mv.run_id).tags


def promotion_sources(versions: Iterable[ModelVersion]) -> frozenset[str]:
    """Versions of the model that an existing version names in its ``promoted-from`` tag
    (``<project>/<model>@<version>``; any project, to err on the side of keeping)."""
    found = set()
    for mv in versions:
        model = mv.model
        ref = mv.tags.get(PROMOTED_FROM, "")
        name, _, version = ref.rpartition("/")[2].rpartition("@")
        if name == model and version:
            found.add(version)
    return frozenset(found)


def parse_time(value: str) -> datetime | None:
    """A registry timestamp (Unix seconds or ms, or ISO-8601) as an aware datetime."""
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        number = int(text)
        return datetime.fromtimestamp(number / 1000 if number > 10**11 else number, timezone.utc)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
