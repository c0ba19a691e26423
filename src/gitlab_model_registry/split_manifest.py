"""The stored form of a split file: numbered parts plus a manifest per version.

A file over the split size is stored as ``<name>.gmr-part-00001``, ``…-00002``, … (each at most
the split size) and one manifest per version, ``gmr-split.json``::

    {"format": "gmr-split/1",
     "files": [{"name": "weights.bin", "size": 12884901888, "sha256": "<whole file>",
                "parts": [{"name": "weights.bin.gmr-part-00001", "size": 4294967296,
                           "sha256": "<this part>"}, …]}]}

Pure: names, byte ranges and the manifest's text. ``splitting`` does the storing and reading.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gitlab_model_registry.errors import IntegrityError
from gitlab_model_registry.files import CHUNK_SIZE
from gitlab_model_registry.models import RemoteFile, UploadFile

MANIFEST = "gmr-split.json"
FORMAT = "gmr-split/1"
#: Just under GitLab.com's documented 5 GB per file.
DEFAULT_SPLIT_SIZE = 4608 * 1024**2  # 4.5 GiB
PART = re.compile(r"\.gmr-part-\d{5}$")


@dataclass(frozen=True)
class Split:
    """One logical file and its parts (RemoteFiles named as stored)."""

    file: RemoteFile
    parts: tuple[RemoteFile, ...]

    def as_json(self) -> dict[str, Any]:
        parts = [{"name": p.name, "size": p.size, "sha256": p.sha256} for p in self.parts]
        return {
            "name": self.file.name,
            "size": self.file.size,
            "sha256": self.file.sha256,
            "parts": parts,
        }


def reserved_name_problems(names: Sequence[str]) -> list[str]:
    """Names a GitLab publish cannot use: the manifest's, and part names (they would be hidden)."""
    return [
        f"{name!r} is a name gmr uses for split files on GitLab: rename the file"
        for name in names
        if name == MANIFEST or PART.search(name)
    ]


def part_name(name: str, index: int) -> str:
    return f"{name}.gmr-part-{index + 1:05}"


def plan_parts(file: UploadFile, split_size: int) -> list[UploadFile]:
    """The parts of ``file``: byte ranges of at most ``split_size``."""
    return [
        UploadFile(
            file.path,
            part_name(file.remote_name, i),
            min(split_size, file.size - start),
            offset=start,
        )
        for i, start in enumerate(range(0, file.size, split_size))
    ]


def parse_manifest(text: str) -> dict[str, Split]:
    try:
        body = json.loads(text)
        if body.get("format") != FORMAT:
            raise ValueError(body.get("format"))
        return {
            f["name"]: Split(
                RemoteFile(f["name"], int(f["size"]), f["sha256"], parts=len(f["parts"])),
                tuple(RemoteFile(p["name"], int(p["size"]), p["sha256"]) for p in f["parts"]),
            )
            for f in body["files"]
        }
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise IntegrityError(
            f"the version's {MANIFEST} is not a {FORMAT} manifest ({error})",
            hint="it was written by something else than gmr; publish the version again",
        ) from None


def render_manifest(splits: dict[str, Split]) -> str:
    files = [splits[name].as_json() for name in sorted(splits)]
    return json.dumps({"format": FORMAT, "files": files}, indent=1) + "\n"


def part_sha256(part: UploadFile) -> str:
    digest = hashlib.sha256()
    with part.path.open("rb") as handle:
        handle.seek(part.offset)
        left = part.size
        while left and (chunk := handle.read(min(CHUNK_SIZE, left))):
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()
