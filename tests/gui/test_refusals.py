"""What the window says after something is refused or fails: the truth, and only while true."""

import pytest


def test_a_refused_precision_reverts_in_its_combo(window, qtbot):
    import torch

    if torch.cuda.is_available():
        pytest.skip("fp16 runs on CUDA; this is about a CPU that refuses it")
    combo = window.precision_combo
    before = combo.currentData()
    combo.setCurrentIndex(combo.findData("fp16"))
    with qtbot.waitSignal(window.session.ready, timeout=60_000):
        combo.activated.emit(combo.currentIndex())
    assert combo.currentData() == before == window.session.precision


def test_show_in_folder_without_a_file_manager_says_so(window, qtbot, tmp_path, monkeypatch):
    from types import SimpleNamespace

    from inception_gui.train import mistakes_dialog

    photo = tmp_path / "cat.png"
    photo.write_bytes(b"not looked at")
    missing = str(tmp_path / "no-such-xdg-open")
    monkeypatch.setattr(
        mistakes_dialog.mistakes, "reveal_in_file_manager_command", lambda p: [missing, str(p)]
    )
    done = SimpleNamespace(
        class_names=("cat", "dog"),
        val_samples=[(str(photo), 0, 1, 2.5)],
        best_checkpoint=None,
        last_checkpoint=None,
    )
    dialog = mistakes_dialog.MistakesDialog(window.hub, done, 0, 1, window)
    qtbot.addWidget(dialog)
    dialog.reveal_button.click()
    assert window.last_error is not None
    title, message = window.last_error
    assert title == "Show in folder"
    assert "no-such-xdg-open is not installed" in message and str(photo) in message


def test_a_batch_that_all_failed_is_not_called_classified(window, tmp_path, wait_idle):
    bad = []
    for name in ("a.jpg", "b.png"):
        bad.append(tmp_path / name)
        bad[-1].write_bytes(b"\xff\xd8\xff not an image")
    tab = window.classify_tab
    tab.classify([str(p) for p in bad])
    wait_idle(tab, 2)
    said = window.status_label.text()
    assert "Classified" not in said and "Could not read all 2" in said


def test_a_tab_says_its_news_only_while_it_is_open(window):
    window.tabs.setCurrentWidget(window.explorer_tab)
    window.classify_tab.status.emit("Grad-CAM for 'circle' at Mixed_7c")
    assert "Grad-CAM" not in window.status_label.text()
    window.tabs.setCurrentWidget(window.classify_tab)
    assert "Grad-CAM for 'circle'" in window.status_label.text()
    window.tabs.setCurrentWidget(window.train_tab)
    assert window.status_label.text().startswith("Ready: tiny.safetensors")


def test_training_status_and_progress_tell_the_truth(
    window, qtbot, make_dataset, tmp_path, tiny_checkpoint, monkeypatch
):
    # Closing the window mid-run (a failed assert) must not wait on the "stop?" question.
    monkeypatch.setattr(window, "confirm_close_during_training", lambda: True)
    tab = window.train_tab
    window.tabs.setCurrentWidget(tab)
    tab.folder_edit.setText(str(make_dataset(tmp_path / "colours", per_class=6)))
    tab.out_edit.setText(str(tmp_path / "run"))
    with qtbot.waitSignal(tab.report_view.textChanged, timeout=30_000):
        tab.check_folder()
    qtbot.waitUntil(tab.start_button.isEnabled, timeout=30_000)
    form = tab.settings
    form.start_from.setCurrentIndex(form.start_from.findData("imagenet"))
    tab.start()  # ImageNet weights are not on disk: refused, and said
    assert "Cannot start training" in window.status_label.text()
    form.start_file = str(tiny_checkpoint)
    form.start_from.setCurrentIndex(form.start_from.findData("file"))
    form.train_from.setCurrentIndex(form.train_from.findData("head"))
    form.epochs.setValue(3)
    form.batch_size.setValue(4)
    form.input_size.setValue(75)
    tab.start()
    # The refusal no longer stands; the bar is busy, not full, while nothing is done.
    assert "Cannot start" not in window.status_label.text()
    assert tab.progress.maximum() == 0
    qtbot.waitUntil(lambda: "Caching features" in tab.progress_label.text(), timeout=60_000)
    assert "loss" not in tab.progress_label.text() and "accuracy" not in tab.progress_label.text()
    tab.stop()
    qtbot.waitUntil(lambda: not tab.running, timeout=60_000)
    assert "stopped" in tab.progress_label.text()
    assert tab.progress.text() != "100%"


def test_train_starts_from_the_loaded_model_when_imagenet_is_missing(
    window, qtbot, tiny_checkpoint, make_dataset, tmp_path, monkeypatch
):
    monkeypatch.setattr(window, "confirm_close_during_training", lambda: True)
    tab = window.train_tab
    form = tab.settings
    # No ImageNet weights on disk (a private torch home), a trained file loaded: it is the default.
    assert form.start_from.currentData() == "loaded"
    assert "tiny.safetensors" in form.start_from.currentText()
    assert form.recipe()["weights"] == str(tiny_checkpoint)
    # A refusal stands only until the person changes the choice it was about.
    tab.folder_edit.setText(str(make_dataset(tmp_path / "colours", per_class=6)))
    tab.out_edit.setText(str(tmp_path / "run"))
    with qtbot.waitSignal(tab.report_view.textChanged, timeout=30_000):
        tab.check_folder()
    qtbot.waitUntil(tab.start_button.isEnabled, timeout=30_000)
    form.start_from.setCurrentIndex(form.start_from.findData("imagenet"))
    tab.start()
    assert "Cannot start: the ImageNet weights are not downloaded" in tab.progress_label.text()
    form.start_from.setCurrentIndex(form.start_from.findData("loaded"))
    assert tab.progress_label.text() == ""
    assert not tab.running


def test_fitting_the_new_head_first_is_named_with_its_passes(window):
    from model.training.events import BatchProgress

    tab = window.train_tab
    tab._on_batch(
        BatchProgress(
            epoch=1,
            epochs=2,
            batch=3,
            batches=100,
            loss=0.5,
            accuracy=0.9,
            images_per_s=1000.0,
            eta_s=30.0,
            phase="head",
        )
    )
    text = tab.progress_label.text()
    assert text.startswith("Fitting the new head — epoch 1/2, pass 3/100"), text
    assert "accuracy 90.0%" in text


def test_the_fitted_head_is_named_as_epoch_zero(window, qtbot, tmp_path, fitted_head_events):
    tab = window.train_tab
    end, stopped = fitted_head_events(str(tmp_path))
    with qtbot.waitSignal(tab.status) as said:
        tab._on_epoch(end)
    assert said.args[0] == (
        "The new head, fitted first: validation accuracy 96.7% (best so far); "
        "saved last.safetensors"
    )
    assert tab.results.acc_plot.series("validation") == [(0.0, 0.9667)]  # plotted at epoch 0
    tab._on_done(stopped)
    text = tab.progress_label.text()
    assert text.startswith("Training stopped after 0 epoch(s) in "), text
    assert text.endswith(f"The new head, fitted first, was saved. Best: {end.best_checkpoint}")
