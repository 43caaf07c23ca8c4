"""GUI test fixtures: settings in a temporary file, a main window on a small checkpoint."""

import pytest
from PySide6.QtCore import QSettings


@pytest.fixture
def settings(tmp_path):
    """QSettings in a throwaway INI file, so no test reads or writes the person's settings."""
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, settings, tiny_checkpoint):
    """The main window, loading the tiny checkpoint (no ImageNet weights needed)."""
    from inception_gui.main_window import MainWindow

    settings.setValue("weights", str(tiny_checkpoint))
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.session.ready, timeout=60_000):
        win.start()
    yield win
    win.hub.shutdown()
