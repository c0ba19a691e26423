"""File selection: VCS folders left out by default, --exclude/--include globs, what was left out."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitlab_model_registry import files
from gitlab_model_registry.selection import DEFAULT_RULES, Rules, summary


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "model"
    for name in [
        "weights.bin",
        ".gitattributes",
        ".git/HEAD",
        ".git/objects/ab/cdef",
        "sub/.svn/entries",
        "sub/.hg/store",
        "logs/run.log",
        "logs/keep.txt",
        "notes.tmp",
        "deep/er/scratch.tmp",
    ]:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name)
    return root


def selected(tree: Path, rules: Rules = DEFAULT_RULES) -> tuple[list[str], list[str]]:
    left_out: list[str] = []
    found = files.collect([tree], rules=rules, left_out=left_out)
    return [f.remote_name for f in found], sorted(left_out)


def test_vcs_folders_are_left_out_by_default_at_any_depth_and_other_dotfiles_kept(
    tree: Path,
) -> None:
    kept, left_out = selected(tree)

    assert ".gitattributes" in kept and "weights.bin" in kept
    assert not any({".git", ".svn", ".hg"} & set(k.split("/")) for k in kept)
    assert left_out == [".git/", "sub/.hg/", "sub/.svn/"]


def test_exclude_globs_match_names_paths_and_folders(tree: Path) -> None:
    kept, left_out = selected(tree, Rules(exclude=["*.tmp", "logs/"]))

    assert sorted(kept) == [".gitattributes", "weights.bin"]
    assert "logs/" in left_out and "notes.tmp" in left_out and "deep/er/scratch.tmp" in left_out


def test_include_keeps_a_file_an_exclude_or_a_vcs_folder_would_leave_out(tree: Path) -> None:
    rules = Rules(exclude=["logs", "*.tmp"], include=["logs/keep.txt", ".git/HEAD"])

    kept, left_out = selected(tree, rules)

    assert "logs/keep.txt" in kept and ".git/HEAD" in kept
    assert "logs/run.log" in left_out and ".git/objects/ab/cdef" in left_out


def test_a_path_given_as_a_file_is_always_kept(tree: Path) -> None:
    found = files.collect([tree / "notes.tmp"], rules=Rules(exclude=["*.tmp"]))

    assert [f.remote_name for f in found] == ["notes.tmp"]


def test_a_directory_whose_files_are_all_left_out_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "repo" / ".git" / "HEAD").write_text("ref")

    with pytest.raises(files.InvalidSelection, match="every file left out"):
        files.collect([tmp_path / "repo"])


def test_summary_names_a_few_and_counts_the_rest() -> None:
    assert summary([".git/", "a.tmp"]) == ".git/, a.tmp"
    assert summary([f"f{n}" for n in range(8)], limit=2) == "f0, f1 (and 6 more)"
