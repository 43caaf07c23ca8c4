"""Install the desktop launcher for the current user (freedesktop.org menus: Linux, BSD).

``inception-gui install-desktop`` writes ``inception-gui.desktop`` into
``$XDG_DATA_HOME/applications`` and the icon into
``$XDG_DATA_HOME/icons/hicolor/scalable/apps``; the menu then lists the app, it
opens by double-click, and file managers offer it for images ("Open with").
The launcher runs the interpreter this command was run with, so it works from
a virtual environment without activating it.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from inception_gui.core.resources import resource

__all__ = ["desktop_entry", "install_desktop", "uninstall_desktop"]

APP_ID = "inception-gui"


def _data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def desktop_entry(python: str | None = None) -> str:
    """The shipped ``.desktop`` text with ``Exec`` pointing at this interpreter."""
    template = resource(f"{APP_ID}.desktop").read_text(encoding="utf-8")
    command = f"{shlex.quote(python or sys.executable)} -m inception_gui.cli %F"
    lines = [f"Exec={command}" if ln.startswith("Exec=") else ln for ln in template.splitlines()]
    return "\n".join(lines) + "\n"


def _write(path: Path, data: bytes, mode: int | None = None) -> None:
    """Write ``path`` by way of a temporary file (made ``mode`` when given).

    Raises
    ------
    OSError
        Naming the folder that cannot be written (a read-only home, say).
    """
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        if mode is not None:
            tmp.chmod(mode)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror, str(path.parent)) from None


def install_desktop() -> list[Path]:
    """Write the launcher and icon for the current user; return what was written.

    Raises
    ------
    OSError
        A folder cannot be written; ``filename`` names it.
    """
    home = _data_home()
    entry = home / "applications" / f"{APP_ID}.desktop"
    icon = home / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"
    _write(entry, desktop_entry().encode("utf-8"), 0o755)
    _write(icon, resource(f"{APP_ID}.svg").read_bytes())
    _refresh_caches(home)
    return [entry, icon]


def uninstall_desktop() -> list[Path]:
    """Remove what :func:`install_desktop` wrote; return what was removed.

    Raises
    ------
    OSError
        A file cannot be removed; ``filename`` names it.
    """
    home = _data_home()
    removed = []
    for path in (
        home / "applications" / f"{APP_ID}.desktop",
        home / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg",
    ):
        if path.exists():
            path.unlink()
            removed.append(path)
    _refresh_caches(home)
    return removed


def _refresh_caches(home: Path) -> None:
    """Tell the desktop about the change, where its tools are installed (optional)."""
    tool = shutil.which("update-desktop-database")
    if tool:
        subprocess.run([tool, str(home / "applications")], check=False, capture_output=True)
