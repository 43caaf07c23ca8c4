"""Files a person names or owns: is a path readable, and writing one safely.

:func:`file_problem` is asked before opening anything a person names: opening a named pipe
(FIFO) blocks until something writes to it, which may be never; a device such as
``/dev/zero`` reads forever. Both, and folders, sockets and unreadable files, get a reason
that names what the path is instead. :func:`atomic_write` writes a file so that a kill at
any moment leaves the old one or the new one, refuses to replace a file the person made
read-only, and writes through a symbolic link instead of replacing the link.
Torch-free, so every reader and the GUI's CSV exports use it.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["atomic_write", "file_problem", "refuse_read_only", "sync_folder"]


def _read_umask() -> int:
    # Read once at import: os.umask can only be read by setting it, which is not thread-safe.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def atomic_write(path: str | os.PathLike[str], write: Callable[[str], object]) -> None:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then rename it over.

    A crash or kill at any moment leaves either the old file or the new one,
    never a half-written one.
    """
    path = Path(path)
    if path.is_symlink():  # write through to the file the link names; the link stays
        path = Path(os.path.realpath(path))
    refuse_read_only(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    # mkstemp creates the file private (0600); give it the permissions a plain open() would.
    os.chmod(tmp, 0o666 & ~_UMASK)
    try:
        write(tmp)
        # Again: a writer that recreates the file (safetensors' save_file) leaves it 0600.
        os.chmod(tmp, 0o666 & ~_UMASK)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        sync_folder(path.parent)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def sync_folder(folder: str | os.PathLike[str]) -> None:
    """Flush a rename to disk, so that a power cut cannot undo it (POSIX; elsewhere a no-op)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a folder; the rename itself has happened
    finally:
        os.close(fd)


def refuse_read_only(path: str | os.PathLike[str]) -> None:
    """Raise PermissionError if ``path`` is a file its owner made read-only (no write bit).

    A rename over it would succeed (the folder is writable), replacing a file the
    person protected without a word; and as root, ``os.access`` would say yes.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # missing (to be created), or the write itself will say why
    if stat.S_ISREG(mode) and not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise PermissionError(
            errno.EACCES,
            "the file is read-only; make it writable or choose another name",
            str(path),
        )


_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def file_problem(path: str | os.PathLike[str], what: str = "a file") -> str | None:
    """Why ``path`` is not a readable regular file, in words; None when it is one.

    Parameters
    ----------
    path : str or PathLike
        The path (symbolic links are followed).
    what : str
        What the caller wanted it to be, for the message ("an image file").
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "no such file"
    except NotADirectoryError:
        return "no such file (a part of the path is a file, not a folder)"
    except PermissionError:
        return "permission denied (a folder on the way cannot be entered)"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if stat.S_ISDIR(mode):
        return f"is a folder, not {what}"
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
        return f"is {kind}, not {what}"
    if not os.access(path, os.R_OK):
        return "permission denied (the file cannot be read)"
    return None
