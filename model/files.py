"""Is this path a file that can be read? Asked before opening anything a person names.

Opening a named pipe (FIFO) blocks until something writes to it, which may be
never; a device such as ``/dev/zero`` reads forever. Both, and folders, sockets
and unreadable files, get a reason here that names what the path is instead.
Torch-free, so every reader can ask it first.
"""

from __future__ import annotations

import os
import stat

__all__ = ["file_problem"]

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
