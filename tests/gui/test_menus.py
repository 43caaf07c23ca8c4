"""The menu bar with the platform's keys, the About box, and Tab in the results table."""

from importlib import metadata

from PySide6.QtCore import QMimeData, Qt, QUrl, qVersion
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication

Key = QKeySequence.StandardKey


def test_menus_and_standard_keys(window):
    titles = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert titles == ["File", "Edit", "View", "Help"]
    for name, key in [
        ("open", Key.Open),
        ("close", Key.Close),
        ("quit", Key.Quit),
        ("paste", Key.Paste),
        ("export_csv", Key.SaveAs),
        ("find", Key.Find),
    ]:
        assert window.actions[name].shortcuts() == QKeySequence.keyBindings(key), name


def test_keys_reach_their_actions(window, qtbot, sample_images, wait_idle):
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.tabs.setCurrentWidget(window.explorer_tab)
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentWidget() is window.classify_tab
    # Ctrl+V pastes file paths into the Classify tab, through the Edit menu's action.
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(sample_images[0]))])
    QApplication.clipboard().setMimeData(mime)
    qtbot.keyClick(window.classify_tab.table, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    wait_idle(window.classify_tab, 1)
    QApplication.clipboard().clear()  # the clipboard's QMimeData must not outlive the test
    # Ctrl+W closes the window.
    qtbot.keyClick(window, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not window.isVisible())


def test_about_names_the_versions_and_the_device(window):
    window.actions["about"].trigger()
    text = window.about_box.text()
    assert metadata.version("torch") in text and qVersion() in text
    assert "tiny.safetensors" in text and "cpu" in text
    window.about_box.close()


def test_tab_leaves_the_results_table(window, qtbot, sample_images, wait_idle):
    tab = window.classify_tab
    tab.classify([str(p) for p in sample_images])
    wait_idle(tab, len(sample_images))
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    tab.table.setFocus()
    qtbot.waitUntil(tab.table.hasFocus)
    current = tab.table.currentIndex()
    qtbot.keyClick(tab.table, Qt.Key.Key_Tab)
    assert not tab.table.hasFocus()
    assert tab.table.currentIndex() == current  # no cell was visited on the way out
