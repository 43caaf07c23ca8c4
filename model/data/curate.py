"""Fixing a dataset's labels by moving files, with a log that undoes every move exactly.

Nothing is deleted and nothing is overwritten (a name already taken gets ``-2``, ``-3``...):

- :func:`move_to_class` moves an image into another class folder of the same dataset.
- :func:`exclude` moves it into ``_excluded/<dataset>/<class>/`` beside the dataset, where
  training does not look.

Each move is appended to a log (JSON lines, in the run folder the person works from) with
the file's size and SHA-256. :func:`undo` moves a file back only if it is still the same
file and its old place is free, so an undo restores the folder bit for bit. Moves are
renames within one file system; across file systems the file is copied, verified and then
removed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["CurationError", "Move", "exclude", "excluded_folder", "move_to_class", "moves", "undo"]

LOG_NAME = "curation.jsonl"


class CurationError(Exception):
    """A move or undo that cannot be done safely, with the file and the reason."""


@dataclass(frozen=True)
class Move:
    """One logged move."""

    id: int  # 1, 2, ... in the log
    action: str  # "move" (to another class) or "exclude"
    source: str  # where the file was
    target: str  # where it went
    sha256: str
    size: int
    time: float  # seconds since the epoch
    undone: bool = False


def excluded_folder(dataset: str | os.PathLike[str]) -> Path:
    """Where :func:`exclude` puts a dataset's files: ``<parent>/_excluded/<dataset name>``."""
    root = Path(dataset).resolve()
    return root.parent / "_excluded" / root.name


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            sha.update(chunk)
    return sha.hexdigest()


def _log_path(run_dir: str | os.PathLike[str]) -> Path:
    return Path(run_dir) / LOG_NAME


def moves(run_dir: str | os.PathLike[str]) -> list[Move]:
    """Every move logged in ``run_dir``, oldest first, with undone ones marked."""
    path = _log_path(run_dir)
    if not path.is_file():
        return []
    found: dict[int, Move] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry.get("undo") is not None:
            undone = found.get(int(entry["undo"]))
            if undone is not None:
                found[undone.id] = Move(**{**asdict(undone), "undone": True})
        else:
            found[int(entry["id"])] = Move(
                **{k: entry[k] for k in Move.__dataclass_fields__ if k in entry}
            )
    return list(found.values())


def _append(run_dir: str | os.PathLike[str], entry: dict) -> None:
    path = _log_path(run_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def _relocate(source: Path, target: Path) -> None:
    """Move ``source`` to ``target``, which must not exist; never overwrites."""
    if target.exists() or target.is_symlink():
        raise CurationError(f"{target}: a file is already there; nothing was moved")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)  # fails if target appeared meanwhile: no overwrite race
        os.unlink(source)
    except OSError:
        if target.exists():
            raise CurationError(f"{target}: a file is already there; nothing was moved") from None
        shutil.copy2(source, target)  # another file system (or no hard links)
        if _digest(target) != _digest(source):
            target.unlink()
            raise CurationError(f"{source}: the copy did not verify; nothing was moved") from None
        source.unlink()


def _free_name(target: Path) -> Path:
    """``target``, or ``name-2.ext``, ``name-3.ext``... if a file already has that name."""
    candidate, n = target, 1
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = target.with_name(f"{target.stem}-{n}{target.suffix}")
    return candidate


def _record_move(run_dir, action: str, source: Path, target: Path) -> Move:
    if not source.is_file():
        raise CurationError(f"{source}: not a file (moved or deleted since the audit?)")
    digest, size = _digest(source), source.stat().st_size
    _relocate(source, target)
    move = Move(
        len(moves(run_dir)) + 1, action, str(source), str(target), digest, size, time.time()
    )
    entry = asdict(move)
    entry.pop("undone")
    _append(run_dir, entry)
    return move


def class_target(
    path: str | os.PathLike[str], dataset: str | os.PathLike[str], new_class: str
) -> Path:
    """Where :func:`move_to_class` would put the file (a free name in the class folder)."""
    return _free_name(Path(dataset).resolve() / new_class / Path(path).name)


def exclusion_target(path: str | os.PathLike[str], dataset: str | os.PathLike[str]) -> Path:
    """Where :func:`exclude` would put the file."""
    source, root = Path(path).resolve(), Path(dataset).resolve()
    try:
        inside = source.relative_to(root)
    except ValueError:
        raise CurationError(f"{source}: not inside the dataset {root}") from None
    return _free_name(excluded_folder(root) / inside)


def move_to_class(
    path: str | os.PathLike[str],
    dataset: str | os.PathLike[str],
    new_class: str,
    run_dir: str | os.PathLike[str],
) -> Move:
    """Move the image at ``path`` into the class folder ``new_class`` of ``dataset``."""
    source, root = Path(path).resolve(), Path(dataset).resolve()
    if not (root / new_class).is_dir() or "/" in new_class or new_class in ("", ".", ".."):
        raise CurationError(f"{root}: has no class folder {new_class!r}")
    return _record_move(run_dir, "move", source, class_target(source, root, new_class))


def exclude(
    path: str | os.PathLike[str],
    dataset: str | os.PathLike[str],
    run_dir: str | os.PathLike[str],
) -> Move:
    """Move the image at ``path`` out of the dataset, into :func:`excluded_folder`."""
    source = Path(path).resolve()
    return _record_move(run_dir, "exclude", source, exclusion_target(source, dataset))


def undo(run_dir: str | os.PathLike[str], move_id: int | None = None) -> Move:
    """Put a logged move back (the latest not undone, by default); return it.

    The file must still be where the move put it, with the same content, and its old
    place must be free.
    """
    pending = [m for m in moves(run_dir) if not m.undone]
    chosen = (
        next((m for m in pending if m.id == move_id), None)
        if move_id
        else (pending[-1] if pending else None)
    )
    if chosen is None:
        raise CurationError(f"{_log_path(run_dir)}: no such move to undo")
    target, source = Path(chosen.target), Path(chosen.source)
    if not target.is_file() or _digest(target) != chosen.sha256:
        raise CurationError(f"{target}: changed or gone since it was moved; not undone")
    _relocate(target, source)
    _append(run_dir, {"undo": chosen.id, "time": time.time()})
    return chosen
