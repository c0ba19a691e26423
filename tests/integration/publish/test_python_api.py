"""The README's Python API example, run as written against the GitLab double."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.gitlab_double.pytest_plugin import Double
from tests.integration.publish.conftest import clean_environ

README = Path(__file__).resolve().parents[3] / "README.md"


def _example() -> str:
    section = README.read_text().split("## Python API", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "the README's Python API section has a python example"
    return match.group(1)


def test_the_readme_example_publishes_and_lists_versions(double: Double, tmp_path: Path) -> None:
    script = (
        _example()
        .replace("https://gitlab.example.com", double.url)
        .replace('"group/project"', repr(double.project_path))
        .replace('"glpat-example"', repr(double.developer_token))
    )
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "weights.bin").write_bytes(b"\x00" * 1024)

    ran = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=clean_environ(),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert ran.returncode == 0, ran.stderr
    version_line, listed = ran.stdout.splitlines()
    assert version_line.startswith("1.0.0 ") and "/-/ml/models/" in version_line
    assert listed == "['1.0.0']"
    stored = double.control.version("iris", "1.0.0")
    assert stored is not None and stored["run"]["metrics"] == {"accuracy": 0.93}
    assert [f["name"] for f in stored["files"]] == ["weights.bin"]
