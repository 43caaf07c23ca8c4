"""Before Qt opens a window on Linux: are the X11 libraries its xcb plugin needs there?

When they are not, Qt aborts with "could not load the Qt platform plugin xcb",
which names none of them. This module checks the same shared libraries first
and says, in one line, which system packages bring them, and that the command
line works without a display. Qt-free, so it runs before ``QApplication``.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable

__all__ = ["XCB_LIBRARIES", "display_problem", "missing_libraries"]

# Shared library -> (Debian/Ubuntu package, Fedora package), as Qt 6's xcb plugin needs them.
XCB_LIBRARIES: dict[str, tuple[str, str]] = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-xinerama.so.0": ("libxcb-xinerama0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
}


def _loads(name: str) -> bool:
    try:
        ctypes.CDLL(name)
    except OSError:
        return False
    return True


def missing_libraries(loads: Callable[[str], bool] = _loads) -> list[str]:
    """The libraries of :data:`XCB_LIBRARIES` that cannot be loaded, in table order."""
    return [name for name in XCB_LIBRARIES if not loads(name)]


def _uses_xcb(environ: os._Environ | dict) -> bool:
    chosen = environ.get("QT_QPA_PLATFORM", "")
    if chosen:
        return chosen.split(":")[0] == "xcb"
    return not environ.get("WAYLAND_DISPLAY")  # a Wayland session uses Qt's wayland plugin


def display_problem(
    environ: os._Environ | dict | None = None,
    platform: str | None = None,
    loads: Callable[[str], bool] = _loads,
) -> str | None:
    """One line saying why Qt cannot open a window here and what to install, or None.

    Only Linux with the xcb platform (X11) is checked; elsewhere Qt's own
    message stands.
    """
    environ = os.environ if environ is None else environ
    platform = platform or sys.platform
    if not platform.startswith("linux") or not _uses_xcb(environ):
        return None
    missing = missing_libraries(loads)
    if not missing:
        return None
    debian = " ".join(dict.fromkeys(XCB_LIBRARIES[m][0] for m in missing))
    fedora = " ".join(dict.fromkeys(XCB_LIBRARIES[m][1] for m in missing))
    return (
        f"inception-gui: Qt cannot open a window: missing {', '.join(missing)}. "
        f"Install them with 'sudo apt install {debian}' (Debian/Ubuntu) or "
        f"'sudo dnf install {fedora}' (Fedora). The command line works without a display: "
        "inception-gui --help"
    )
