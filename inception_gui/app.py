"""Start the window: it appears first, and torch is imported only after it is shown."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from inception_gui.core.display import display_problem
from inception_gui.core.resources import resource
from inception_gui.main_window import MainWindow

__all__ = ["create_app", "main"]


def create_app(argv: Sequence[str] | None = None) -> QApplication:
    """The QApplication, named so that QSettings land in one place."""
    app = QApplication.instance() or QApplication([sys.argv[0], *(argv or [])])
    app.setOrganizationName("InceptionGUI")
    app.setApplicationName("Inception GUI")
    app.setDesktopFileName("inception-gui")
    icon = resource("inception-gui.svg")
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))  # a real file: wheels install unzipped
    return app


def main(argv: Sequence[str] | None = None) -> int:
    """Open the main window; files or folders in ``argv`` are classified once the model is ready."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    paths = [a for a in (argv or []) if not a.startswith("-")]
    problem = display_problem()
    if problem is not None and QApplication.instance() is None:
        # Qt would abort with "could not load the Qt platform plugin xcb", naming nothing.
        print(problem, file=sys.stderr)
        return 1
    app = create_app()
    window = MainWindow()
    window.show()
    # Start the heavy work on the first turn of the event loop, after the window is painted.
    QTimer.singleShot(0, lambda: window.start(paths))
    return app.exec()
