"""One training run at a time in a run folder: an exclusive lock held while a run writes it.

Two runs started into one folder both found it empty, and the second silently
overwrote the first. The lock is an OS lock on ``.run.lock`` in the folder
(``flock`` on POSIX, ``msvcrt.locking`` on Windows): the OS drops it when the
process ends, even by ``kill -9``, so a killed run never leaves the folder
locked, and a run that holds it knows every temporary file there is a dead
run's. The file holds the owner's process id, for the message.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

__all__ = ["LOCK_NAME", "RunFolderBusy", "RunLock"]

LOCK_NAME = ".run.lock"


class RunFolderBusy(Exception):
    """Another process holds the run folder's lock."""


def _try_lock(fd: int) -> bool:
    if os.name == "nt":  # pragma: no cover - exercised on Windows only
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class RunLock:
    """The lock of one run folder, held from :meth:`acquire` until :meth:`release`."""

    def __init__(self, folder: Path, fd: int, created: bool) -> None:
        self.folder, self._fd, self._created = folder, fd, created

    @classmethod
    def acquire(cls, folder: str | os.PathLike[str]) -> RunLock:
        """Create ``folder`` if needed and lock it for this process.

        Raises
        ------
        RunFolderBusy
            Another run holds it; the message names the folder and that run's process.
        OSError
            The folder cannot be created or written.
        """
        folder = Path(folder).expanduser()
        created = not folder.exists()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / LOCK_NAME
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            if not _try_lock(fd):
                owner = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
                os.close(fd)
                raise RunFolderBusy(
                    f"'{folder}' is being written by another training run (process {owner}): "
                    "wait for it to end, or choose another folder"
                )
            # The owner before us may have removed the file between our open and our lock:
            # then we hold a lock on a name no one else sees, so try again on the new one.
            try:
                same = os.fstat(fd).st_ino == os.stat(path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        return cls(folder, fd, created)

    def release(self) -> None:
        """Remove the lock file and unlock (closing the file unlocks it).

        A folder :meth:`acquire` created goes too if the run left nothing in it
        (it stopped before its first checkpoint).
        """
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            (self.folder / LOCK_NAME).unlink()
        os.close(self._fd)
        self._fd = None
        if self._created:
            with contextlib.suppress(OSError):
                self.folder.rmdir()  # only if empty
