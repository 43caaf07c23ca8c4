"""The window as a whole: starts before torch, weights state, settings, clean shutdown."""

import subprocess
import sys
import textwrap

from PySide6.QtCore import Qt, QThreadPool


def test_window_is_shown_before_torch_is_imported(tmp_path):
    script = textwrap.dedent(f"""
        import os, sys
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from PySide6.QtCore import QSettings, QTimer
        from inception_gui import app as app_module
        from inception_gui.main_window import MainWindow

        seen = {{}}
        original_show = MainWindow.showEvent
        def spy(self, event):
            seen.setdefault("torch_at_show", "torch" in sys.modules)
            original_show(self, event)
            QTimer.singleShot(0, self.close)
        MainWindow.showEvent = spy
        original_init = MainWindow.__init__
        def init(self, settings=None):
            original_init(self, QSettings({str(tmp_path / "s.ini")!r}, QSettings.Format.IniFormat))
        MainWindow.__init__ = init
        app_module.main([])
        print("TORCH_AT_SHOW", seen["torch_at_show"])
    """)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert "TORCH_AT_SHOW False" in done.stdout, done.stdout + done.stderr


def test_weights_label_and_no_banner_for_trained_weights(window):
    assert "tiny.safetensors" in window.weights_label.text()
    assert window.banner.isHidden()


def test_bad_weights_file_is_reported_and_the_model_stays(window, qtbot, tmp_path):
    bad = tmp_path / "broken.safetensors"
    bad.write_bytes(b"\x00\x01garbage")
    with qtbot.waitSignal(window.session.failed, timeout=30_000):
        window.load_weights(str(bad))
    assert window.last_error and "broken.safetensors" in window.last_error[1]
    assert window.session.state.display_name == "tiny.safetensors"


def test_settings_persist(window, settings):
    window.tabs.setCurrentIndex(1)
    window.classify_tab.last_folder = "/tmp/photos"
    window.close()
    assert settings.value("tab") in (1, "1")
    assert settings.value("last_folder") == "/tmp/photos"
    assert settings.value("weights").endswith("tiny.safetensors")
    assert settings.value("geometry") is not None


def test_missing_imagenet_weights_fall_back_to_untrained_with_banner(qtbot, settings):
    from inception_gui.main_window import MainWindow

    settings.setValue("weights", "imagenet")
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    win.start()
    qtbot.waitUntil(lambda: win.session.state is not None, timeout=60_000)
    assert not win.session.state.trained
    assert win.banner.isVisible() and "Download" in win.banner.button("download").text()
    win.hub.shutdown()


def test_devices_are_listed_with_unavailable_ones_disabled(window, qtbot):
    import torch

    qtbot.waitUntil(lambda: window.device_combo.count() >= 2, timeout=30_000)
    assert window.device_combo.itemData(0) == "cpu"
    if not torch.cuda.is_available():
        item = window.device_combo.model().item(1)
        assert not item.isEnabled() and "CUDA" in item.text()


def test_device_menu_stays_locked_while_a_move_outlasts_a_batch(window):
    controls = (window.device_combo, window.precision_combo)
    state = window.session.state
    assert all(c.isEnabled() for c in controls)
    window.session.loading.emit("Moving the model…")  # a move starts during a batch
    window.classify_tab.busy.emit(True)
    window.classify_tab.busy.emit(False)  # the batch ends first
    assert not any(c.isEnabled() for c in controls) and not window.load_button.isEnabled()
    window.session.ready.emit(state)  # the move ends
    assert all(c.isEnabled() for c in controls) and window.load_button.isEnabled()


def test_closing_during_a_job_leaves_no_thread_running(window, qtbot, tmp_path, copies):
    photos = copies(tmp_path, 60)  # distinct files: a file named twice is classified once
    window.classify_tab.classify([str(p) for p in photos])
    qtbot.waitUntil(lambda: bool(window.hub.running), timeout=10_000)
    window.close()
    assert QThreadPool.globalInstance().activeThreadCount() == 0
    # It really was cut short: far fewer rows than the 60 images asked for.
    assert window.classify_tab.results.rowCount() < 60


