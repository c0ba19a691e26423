"""Local files: turn the PATHs given to publish into UploadFiles, validating everything before
anything remote happens; and a file's sha256."""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from .errors import LocalProblems
from .models import RemoteFile, UploadFile
from .selection import DEFAULT_RULES, Rules
from .sizes import human_size

CHUNK_SIZE = 1024 * 1024
# GitLab's rule for an ml_model package file name (reference/gitlab-api.md §2), per path part.
_GITLAB_NAME_CHAR = re.compile(r"[A-Za-z0-9._+\- ]")
_ALLOWED_CHARS = "letters A-Z a-z, digits, '.', '_', '-', '+' and spaces"
# GitLab's model name rule (the package-name format, ASCII \w; reference/gitlab-api.md §4).
_GITLAB_MODEL_NAME = re.compile(r"@?(?:[\w.+-]*/)*[\w.-]+@?(?:[\w.+-]*/)*[\w.-]*", re.ASCII)
_MAX_MODEL_NAME = 255


class InvalidSelection(LocalProblems):
    """The PATHs cannot be uploaded; ``problems`` lists every reason, the message the first."""


def collect(
    paths: Sequence[str | os.PathLike[str]],
    *,
    max_file_size: int | None = None,
    rules: Rules = DEFAULT_RULES,
    left_out: list[str] | None = None,
) -> tuple[UploadFile, ...]:
    """The files to upload, sorted by remote name; raises InvalidSelection listing every problem.

    A file is stored under its base name; a directory's files under their POSIX path relative to
    it (``model/weights/a.bin`` -> ``weights/a.bin``). Symlinks inside a directory are followed
    to files within that directory; links to directories or out of the tree are problems.
    Files the ``rules`` leave out (``selection``) are appended to ``left_out``.
    """
    found: list[UploadFile] = []
    problems: list[str] = []
    skipped = [] if left_out is None else left_out
    for given in paths:
        _collect_path(Path(given), found, problems, (rules, skipped))
    if not found and not problems:
        problems.append("nothing to upload: pass at least one file or directory as PATH")
    problems += _name_problems(found) + _duplicate_problems(found)
    problems += _size_problems(found, max_file_size)
    if problems:
        raise InvalidSelection(problems)
    return tuple(sorted(found, key=lambda f: f.remote_name))


_Selecting = tuple[Rules, list[str]]


def _collect_path(
    given: Path, found: list[UploadFile], problems: list[str], selecting: _Selecting
) -> None:
    try:
        info = given.stat()
    except FileNotFoundError:
        broken = given.is_symlink()
        problems.append(f"{_show(given)} {'is a broken symlink' if broken else 'does not exist'}")
        return
    except OSError as error:
        problems.append(f"{_show(given)} cannot be read ({error.strerror}): check its permissions")
        return
    if stat.S_ISDIR(info.st_mode):
        _collect_directory(given, found, problems, selecting)
    else:
        _add_file(given, given.name, info, found, problems)


def _collect_directory(
    root: Path, found: list[UploadFile], problems: list[str], selecting: _Selecting
) -> None:
    rules, left_out = selecting
    real_root = os.path.realpath(root)
    before = (len(found), len(problems), len(left_out))
    pending = [(root, "")]
    while pending:
        directory, prefix = pending.pop()
        try:
            with os.scandir(directory) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except OSError as error:
            problems.append(f"{_show(directory)} cannot be read ({error.strerror})")
            continue
        for entry in entries:
            path, remote = Path(entry.path), prefix + entry.name
            is_folder = entry.is_dir(follow_symlinks=False)
            if rules.leaves_out_folder(remote) if is_folder else rules.leaves_out(remote):
                left_out.append(remote + "/" if is_folder else remote)
            elif entry.is_symlink():
                _add_link(path, remote, real_root, found, problems)
            elif entry.is_dir(follow_symlinks=False):
                pending.append((path, remote + "/"))
            else:
                _add_file(path, remote, entry.stat(follow_symlinks=False), found, problems)
    if (len(found), len(problems)) == before[:2]:
        why = "has every file left out (--exclude, VCS folders)"
        why = why if len(left_out) > before[2] else "contains no files"
        problems.append(f"directory {_show(root)} {why}: nothing to upload from it")


def _add_link(
    link: Path, remote: str, real_root: str, found: list[UploadFile], problems: list[str]
) -> None:
    target = os.path.realpath(link)
    if os.path.commonpath([target, real_root]) != real_root:
        problems.append(
            f"{_show(link)} is a symlink to {target!r}, outside {real_root!r}: copy the file "
            "into the directory or pass it as a PATH of its own"
        )
        return
    try:
        info = link.stat()
    except OSError:
        problems.append(f"{_show(link)} is a broken symlink: remove it or fix its target")
        return
    if stat.S_ISDIR(info.st_mode):
        problems.append(
            f"{_show(link)} is a symlink to a directory, which is not followed: "
            "remove it, or pass the directory it points to as a PATH"
        )
        return
    _add_file(link, remote, info, found, problems)


