"""The report's output formats: the merge-request note (GitLab markdown), OpenMetrics text for
``artifacts:reports:metrics`` and the JSON of ``artifacts:reports:annotations``.

GitLab limits respected (gitlabhq/gitlabhq):
- a note is at most 1,000,000 characters (app/models/concerns/notes/active_record.rb,
  ``Gitlab::Database::MAX_TEXT_SIZE_LIMIT``); tables are capped and long ones collapsed.
- an annotations file holds at most 20 lists and 80 KB by default (plan limits
  ``ci_job_annotations_num``/``ci_job_annotations_size``, app/services/ci/
  parse_annotations_artifact_service.rb), each list of ``{"external_link": {label, url}}``
  objects (app/validators/json_schemas/ci_job_annotation_data.json): we write one list.
- the metrics widget (ee/lib/gitlab/ci/parsers/metrics/generic.rb) drops everything from ``#``
  on a line, shell-splits the rest into name and value and compares the values as strings
  with the target branch's: so ``# TYPE``/``# EOF`` lines are ignored there, names carry no
  version, and a value is written the same way every time.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from gitlab_model_registry.gates import Gate
from gitlab_model_registry.report import (
    Baseline,
    Report,
    Snapshot,
    file_changes,
    param_changes,
    total_size,
)

NOTE_LIMIT = 1_000_000
#: Rows shown per table; the rest is counted, never listed (bounded notes).
MAX_ROWS = 200
#: Tables longer than this are collapsed in ``<details>``.
COLLAPSE_AFTER = 10
MAX_CELL = 120
ANNOTATIONS_SECTION = "model_registry"
_SECRET_KEY = re.compile(r"(token|secret|password|passwd|api[_-]?key|credential)", re.I)


def marker(model: str) -> str:
    """The hidden first line that finds this model's note again (HTML comments do not render)."""
    return f"<!-- gmr-report model={_comment_safe(model)} -->"


def _comment_safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._+-]", "_", text)


# --- markdown --------------------------------------------------------------------------------


def markdown(report: Report) -> str:
    """The note: links, metrics against each baseline with gate verdicts, changed params and
    files. Sections that would pass GitLab's note limit are dropped, last first."""
    mv = report.current.version
    head = [marker(report.model), f"### Model `{_cell(report.model)}` {_cell(mv.version)}", ""]
    head += [_links(report), ""]
    sections = [_metrics_section(report)]
    for baseline in report.baselines:
        if baseline.snapshot is not None:
            sections.append(_params_section(report.current, baseline))
            sections.append(_files_section(report.current, baseline))
    sections = [s for s in sections if s]
    footer = ["", "<sub>Written by gmr; updated in place by later pipelines.</sub>", ""]
    while sections and len(_join(head, sections, footer)) > NOTE_LIMIT:
        sections.pop()
    return _join(head, sections, footer)[:NOTE_LIMIT]


def _join(head: list[str], sections: list[str], footer: list[str]) -> str:
    return "\n".join([*head, "\n\n".join(sections), *footer])


def _links(report: Report) -> str:
    links = report.links
    commit = links.commit.rsplit("/", 1)[-1][:8]
    found = [
        ("Version", links.version),
        ("Files", links.package),
        ("Job", links.job),
        ("Pipeline", links.pipeline),
        (f"Commit {commit}", links.commit),
    ]
    shown = [f"[{label}]({url})" for label, url in found if _safe_url(url)]
    return " · ".join(shown) if shown else "_No links: not published from a CI job._"


def _safe_url(url: str) -> bool:
    return url.startswith(("https://", "http://")) and not re.search(r"[\s()<>]", url)


def _metrics_section(report: Report) -> str:
    compared = [b for b in report.baselines if b.snapshot is not None]
    header = ["metric", "this version"]
    for baseline in compared:
        assert baseline.snapshot is not None
        header += [f"{baseline.label} ({baseline.snapshot.version.version})", "Δ"]
    if report.gates:
        header.append("gate")
    now = report.current.run.metrics
    names = sorted(now.keys() | {g.metric for g in report.gates})
    rows = [_metric_row(report, compared, name) for name in names]
    lines = ["#### Metrics", ""]
    lines += [f"_{_cell(b.missing)}._" for b in report.baselines if b.missing]
    if not report.baselines:
        lines.append("_No baseline to compare with._")
    if not rows:
        return "\n".join([*lines, "", "_No metrics logged._"])
    numbers = range(1, 2 + 2 * len(compared))
    return "\n".join([*lines, "", _table(header, rows, "metrics", numbers)])


def _metric_row(report: Report, compared: Sequence[Baseline], name: str) -> list[str]:
    value = report.current.run.metrics.get(name)
    row = [_cell(name), _number(value)]
    for baseline in compared:
        assert baseline.snapshot is not None
        before = baseline.snapshot.run.metrics.get(name)
        row += [_number(before), _delta(value, before)]
    if report.gates:
        row.append(_verdicts(report, name))
    return row


def _verdicts(report: Report, name: str) -> str:
    metrics = report.current.run.metrics
    found = [g for g in report.gates if g.metric == name]
    return " ".join(f"{_verdict(report, gate, metrics)} {_code(str(gate))}" for gate in found)


