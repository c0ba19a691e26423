"""A split file's bytes put together: parts written into their places in the file, its sha256
taken as they land (GitLab), or downloaded whole and joined by the kernel, its sha256 taken
beside the copy (other registries).

The first part becomes the file (renamed, not copied) and the others are appended with
``copy_file_range``, so no byte passes through Python on the way; a thread hashes the parts in
order meanwhile (hashlib releases the GIL), and each part is removed once it is both appended and
hashed, so the disk holds the file plus about one part, never the file twice.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from gitlab_model_registry._bodies import Placement
from gitlab_model_registry._digesting import FollowingDigest
from gitlab_model_registry.errors import IntegrityError
from gitlab_model_registry.models import RemoteFile
from gitlab_model_registry.split_manifest import Split

#: Read size of the hashing thread.
_READ = 4 * 1024 * 1024


class RangeDigest:
    """sha256 over ``(path, offset, size)`` ranges in order, computed on its own thread."""

    def __init__(self, ranges: Sequence[tuple[Path, int, int]]) -> None:
        self._hashed = [threading.Event() for _ in ranges]
        self._digest = ""
        self._error: OSError | None = None
        self._thread = threading.Thread(target=self._run, args=(ranges,), daemon=True)
        self._thread.start()

    def wait_for(self, index: int) -> None:
        """Until range ``index`` has been read (or the hashing failed)."""
        self._hashed[index].wait()

    def result(self) -> str:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._digest

    def _run(self, ranges: Sequence[tuple[Path, int, int]]) -> None:
        digest = hashlib.sha256()
        try:
            for index, (path, offset, size) in enumerate(ranges):
                with path.open("rb") as handle:
                    handle.seek(offset)
                    left = size
                    while left and (chunk := handle.read(min(_READ, left))):
                        digest.update(chunk)
                        left -= len(chunk)
                self._hashed[index].set()
            self._digest = digest.hexdigest()
        except OSError as error:
            self._error = error
        finally:
            for event in self._hashed:
                event.set()  # nobody waits forever on a failed hashing


def join(parts: Sequence[tuple[Path, int]], joined: Path) -> str:
    """Join the ``(path, size)`` parts into ``joined`` (next to them); the result's sha256.

    The parts are gone afterwards; on an error the first part may hold a partial join (the
    caller works in a directory it removes).
    """
    digest = RangeDigest([(path, 0, size) for path, size in parts])
    first, end = parts[0]
    out = os.open(first, os.O_WRONLY)
    try:
        for index, (path, size) in enumerate(parts[1:], start=1):
            source = os.open(path, os.O_RDONLY)
            try:
                _append(source, out, end, size)
            finally:
                os.close(source)
            end += size
            digest.wait_for(index)
            path.unlink()
    finally:
        os.close(out)
        result = digest.result()  # the thread is done before anything is renamed or raised
    first.replace(joined)
    return result


def _append(source: int, out: int, at: int, size: int) -> None:
    """``size`` bytes of ``source`` written at ``at`` in ``out``: in the kernel where it can."""
    done = 0
    try:
        while done < size:
            copied = os.copy_file_range(source, out, size - done, done, at + done)
            if copied == 0:
                break
            done += copied
    except (AttributeError, OSError):  # no copy_file_range here (another OS, or filesystem)
        while done < size and (chunk := os.pread(source, min(_READ, size - done), done)):
            done += os.pwrite(out, chunk, at + done)
    if done < size:
        raise OSError(f"a part is {size - done} byte(s) short of its recorded size")


def _building(parts_dir: Path, split: Split) -> Path:
    return parts_dir / f".whole-{hashlib.sha256(split.file.name.encode()).hexdigest()[:16]}"


def _record(building: Path) -> Path:
    return building.with_name(building.name + ".landed.json")


Places = list[tuple[RemoteFile, Placement]]
#: Fetches parts into their places once more (their sha256 checked this time).
Refetch = Callable[[Places], None]


def placements(splits: Sequence[Split], parts_dir: Path) -> list[Places]:
    """Each split's parts with their places in its file, created at its full size (sparse until
    written), or as far as a stopped try of the download recorded each part had landed
    (``record_landed``). The parts are not hashed one by one: the whole file is, as they land,
    so bytes a stopped try left are checked with the rest."""
    grouped = []
    for split in splits:
        building = _building(parts_dir, split)
        landed = _landed(split, building)
        if not landed:
            with building.open("wb") as out:
                out.truncate(split.file.size)
        offsets = list(itertools.accumulate((p.size for p in split.parts), initial=0))[:-1]
        grouped.append(
            [
                (p, Placement(building, at, hashing=False, written=landed.get(p.name, 0)))
                for p, at in zip(split.parts, offsets, strict=True)
            ]
        )
    return grouped


def record_landed(splits: Sequence[Split], grouped: Sequence[Places]) -> None:
    """How far each part landed, for a next try of the download (``resuming``). Written whole
    or not at all (renamed into place): a record cut off midway would cost the next try all."""
    for split, places in zip(splits, grouped, strict=True):
        landed = {part.name: place.written for part, place in places}
        record = _record(places[0][1].path)
        writing = record.with_name(record.name + ".new")
        writing.write_text(json.dumps({"sha256": split.file.sha256, "landed": landed}))
        writing.replace(record)


class Recording:
    """``record_landed`` every ``every`` seconds while the parts land, and once at the end: a
    download killed outright (SIGKILL, no handler runs) still leaves how far each part got.
    ``written`` only counts bytes already in the file, so a record never claims more."""

    def __init__(
        self, splits: Sequence[Split], grouped: Sequence[Places], every: float = 1.0
    ) -> None:
        self._splits, self._grouped, self._every = splits, grouped, every
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gmr-landed", daemon=True)

    def __enter__(self) -> Recording:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        record_landed(self._splits, self._grouped)

    def _run(self) -> None:
        while not self._done.wait(self._every):
            try:
                record_landed(self._splits, self._grouped)
            except OSError:
                return  # the disk refuses: the download meets it too, and says so


def _landed(split: Split, building: Path) -> dict[str, int]:
    """A stopped try's record for ``split``: part name -> bytes in place ({} if none fits)."""
    try:
        record = json.loads(_record(building).read_text())
        if building.stat().st_size != split.file.size or record["sha256"] != split.file.sha256:
            return {}
        sizes = {p.name: p.size for p in split.parts}
        landed = {str(k): int(v) for k, v in record["landed"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}
    fits = landed.keys() == sizes.keys() and all(0 <= landed[n] <= sizes[n] for n in sizes)
    return landed if fits else {}


def following(places: Places) -> FollowingDigest:
    """The sha256 of the file ``places`` fill, taken as their bytes land."""
    return FollowingDigest(places[0][1].path, [(part.size, place) for part, place in places])


def verify_placed(
    split: Split, places: Places, followed: str | None, refetch: Refetch, target: Path
) -> None:
    """The file ``places`` filled, checked as a whole, then put in place.

    When the whole does not match, the parts that do not are fetched once more, checked one by
    one (bytes damaged on the way); a part that still does not match is refused (``transfer``).
    """
    building = places[0][1].path
    digest = followed or _read_back(building, split.file.size)
    if digest != split.file.sha256:
        damaged = [
            (part, place)
            for part, place in places
            if _read_back(building, part.size, place.offset) != part.sha256
        ]
        if damaged:
            for _, place in damaged:
                place.restart()
                place.hashing = True
            refetch(damaged)
            digest = _read_back(building, split.file.size)
    _check_whole(split, digest)
    target.parent.mkdir(parents=True, exist_ok=True)
    building.replace(target)


def _read_back(path: Path, size: int, offset: int = 0) -> str:
    return RangeDigest([(path, offset, size)]).result()


def assemble(split: Split, parts_dir: Path, target: Path) -> None:
    """Join the verified parts into ``target``, verified as a whole first (``_joining``)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    building = parts_dir / ".whole"
    parts = [(parts_dir / part.name, part.size) for part in split.parts]
    _check_whole(split, join(parts, building))
    building.replace(target)


def _check_whole(split: Split, digest: str) -> None:
    if digest != split.file.sha256:
        raise IntegrityError(
            f"{split.file.name}: its reassembled parts do not match the manifest's sha256",
            hint="the stored parts may be corrupt; publish the version again",
        )
