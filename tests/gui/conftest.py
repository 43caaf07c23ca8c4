"""GUI test fixtures: settings in a temporary file, a main window on a small checkpoint, helpers."""

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


@pytest.fixture
def wait_idle(qtbot):
    """Wait until a classify tab shows ``rows`` results and its worker has finished.

    Called as ``wait_idle(tab, rows, timeout=60_000)``.
    """

    def wait(tab, rows, timeout=60_000):
        qtbot.waitUntil(
            lambda: tab.results.rowCount() == rows and tab._worker is None, timeout=timeout
        )

    return wait


@pytest.fixture
def copies(sample_images):
    """``count`` distinct image files in ``folder``: the sample images under other names.

    Called as ``copies(folder, count)``; returns the paths.
    """

    def copy(folder, count):
        folder.mkdir(exist_ok=True)
        paths = []
        for i in range(count):
            src = sample_images[i % len(sample_images)]
            paths.append(folder / f"copy{i:02d}{src.suffix}")
            paths[-1].write_bytes(src.read_bytes())
        return paths

    return copy