def _add_file(
    path: Path, remote: str, info: os.stat_result, found: list[UploadFile], problems: list[str]
) -> None:
    if not stat.S_ISREG(info.st_mode):
        problems.append(
            f"{_show(path)} is not a regular file (a fifo, socket or device): "
            "pass regular files only"
        )
    elif not os.access(path, os.R_OK):
        problems.append(f"{_show(path)} is not readable: check its permissions")
    else:
        found.append(UploadFile(path=path, remote_name=remote, size=info.st_size))


def _name_problems(found: Sequence[UploadFile]) -> list[str]:
    return [
        f"{_show(f.path)} would be stored as {f.remote_name!r}, which GitLab rejects"
        f"{_bad_chars(f.remote_name)}: each part of a file's path may only use {_ALLOWED_CHARS}, "
        "and may not be '.' or '..'; rename it"
        for f in found
        if not all(_valid_part(part) for part in f.remote_name.split("/"))
    ]


def _valid_part(part: str) -> bool:
    return part not in ("", ".", "..") and all(_GITLAB_NAME_CHAR.fullmatch(c) for c in part)


def _bad_chars(name: str) -> str:
    bad = sorted({c for c in name if c != "/" and not _GITLAB_NAME_CHAR.fullmatch(c)})
    return f" (it contains {', '.join(map(repr, bad))})" if bad else ""


def _duplicate_problems(found: Sequence[UploadFile]) -> list[str]:
    by_name: defaultdict[str, list[Path]] = defaultdict(list)
    for f in found:
        by_name[f.remote_name].append(f.path)
    return [
        f"{' and '.join(map(_show, paths))} would all be stored as {name!r}: "
        "rename one of them or pass them under different directories"
        for name, paths in by_name.items()
        if len(paths) > 1
    ]


def _size_problems(found: Sequence[UploadFile], limit: int | None) -> list[str]:
    if limit is None:
        return []
    return [
        f"{_show(f.path)} is {human_size(f.size)}, over the {human_size(limit)} limit per file: "
        "split it into smaller files"
        for f in found
        if f.size > limit
    ]


def gitlab_model_name_problems(name: str) -> list[str]:
    """Why GitLab would refuse ``name`` as a model name, if it would."""
    if len(name) <= _MAX_MODEL_NAME and _GITLAB_MODEL_NAME.fullmatch(name):
        return []
    return [
        f"model name {name!r} is refused by GitLab: use letters, digits, '.', '_' and '-' "
        f"(at most {_MAX_MODEL_NAME} characters)"
    ]


def output_file_problems(path: Path, flag: str) -> list[str]:
    """Why ``path`` (written by ``flag``, e.g. --dotenv) cannot be written, if it cannot."""
    parent = path.absolute().parent
    if path.is_dir():
        return [f"{flag} {_show(path)} is a directory: name a file"]
    if not parent.is_dir():
        return [f"{flag} {_show(path)}: folder {_show(parent)} does not exist: create it first"]
    if not os.access(parent, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return [f"{flag} {_show(path)} cannot be written: check the permissions"]
    return []


def output_dir_problems(path: Path, flag: str) -> list[str]:
    """Why folder ``path`` (created by ``flag``) cannot be created or written, if it cannot."""
    parent = path.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        return [f"{flag} {_show(path)}: cannot write in {_show(parent)}: check the permissions"]
    return []


def _show(path: Path) -> str:
    # repr keeps a message on one line whatever characters a file name holds.
    return repr(os.fspath(path))


def sha256_file(path: str | os.PathLike[str], chunk: int = CHUNK_SIZE) -> str:
    """sha256 of a file, read ``chunk`` bytes at a time into one reused buffer."""
    digest = hashlib.sha256()
    buffer = bytearray(chunk)
    view = memoryview(buffer)
    with Path(path).open("rb") as file:
        while size := file.readinto(buffer):
            digest.update(view[:size])
    return digest.hexdigest()


def stays_inside(name: str) -> bool:
    """Whether a registry's file name stays inside the folder it is placed in (never a path
    of the registry's choosing)."""
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts


def holds(path: Path, file: RemoteFile) -> bool:
    """Whether ``path`` is a regular file with ``file``'s size and sha256 (none: never)."""
    try:
        if not path.is_file() or path.stat().st_size != file.size:
            return False
    except OSError:
        return False
    return bool(file.sha256) and sha256_file(path) == file.sha256
