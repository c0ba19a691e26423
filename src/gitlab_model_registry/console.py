"""Presentation: log lines, GitLab collapsible sections, progress, results, the dotenv report.

Data goes to stdout, everything else to stderr. Only this module looks at terminals and at
``NO_COLOR`` / ``FORCE_COLOR`` / ``GITLAB_CI``.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from gitlab_model_registry.console_environments import deployment_line
from gitlab_model_registry.models import ModelVersion, PublishResult
from gitlab_model_registry.sizes import human_size

if TYPE_CHECKING:
    from gitlab_model_registry.progress_bar import TerminalBar
    from gitlab_model_registry.promotion import PromoteResult
    from gitlab_model_registry.reading import DownloadResult, VersionDetails

PROGRESS_STEP = 0.10  # a progress line per ~10 % ...
PROGRESS_INTERVAL = 15.0  # ... or per ~15 s off a terminal
PROGRESS_MIN_SIZE = 1024 * 1024  # smaller files get only their final size-and-sha256 line


def use_color(choice: str, stream: TextIO, environ: Mapping[str, str]) -> bool:
    if choice != "auto":
        return choice == "always"
    if environ.get("NO_COLOR"):
        return False
    return bool(environ.get("FORCE_COLOR")) or stream.isatty()


class Console:
    """Renders the library's Observer events on stderr."""

    def __init__(
        self,
        *,
        stream: TextIO | None = None,
        color: bool = False,
        progress: bool = True,
        gitlab_sections: bool = False,
        verbosity: int = 0,
    ) -> None:
        self._out = stream or sys.stderr
        self._color, self._progress = color, progress
        self._sections, self.verbosity = gitlab_sections, verbosity
        self._lock = threading.Lock()
        self._shown: dict[str, tuple[float, float]] = {}  # file -> (fraction, time) last shown
        self._tty = self._out.isatty()
        self._bar: TerminalBar | None = None  # the live bar of the current transfer (terminal)

    @classmethod
    def for_environment(
        cls, environ: Mapping[str, str], *, color: str, progress: bool, verbosity: int
    ) -> Console:
        stream = sys.stderr
        return cls(
            stream=stream,
            color=use_color(color, stream, environ),
            progress=progress,
            gitlab_sections=environ.get("GITLAB_CI") == "true",
            verbosity=verbosity,
        )

    # -- Observer ---------------------------------------------------------------------------

    @contextmanager
    def phase(self, key: str, title: str) -> Iterator[None]:
        if self._sections:
            self._write(
                f"\x1b[0Ksection_start:{int(time.time())}:gmr_{key}[collapsed=false]\r\x1b[0K{title}"
            )
        else:
            self._write(self._style(f"» {title}", "1"))
        try:
            yield
        finally:
            self._close_bar()
            if self._sections:
                self._write(f"\x1b[0Ksection_end:{int(time.time())}:gmr_{key}\r\x1b[0K")

    def log(self, message: str) -> None:
        self._write(message)

    def transfer(self, files: int, total_bytes: int) -> None:
        if self._progress and self._tty:
            with self._lock:
                self._close_bar_locked()
                self._bar = _terminal_bar(self._out, files, total_bytes)

    def progress(self, name: str, done: int, total: int) -> None:
        if not self._progress:
            return
        if self._tty:
            with self._lock:
                self._bar = self._bar or _terminal_bar(self._out, None, None)
                self._bar.update(name, done)
            return
        if total < PROGRESS_MIN_SIZE or done <= 0:
            return
        fraction, now = done / total, time.monotonic()
        with self._lock:
            last_fraction, last_time = self._shown.get(name, (-1.0, now))
            due = fraction >= 1.0 or fraction - last_fraction >= PROGRESS_STEP
            if not (due or now - last_time >= PROGRESS_INTERVAL):
                return
            self._shown[name] = (fraction, now)
        line = f"{name}: {human_size(done)} / {human_size(total)} ({fraction:.0%})"
        self._write(line)

    # -- output -----------------------------------------------------------------------------

    def _write(self, text: str) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.write(text)
            else:
                print(text, file=self._out, flush=True)

    def _close_bar(self) -> None:
        with self._lock:
            self._close_bar_locked()

    def _close_bar_locked(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _style(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self._color else text


def render_publish(result: PublishResult, *, as_json: bool) -> str:
    """The result for stdout: a short summary ending with the version's URL, or JSON."""
    if as_json:
        return json.dumps(publish_json(result), indent=2, sort_keys=True)
    plan, mv = result.plan, result.model_version
    if result.dry_run or mv is None:
        lines = [
            f"dry run: would {'resume' if plan.resume else 'create'} {plan.model} {plan.version}"
        ]
        lines += [f"  {f.remote_name} ({human_size(f.size)})" for f in plan.files]
        lines += [f"  left out: {name}" for name in plan.left_out]
        lines.append(
            f"  {len(plan.params)} param(s), {len(plan.metrics)} metric(s); nothing was written"
        )
        return "\n".join(lines)
    return "\n".join(
        [
            f"Published {mv.model} {mv.version}",
            f"  files: {len(result.uploaded)} uploaded, {len(result.skipped)} already present",
            f"  {_link(mv)}",
        ]
    )


def publish_json(result: PublishResult) -> dict[str, Any]:
    plan = result.plan
    data: dict[str, Any] = {
        "model": plan.model,
        # A lost race moves publish to a later version than the plan's.
        "version": result.model_version.version if result.model_version else plan.version,
        "dry_run": result.dry_run,
        "created_model": plan.create_model,
        "resumed": plan.resume,
        "files": [{"name": f.remote_name, "size": f.size} for f in plan.files],
        "left_out": list(plan.left_out),
        "params": plan.params,
        "metrics": plan.metrics,
    }
    if result.model_version:
        data["model_version"] = asdict(result.model_version)
        data["uploaded"] = [asdict(f) for f in result.uploaded]
        data["skipped"] = [asdict(f) for f in result.skipped]
    return data


def dotenv_values(mv: ModelVersion) -> dict[str, str]:
    return {
        "MODEL_NAME": mv.model,
        "MODEL_VERSION": mv.version,
        "MODEL_VERSION_ID": mv.version_id,
        "MODEL_RUN_ID": mv.run_id,
        "MODEL_VERSION_URL": mv.web_url,
        "MODEL_PACKAGE_URL": mv.package_url,
    }


def write_dotenv(path: Path, values: Mapping[str, str]) -> None:
    """Write KEY=value lines atomically (GitLab's dotenv report takes values verbatim)."""
    for key, value in values.items():
        if "\n" in value:
            raise ValueError(f"dotenv value of {key} contains a newline")
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("".join(f"{k}={v}\n" for k, v in values.items()), encoding="utf-8")
    tmp.replace(path)


def _link(mv: ModelVersion) -> str:
    """Where to look at a version: its web page, else its files (a local registry has no page)."""
    return mv.web_url or mv.package_url or f"version id {mv.version_id}"


def _dump(data: object) -> str:
    return json.dumps(data, indent=2, sort_keys=True)


def render_promote(result: PromoteResult, *, as_json: bool) -> str:
    src, dst, deployed = result.source, result.target, result.deployment
    if as_json:
        return _dump(
            {
                "source": asdict(src),
                "model_version": asdict(dst),
                "version": dst.version,
                "resumed": result.resumed,
                "copied": [asdict(f) for f in result.copied],
                "skipped": [asdict(f) for f in result.skipped],
                "deployment": asdict(deployed) if deployed else None,
                "signer": result.signer or None,
            }
        )
    if deployed and src is dst:
        lines = [f"Deployed {src.model} {src.version} to {deployed.environment}"]
    else:
        lines = [
            f"Promoted {src.model} {src.version} -> {dst.version}",
            f"  files: {len(result.copied)} copied, {len(result.skipped)} already present",
            *(
                [f"  signature: carried (model.sig, signed by {result.signer})"]
                if result.signer
                else []
            ),
        ]
    if deployed:
        lines.append(deployment_line(deployed))
    return "\n".join([*lines, f"  {_link(dst)}"])


def render_download(result: DownloadResult, *, as_json: bool) -> str:
    mv = result.version
    if as_json:
        return _dump(
            {
                "model": mv.model,
                "version": mv.version,
                "dest": str(result.dest),
                "files": [asdict(f) for f in result.files],
                "from_cache": [f.name for f in result.cached],
                "signer": result.signer or None,
            }
        )
    size = human_size(sum(f.size for f in result.files))
    cached = f" ({len(result.cached)} from the cache)" if result.cached else ""
    signed = f"; signature verified, signed by {result.signer}" if result.signer else ""
    return (
        f"Downloaded {mv.model} {mv.version}: {len(result.files)} file(s), {size}{cached} "
        f"into {result.dest}{signed}"
    )


_INCOMPLETE = "  (incomplete: its publish did not finish)"


def render_versions(
    found: list[ModelVersion], *, as_json: bool, held: Mapping[str, list[str]] | None = None
) -> str:
    """``held``: semver -> environments holding it, marked after the version."""
    held = held or {}
    if as_json:
        return _dump([asdict(mv) | {"environments": held.get(mv.version, [])} for mv in found])
    width = max((len(mv.version) for mv in found), default=0)
    return "\n".join(
        f"{mv.version:<{width}}  {_created(mv)}  {_link(mv)}"
        + (f"  [{', '.join(held[mv.version])}]" if held.get(mv.version) else "")
        + ("" if mv.complete else _INCOMPLETE)
        for mv in found
    )


def render_show(details: VersionDetails, *, as_json: bool) -> str:
    mv, run = details.version, details.run
    if as_json:
        return _dump(
            {
                "model_version": asdict(mv),
                "files": [asdict(f) for f in details.files],
                "params": run.params,
                "metrics": run.metrics,
                "tags": run.tags,
                "signed": details.signed,
                "signer": details.signer or None,
            }
        )
    lines = [f"{mv.model} {mv.version}  ({_link(mv)})", f"  created: {_created(mv)}"]
    if details.signed:  # shown as recorded; `download --verify` is what checks it
        lines.append(f"  signed: yes, by {details.signer or 'an unrecorded signer'} (model.sig)")
    else:
        lines.append("  signed: no")
    if not mv.complete:
        lines.append(
            "  status: incomplete (its publish did not finish; publish it again to finish it)"
        )
    if mv.description:
        lines.append(f"  description: {mv.description}")
    if job := run.tags.get("ci.job_url") or run.tags.get("gitlab.CI_JOB_ID"):
        lines.append(f"  CI job: {job}")
    lines.append(f"  files ({len(details.files)}):")
    lines += [
        f"    {f.name}  {human_size(f.size)}  sha256 {f.sha256 or '?'}"
        + (f"  (split: {f.parts} parts)" if f.parts else "")
        for f in details.files
    ]
    for title, values in (("params", run.params), ("metrics", run.metrics), ("tags", run.tags)):
        lines.append(f"  {title} ({len(values)}):")
        lines += [f"    {k} = {v}" for k, v in sorted(values.items())]
    return "\n".join(lines)


def _created(mv: ModelVersion) -> str:
    """``2026-12-01 09:30:00 UTC`` from the ISO 8601 UTC every backend reports."""
    return mv.created_at.replace("T", " ").replace("Z", " UTC") if mv.created_at else "-"


def _terminal_bar(stream: TextIO, files: int | None, total_bytes: int | None) -> TerminalBar:
    """tqdm is imported only where a bar is drawn: it costs a tenth of a second of start-up,
    which CI jobs (no terminal) and ``--no-progress`` never need."""
    from gitlab_model_registry.progress_bar import TerminalBar

    return TerminalBar(stream, files, total_bytes)
