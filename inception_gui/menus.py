"""The window's menu bar (File, Edit, View, Help) and its About box.

Each action calls what a button already does; the keys are Qt's standard key
sequences, so they follow the platform (Ctrl+O here, Cmd+O on macOS).
"""

from __future__ import annotations

import html
import platform
from importlib import metadata
from typing import TYPE_CHECKING

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QMessageBox

from inception_gui import __version__

if TYPE_CHECKING:
    from inception_gui.main_window import MainWindow

__all__ = ["about_text", "build_menus"]

Key = QKeySequence.StandardKey


def _action(window: MainWindow, menu, text: str, slot, key=None, tip: str = "") -> QAction:
    action = QAction(text, window)
    if key is not None:
        action.setShortcuts(QKeySequence.keyBindings(key) if isinstance(key, Key) else [key])
    if tip:
        action.setStatusTip(tip)
    action.triggered.connect(lambda _checked=False: slot())
    menu.addAction(action)
    return action


def build_menus(window: MainWindow) -> dict[str, QAction]:
    """Fill ``window``'s menu bar; returns the actions by name (tests and scripts use them)."""
    bar = window.menuBar()
    classify, explorer, train = window.classify_tab, window.explorer_tab, window.train_tab

    def on_classify(slot):
        def run() -> None:
            window.tabs.setCurrentWidget(classify)
            slot()

        return run

    actions: dict[str, QAction] = {}
    file = bar.addMenu("&File")
    actions["open"] = _action(
        window, file, "&Open Images…", on_classify(classify._on_open_clicked), Key.Open
    )
    actions["open_folder"] = _action(
        window,
        file,
        "Open &Folder…",
        on_classify(classify._on_folder_clicked),
        QKeySequence("Ctrl+Shift+O"),
    )
    file.addSeparator()
    actions["load_weights"] = _action(
        window, file, "&Load Weights File…", window._on_load_clicked, QKeySequence("Ctrl+L")
    )
    actions["export_model"] = _action(window, file, "&Export Model…", window._on_export_clicked)
    actions["export_csv"] = _action(
        window, file, "Export Predictions as &CSV…", classify._on_export_clicked, Key.SaveAs
    )
    file.addSeparator()
    actions["close"] = _action(window, file, "&Close Window", window.close, Key.Close)
    actions["quit"] = _action(window, file, "&Quit", window.close, Key.Quit)
    window.session.ready.connect(lambda _state: actions["export_model"].setEnabled(True))
    actions["export_model"].setEnabled(False)

    edit = bar.addMenu("&Edit")
    actions["paste"] = _action(
        window, edit, "&Paste Images or Paths", on_classify(classify.paste), Key.Paste
    )
    actions["clear"] = _action(window, edit, "C&lear Results", on_classify(classify.clear))
    actions["find"] = _action(window, edit, "&Find Layer…", lambda: _find_layer(window), Key.Find)

    view = bar.addMenu("&View")
    for i, (name, tab) in enumerate(
        (("Classify", classify), ("Explorer", explorer), ("Train", train))
    ):
        actions[f"tab_{i}"] = _action(
            window,
            view,
            f"&{i + 1} {name}",
            lambda t=tab: window.tabs.setCurrentWidget(t),
            QKeySequence(f"Ctrl+{i + 1}"),
        )
    view.addSeparator()
    actions["full_screen"] = _action(
        window,
        view,
        "&Full Screen",
        lambda: window.showNormal() if window.isFullScreen() else window.showFullScreen(),
        Key.FullScreen,
    )

    help_menu = bar.addMenu("&Help")
    actions["about"] = _action(
        window, help_menu, "&About Inception GUI", lambda: show_about(window)
    )
    actions["about_qt"] = _action(window, help_menu, "About &Qt", QApplication.aboutQt)
    return actions


def _find_layer(window: MainWindow) -> None:
    window.tabs.setCurrentWidget(window.explorer_tab)
    window.explorer_tab.search.setFocus()
    window.explorer_tab.search.selectAll()


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def about_text(window: MainWindow) -> str:
    """What the About box says: the versions, and the device and weights in use."""
    state = window.session.state
    if state is None:
        using = "no model loaded yet"
    else:
        device = window.device_combo.currentText() or state.device
        using = f"{html.escape(state.display_name)} on {html.escape(device)} "
        using += f"({state.device}, {state.precision})"
    return (
        f"<h3>Inception GUI {__version__}</h3>"
        "<p>Inception v3 (Szegedy et al., 2015) on your own machine: classify, explore, "
        "fine-tune. Nothing leaves your computer.</p>"
        f"<p>Using: {using}</p>"
        f"<p>torch {_version('torch')} · torchvision {_version('torchvision')}<br>"
        f"Qt {qVersion()} · PySide6 {pyside_version}<br>"
        f"Python {platform.python_version()} on {platform.system()} {platform.machine()}</p>"
    )


def show_about(window: MainWindow) -> None:
    """The About box (not modal to the app: work goes on behind it)."""
    box = QMessageBox(window)
    box.setWindowTitle("About Inception GUI")
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(about_text(window))
    box.setIconPixmap(QApplication.windowIcon().pixmap(64, 64))
    window.about_box = box
    box.open()