def _verdict(report: Report, gate: Gate, metrics: Mapping[str, float]) -> str:
    """✅ or ❌; ❔ for a gate against an environment that could not be read."""
    if gate.environment and gate.environment not in report.gate_baselines:
        return "❔"
    return "✅" if gate.verdict(metrics, report.gate_baselines)[0] else "❌"


def _params_section(current: Snapshot, baseline: Baseline) -> str:
    assert baseline.snapshot is not None
    changes = param_changes(current, baseline.snapshot)
    title = f"#### Params changed since {_cell(baseline.label)}"
    if not changes:
        return f"{title}\n\n_None._"
    header = ["param", baseline.label, "this version"]
    rows = [[_cell(k), _param(k, old), _param(k, new)] for k, old, new in changes]
    return f"{title}\n\n{_table(header, rows, 'params changed')}"


def _param(key: str, value: str | None) -> str:
    if value is None:
        return "—"
    return "<code>***</code>" if _SECRET_KEY.search(key) else _code(value)


def _code(text: str) -> str:
    """Literal text in a cell: markdown is not read inside ``<code>``, the pipe is an entity."""
    return "<code>" + _cell(text).replace("\\|", "&#124;") + "</code>"


def _files_section(current: Snapshot, baseline: Baseline) -> str:
    assert baseline.snapshot is not None
    changes = file_changes(current, baseline.snapshot)
    now, before = total_size(current), total_size(baseline.snapshot)
    title = f"#### Files changed since {_cell(baseline.label)}"
    total = f"Total size: {_size(now)} ({_size_delta(now - before)})"
    if not changes:
        return f"{title}\n\n_None (same sha256)._ {total}"
    header = ["file", "change", "size", "Δ size"]
    rows = [
        [
            _code(c.name),
            c.change,
            "—" if c.change == "removed" else _size(c.size),
            _size_delta(c.size - c.size_before),
        ]
        for c in changes
    ]
    return f"{title}\n\n{_table(header, rows, 'files changed', range(2, 4))}\n\n{total}"


def _table(
    header: Sequence[str], rows: Sequence[Sequence[str]], what: str, numbers: range = range(0)
) -> str:
    """A GFM table; the ``numbers`` columns are right-aligned."""
    shown = rows[:MAX_ROWS]
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |"]
    lines.append("|" + "|".join("--:" if i in numbers else "---" for i in range(len(header))) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in shown]
    if len(rows) > len(shown):
        lines += ["", f"_… and {len(rows) - len(shown)} more {what}._"]
    table = "\n".join(lines)
    if len(rows) <= COLLAPSE_AFTER:
        return table
    return f"<details><summary>{len(rows)} {what}</summary>\n\n{table}\n\n</details>"


def _cell(text: str) -> str:
    """Safe inside a table cell: no HTML, no pipe, one line, bounded."""
    flat = " ".join(str(text).split())
    if len(flat) > MAX_CELL:
        flat = flat[: MAX_CELL - 1] + "…"
    return html.escape(flat, quote=False).replace("|", "\\|")


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.6g}"


def _delta(value: float | None, before: float | None) -> str:
    if value is None or before is None:
        return "—"
    change = value - before
    if change == 0:
        return "= 0"
    return f"{'▲' if change > 0 else '▼'} {change:+.4g}"


def _size(size: int) -> str:
    amount = float(abs(size))
    for unit in ("B", "KiB", "MiB", "GiB"):
        if amount < 1024 or unit == "GiB":
            text = f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
            return f"-{text}" if size < 0 else text
        amount /= 1024
    return f"{size} B"


def _size_delta(change: int) -> str:
    return "= 0" if change == 0 else ("+" if change > 0 else "") + _size(change)


# --- OpenMetrics -------------------------------------------------------------------------------


def openmetrics(report: Report) -> str:
    """The version's metrics, one gauge each, named ``gmr_<metric>{model="<model>"}`` so the
    widget pairs the same metric of the same model on both branches (no version in the name)."""
    lines: list[str] = []
    model = _label_value(report.model)
    for name, value in _metric_names(report.current.run.metrics.items()):
        lines += [f"# TYPE {name} gauge", f'{name}{{model="{model}"}} {_om_number(value)}']
    return "\n".join([*lines, "# EOF"]) + "\n"


def _metric_names(items: Iterable[tuple[str, float]]) -> list[tuple[str, float]]:
    """OpenMetrics names: ``[a-zA-Z_:][a-zA-Z0-9_:]*``; a clash after cleaning gets ``_2``…"""
    named: dict[str, float] = {}
    for key, value in sorted(items):
        base = "gmr_" + re.sub(r"[^a-zA-Z0-9_:]", "_", key)
        name, n = base, 2
        while name in named:
            name, n = f"{base}_{n}", n + 1
        named[name] = value
    return list(named.items())


def _label_value(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _om_number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


# --- annotations -------------------------------------------------------------------------------


def job_annotations(report: Report) -> dict[str, Any]:
    """``artifacts:reports:annotations``: links from the job page to the version and its files."""
    mv = report.current.version
    links = [
        (f"{report.model} {mv.version} in the model registry", report.links.version),
        (f"{report.model} {mv.version} files", report.links.package),
    ]
    items = [{"external_link": {"label": label, "url": url}} for label, url in links if url]
    return {ANNOTATIONS_SECTION: items}
