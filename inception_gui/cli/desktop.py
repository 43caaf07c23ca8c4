"""``inception-gui install-desktop``: the launcher in this user's menu and "Open with"."""

from __future__ import annotations

import argparse

from inception_gui.cli.common import _error
from inception_gui.core.desktop import install_desktop, uninstall_desktop

__all__ = ["add_parser", "run"]


def add_parser(sub) -> None:
    """Add ``install-desktop`` to the subcommands."""
    desk = sub.add_parser(
        "install-desktop",
        help="add Inception GUI to this user's application menu and 'Open with' (Linux)",
    )
    desk.add_argument("--uninstall", action="store_true", help="remove the launcher again")


def run(args: argparse.Namespace) -> int:
    """Run ``install-desktop``: 0 when done, 2 when a folder cannot be written."""
    try:
        if args.uninstall:
            removed = uninstall_desktop()
        else:
            installed = install_desktop()
    except OSError as exc:  # a read-only home: one line, the folder and the reason
        what = "remove" if args.uninstall else "install"
        return _error(f"cannot {what} the launcher: '{exc.filename}': {exc.strerror or exc}")
    if args.uninstall:
        print("removed:\n  " + "\n  ".join(map(str, removed)) if removed else "nothing to remove")
    else:
        for path in installed:
            print(f"installed {path}")
    return 0
