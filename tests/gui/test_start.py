"""How the window starts: with files named on the command line, and without ImageNet weights."""

from inception_gui.main_window import MainWindow


def test_files_on_the_command_line_open_the_classify_tab(
    qtbot, settings, tiny_checkpoint, sample_images, wait_idle
):
    settings.setValue("weights", str(tiny_checkpoint))
    settings.setValue("tab", 2)  # the Train tab was the last one used
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    assert win.tabs.currentWidget() is win.train_tab
    win.start([str(sample_images[0])])
    assert win.tabs.currentWidget() is win.classify_tab
    wait_idle(win.classify_tab, 1)
    win.hub.shutdown()


def test_without_files_the_last_tab_stays(qtbot, settings, tiny_checkpoint):
    settings.setValue("weights", str(tiny_checkpoint))
    settings.setValue("tab", 2)
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.session.ready, timeout=60_000):
        win.start([])
    assert win.tabs.currentWidget() is win.train_tab
    win.hub.shutdown()
