"""Parallelism that fits the work, and backs off when GitLab rate-limits (429 + Retry-After)."""

from __future__ import annotations

import os
from pathlib import Path

from gitlab_model_registry import CiContext, PublishRequest, publish
from tests.gitlab_double.pytest_plugin import Double
from tests.integration.transfers.conftest import Lines, gitlab


def _tree(root: Path, count: int, size: int) -> Path:
    root.mkdir()
    for i in range(count):
        (root / f"part-{i:03}.bin").write_bytes(os.urandom(size))
    return root


def test_many_small_files_finish_under_injected_429s_with_concurrency_backed_off(
    faulty: Double, lines: Lines, tmp_path: Path
) -> None:
    tree = _tree(tmp_path / "model", 40, 4096)
    faulty.control.set_faults(fault_rate=0.25, fault_statuses=[429], seed=7)
    request = PublishRequest(model="iris", paths=[str(tree)], version="1.0.0", concurrency=0)

    result = publish(gitlab(faulty, lines, tmp_path), request, CiContext(), lines)

    faulty.control.set_faults(fault_rate=0.0)
    assert len(result.uploaded) == 40
    backoffs = [line for line in lines.lines if line.startswith("the registry is rate limiting")]
    assert backoffs and backoffs[0].endswith(": 8 transfer(s) at a time"), lines.lines
    assert any(line.endswith("HTTP 429") and " in 1.0 s " in line for line in lines.lines)
    stored = faulty.control.version("iris", "1.0.0")
    assert stored is not None and len(stored["files"]) == 40
