"""Library-level helpers for the transfer tests: a GitLab backend on the double, an observer."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from gitlab_model_registry import Flags, Settings, open_registry
from gitlab_model_registry.backends import Backend
from tests.gitlab_double.pytest_plugin import Double
from tests.integration.publish.conftest import Gmr, gmr

# gmr: the CLI fixture, shared with the publish tests
__all__ = ["Lines", "gitlab", "gmr", "publish_split_file"]


class Lines:
    """An Observer that keeps its log lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    @contextmanager
    def phase(self, key: str, title: str) -> Iterator[None]:
        yield

    def log(self, message: str) -> None:
        self.lines.append(message)

    def transfer(self, files: int, total_bytes: int) -> None:
        pass

    def progress(self, name: str, done: int, total: int) -> None:
        pass


def gitlab(double: Double, observer: Lines, tmp_path: Path) -> Backend:
    flags = Flags(gitlab_url=double.url, project="1", token=double.developer_token)
    return open_registry(Settings.resolve(flags, {}, tmp_path), observer)


@pytest.fixture
def lines() -> Lines:
    return Lines()


@pytest.fixture
def faulty(double: Double) -> Iterator[Double]:
    yield double
    double.control.reset()


def publish_split_file(gmr: Gmr, tmp_path: Path, data: bytes, split_size: int) -> None:
    """iris 1.0.0 holding one file, big.bin, of ``data``, stored in parts of ``split_size``."""
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "big.bin").write_bytes(data)
    publish = ("publish", "iris", str(tmp_path / "model"), "--version", "1.0.0")
    assert gmr(*publish, "--split-size", f"{split_size}B").code == 0