def test_download_imagenet_weights_with_progress(qtbot, settings, tmp_path, monkeypatch):
    """The real download code, fed from a local file URL (no test reaches the network)."""
    import hashlib

    import torch

    from inception_gui.main_window import MainWindow
    from model import build_network
    from model.weights import imagenet as weights_module

    served = tmp_path / "served.pth"
    torch.save(build_network("v3", init_weights=False).state_dict(), served)
    digest = hashlib.sha256(served.read_bytes()).hexdigest()[:8]
    served = served.rename(tmp_path / f"inception_v3_test-{digest}.pth")
    monkeypatch.setattr(weights_module, "IMAGENET_URL", served.as_uri())

    settings.setValue("weights", "none")
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.session.ready, timeout=60_000):
        win.start()
    assert win.banner.isVisible()
    progress = []
    win.session.download_progress.connect(lambda done, total: progress.append((done, total)))
    with qtbot.waitSignal(win.session.ready, timeout=60_000) as blocker:
        win.banner.button("download").click()
    assert blocker.args[0].trained and blocker.args[0].weights == "imagenet"
    assert progress and progress[-1][0] == progress[-1][1] == served.stat().st_size
    assert win.banner.isHidden() and "ImageNet" in win.weights_label.text()
    win.hub.shutdown()


def test_precision_switch_moves_the_model_in_the_background(window, qtbot):
    combo = window.precision_combo
    combo.setCurrentIndex(combo.findData("fp32"))
    with qtbot.waitSignal(window.session.ready, timeout=60_000) as blocker:
        combo.activated.emit(combo.currentIndex())
    assert blocker.args[0].precision == "fp32"
    assert "fp32" in window.status_label.text()


def test_refused_precision_keeps_the_model_and_is_not_saved(window, qtbot, settings):
    import pytest
    import torch

    if torch.cuda.is_available():
        pytest.skip("fp16 runs on CUDA; this is about a CPU that refuses it")
    before = window.session.state
    combo = window.precision_combo
    combo.setCurrentIndex(combo.findData("fp16"))
    with qtbot.waitSignal(window.session.failed, timeout=60_000) as failed:
        combo.activated.emit(combo.currentIndex())
    assert "fp16" in failed.args[0]
    qtbot.waitUntil(lambda: window.precision_combo.isEnabled(), timeout=10_000)
    assert window.session.state.precision == before.precision
    assert window.session.precision != "fp16"
    window.close()
    assert settings.value("precision") != "fp16"


def test_the_precision_menu_shows_what_auto_measured(qtbot, settings, tiny_checkpoint, monkeypatch):
    from inception_gui.main_window import MainWindow
    from model.inference.tuning import AutoChoice, Timing

    figures = AutoChoice(
        "bf16",
        "bf16 is 1.80x as fast as fp32 here (10.0 ms against 18.0 ms)",
        (Timing("fp32", 18.0), Timing("bf16", 10.0), Timing("int8", 6.0, 0.97, 4.7, 100)),
        "key",
        False,
    )
    monkeypatch.setattr("model.inference.classifier.measure_inference", lambda *a, **k: figures)
    monkeypatch.setenv("INCEPTION_GUI_PRECISION_TUNING", "1")
    settings.setValue("weights", str(tiny_checkpoint))
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.session.precision_measured, timeout=60_000):
        win.start()
    combo = win.precision_combo
    assert combo.itemText(combo.findData("auto")) == "Auto (bf16)"
    assert combo.itemText(combo.findData("fp32")) == "fp32 · 18 ms"
    assert combo.itemText(combo.findData("bf16")) == "bf16 · 10 ms"
    # The guard's figures beside the time: int8 is faster but disagrees, so it was refused.
    assert combo.itemText(combo.findData("int8")) == "int8 · 6 ms · top-1 97.0%"
    assert "(refused)" in combo.itemData(combo.findData("int8"), Qt.ItemDataRole.ToolTipRole)
    assert "1.80x" in combo.itemData(combo.findData("auto"), Qt.ItemDataRole.ToolTipRole)
    assert win.session.state.precision == "bf16"  # the model switched, and the state says so
    assert "(bf16, chosen by auto" in win.status_label.text()  # the figures: in the menu
    assert win.status_label.text().startswith("Ready:")
    win.hub.shutdown()


def test_auto_s_figures_do_not_overwrite_a_tab_s_news(window):
    """The figures can arrive after a batch finished: the batch's line stays in view."""
    from model.inference.tuning import AutoChoice, Timing

    win = window
    win.tabs.setCurrentWidget(win.classify_tab)
    win.classify_tab.status.emit("Could not read all 2 images")
    choice = AutoChoice(
        "fp32",
        "fp32 is fastest here (9.0 ms; bf16 20.0 ms)",
        (Timing("fp32", 9.0), Timing("bf16", 20.0)),
        "key",
        False,
    )
    win.session.precision_measured.emit(choice)
    assert win.status_label.text() == "Could not read all 2 images"
    win.tabs.setCurrentWidget(win.explorer_tab)  # a tab with nothing to say: the model's line
    assert "(fp32, chosen by auto" in win.status_label.text()
