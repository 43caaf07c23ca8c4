"""``inception-gui install-desktop``: the launcher in this user's menu and "Open with"."""

from __future__ import annotations

import argparse

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
    if args.uninstall:
        removed = uninstall_desktop()
        print("removed:\n  " + "\n  ".join(map(str, removed)) if removed else "nothing to remove")
        return 0
    for path in install_desktop():
        print(f"installed {path}")
    return 0
