"""The ``inception-gui`` command: the window, or a subcommand for scripts (no Qt here)."""

from inception_gui.cli.main import main

__all__ = ["main"]
