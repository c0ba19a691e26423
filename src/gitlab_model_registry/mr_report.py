"""The report use case: compose a version's comparison, write its files, and post or update the
merge request's note. Only composing can fail (the version must exist); the note and the files
are best effort, each problem one warning, so a report never fails a publish that succeeded.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from gitlab_model_registry import report_formats
from gitlab_model_registry.backends import Backend
from gitlab_model_registry.errors import AuthError, GmrError
from gitlab_model_registry.observer import NULL_OBSERVER, Observer
from gitlab_model_registry.report import Report, compose
from gitlab_model_registry.settings import Settings

if TYPE_CHECKING:
    from gitlab_model_registry.backends.gitlab_notes import MergeRequest, MergeRequestNotes

NOTE_TOKEN_HINT = (
    "the report note needs an API token (--token or GMR_TOKEN) with the api scope and at least "
    "the Reporter role; CI_JOB_TOKEN cannot post notes"
)


@dataclass(frozen=True)
class ReportRequest:
    """What ``report`` compares, against what, and where it writes the result."""

    model: str
    version: str
    merge_request: str = ""  # an MR iid; "" for none
    against: Sequence[str] = ()  # branch names and @environments, after the MR's target branch
    requires: Sequence[str] = ()
    post_note: bool = True
    markdown_file: Path | None = None
    metrics_file: Path | None = None
    annotations_file: Path | None = None


@dataclass(frozen=True)
class ReportResult:
    """The report, its markdown and what became of the merge-request note."""

    report: Report
    markdown: str
    note_id: int | None = None
    note_created: bool = False
    note_url: str = ""
    warnings: tuple[str, ...] = ()
    written: tuple[Path, ...] = ()


def run(
    settings: Settings,
    backend: Backend,
    request: ReportRequest,
    observer: Observer = NULL_OBSERVER,
) -> ReportResult:
    """Compose the report, write the requested files, then post the note when asked."""
    warnings: list[str] = []
    notes, mr = _merge_request(settings, request, warnings, observer)
    compared = request.post_note or request.markdown_file is not None
    # The target branch always, then each --against baseline (compose drops repeats).
    against = [*(_default_against(settings, mr) if compared else []), *request.against]
    ci = settings.ci
    commit = (
        f"{ci.project_url}/-/commit/{ci.commit_sha}" if ci.project_url and ci.commit_sha else ""
    )
    found = compose(
        backend,
        request.model,
        request.version,
        against=against,
        requires=request.requires,
        ci=ci,
        commit_url=commit,
        merge_request_url=mr.web_url if mr else "",
    )
    text = report_formats.markdown(found)
    written = _write_files(request, found, text, warnings)
    result = ReportResult(found, text, warnings=tuple(warnings), written=written)
    if notes is None or mr is None:
        return result
    return _post(notes, mr, found, text, result, observer)


def _merge_request(
    settings: Settings, request: ReportRequest, warnings: list[str], observer: Observer
) -> tuple[MergeRequestNotes | None, MergeRequest | None]:
    """The notes client and the MR, or (None, None) when no note can or should be posted."""
    iid = request.merge_request.strip()
    if not request.post_note or not iid:
        return None, None
    if settings.backend != "gitlab":
        warnings.append(
            "report note skipped: the registry is not GitLab, so there is no GitLab API token "
            "to post it with (CI_JOB_TOKEN cannot post notes); --markdown FILE writes the report"
        )
        return None, None
    if settings.token is None or not iid.isdigit():
        reason = "no API token" if settings.token is None else f"bad merge request iid {iid!r}"
        warnings.append(f"report note skipped: {reason}; {NOTE_TOKEN_HINT}")
        return None, None
    if not settings.ci.links_job:
        warnings.append("report note skipped: the merge request is on the job's own GitLab")
        return None, None
    from gitlab_model_registry.backends.gitlab_notes import MergeRequestNotes

    # The merge request belongs to the job's project, whichever project holds the registry.
    own = settings.for_project(settings.job_project_id) if settings.job_project_id else settings
    notes = MergeRequestNotes(own, notify=observer.log)
    try:
        return notes, notes.merge_request(int(iid))
    except GmrError as error:
        warnings.append(_note_warning(error, f"cannot read merge request !{iid}"))
        return None, None


def _default_against(settings: Settings, mr: MergeRequest | None) -> list[str]:
    target = (mr.target_branch if mr else "") or settings.ci.merge_request_target_branch
    return [target] if target else []


def _post(
    notes: MergeRequestNotes,
    mr: MergeRequest,
    found: Report,
    text: str,
    result: ReportResult,
    observer: Observer,
) -> ReportResult:
    try:
        posted = notes.upsert(mr.iid, report_formats.marker(found.model), text)
    except GmrError as error:
        warning = _note_warning(error, f"report note on !{mr.iid} not written")
        return replace(result, warnings=(*result.warnings, warning))
    url = f"{mr.web_url}#note_{posted.id}" if mr.web_url else ""
    observer.log(f"report note {'posted on' if posted.created else 'updated on'} !{mr.iid}")
    return replace(result, note_id=posted.id, note_created=posted.created, note_url=url)


def _note_warning(error: GmrError, what: str) -> str:
    hint = NOTE_TOKEN_HINT if isinstance(error, AuthError) else (error.hint or "")
    return f"{what}: {error}" + (f" ({hint})" if hint else "")


def _write_files(
    request: ReportRequest, found: Report, text: str, warnings: list[str]
) -> tuple[Path, ...]:
    outputs = [
        (request.markdown_file, text),
        (request.metrics_file, report_formats.openmetrics(found)),
        (
            request.annotations_file,
            json.dumps(report_formats.job_annotations(found), indent=2) + "\n",
        ),
    ]
    written = []
    for path, content in outputs:
        if path is None:
            continue
        try:
            _write_atomically(path, content)
            written.append(path)
        except OSError as error:
            warnings.append(f"cannot write {path}: {error.strerror or error}")
    return tuple(written)


def _write_atomically(path: Path, content: str) -> None:
    """Whole or not at all: a half-written report is never left behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(content)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
