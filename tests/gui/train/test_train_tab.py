"""The Train tab: check a folder, train to the end, use the model in the Classify tab."""

from pathlib import Path

import pytest
from PIL import Image, ImageDraw


def _shaded_picture(rgb, i):
    """Image ``i`` of a class: its colour darkened by 12i, a white patch moved by 4i px."""
    img = Image.new("RGB", (64, 64), tuple(max(0, c - 12 * i) for c in rgb))
    ImageDraw.Draw(img).rectangle((4 * i, 4, 4 * i + 12, 20), fill=(255, 255, 255))
    return img


@pytest.fixture(scope="module")
def colour_folder(tmp_path_factory, make_dataset):
    """Three classes the network can learn in a few epochs: red, green and blue pictures."""
    root = make_dataset(tmp_path_factory.mktemp("colours"), draw=_shaded_picture, formats=("png",))
    (root / "red" / "broken.jpg").write_bytes(b"not an image")
    return root


def test_train_tab_trains_and_use_this_model_switches_classify(
    window, qtbot, colour_folder, tmp_path, wait_idle
):
    tab = window.train_tab
    tab.folder_edit.setText(str(colour_folder))
    tab.out_edit.setText(str(tmp_path / "run"))
    with qtbot.waitSignal(tab.report_view.textChanged, timeout=30_000):
        tab.check_folder()
    qtbot.waitUntil(lambda: tab.start_button.isEnabled(), timeout=30_000)
    assert "broken.jpg" in tab.report_view.toPlainText()
    counts = tab._report.train_counts
    assert tab.settings.smallest_class == min(counts.values()) < 50  # the recipe note's hint
    tab.settings.start_from.setCurrentIndex(tab.settings.start_from.findData("none"))
    tab.settings.train_from.setCurrentIndex(tab.settings.train_from.findData("all"))
    tab.settings.epochs.setValue(2)
    tab.settings.batch_size.setValue(8)
    tab.settings.input_size.setValue(75)
    with qtbot.waitSignal(tab.finished, timeout=240_000) as blocker:
        tab.start()
    done = blocker.args[0]
    assert done.class_names == ("blue", "green", "red")
    assert len(tab.loss_plot.series("train")) == 2
    assert tab.confusion.matrix() and len(tab.confusion.matrix()) == 3
    qtbot.waitUntil(lambda: tab.use_button.isEnabled(), timeout=10_000)

    # Each confusion-matrix cell opens exactly the validation images counted in it.
    matrix = tab.confusion.matrix()
    for r in range(3):
        for c in range(3):
            tab._on_confusion_cell_clicked(r, c)
            dialog = tab.mistakes_dialog
            assert dialog.list.count() == matrix[r][c]
            assert all(s.true_index == r and s.predicted_index == c for s in dialog.samples)
            losses = [s.loss for s in dialog.samples]
            assert losses == sorted(losses, reverse=True)
            dialog.close()

    with qtbot.waitSignal(window.session.ready, timeout=60_000) as ready:
        tab.use_button.click()
    assert ready.args[0].class_names == ("blue", "green", "red")
    assert window.tabs.currentWidget() is window.classify_tab
    classify = window.classify_tab
    classify.classify([str(colour_folder / "green" / "0.png")])
    wait_idle(classify, 1)
    labels = {label for label, _, _ in classify.results.item(0).predictions}
    assert labels == {"blue", "green", "red"}


def test_empty_folder_cannot_start(window, qtbot, tmp_path):
    tab = window.train_tab
    tab.folder_edit.setText(str(tmp_path))
    with qtbot.waitSignal(tab.report_view.textChanged, timeout=30_000):
        tab.check_folder()
    qtbot.waitUntil(lambda: "Cannot train" in tab.report_view.toPlainText(), timeout=30_000)
    assert not tab.start_button.isEnabled()


def test_closing_during_training_asks_then_stops_cleanly(
    window, qtbot, colour_folder, tmp_path, monkeypatch
):
    from PySide6.QtCore import QThreadPool

    tab = window.train_tab
    tab.folder_edit.setText(str(colour_folder))
    tab.out_edit.setText(str(tmp_path / "run2"))
    tab.settings.start_from.setCurrentIndex(tab.settings.start_from.findData("none"))
    tab.settings.train_from.setCurrentIndex(tab.settings.train_from.findData("all"))
    tab.settings.epochs.setValue(50)
    tab.settings.batch_size.setValue(4)
    tab.settings.input_size.setValue(75)
    with qtbot.waitSignal(tab.report_view.textChanged, timeout=30_000):
        tab.check_folder()
    qtbot.waitUntil(lambda: tab.start_button.isEnabled(), timeout=30_000)
    tab.start()
    qtbot.waitUntil(lambda: "batch" in tab.progress_label.text(), timeout=60_000)
    # The run's folders and split stay as they are until it ends.
    locked = (tab.folder_edit, tab.browse_button, tab.val_fraction, tab.out_edit, tab.settings)
    assert not any(w.isEnabled() for w in locked)
    asked = []
    monkeypatch.setattr(window, "confirm_close_during_training", lambda: asked.append(1) or False)
    window.close()
    assert asked and window.isVisible() and tab.running  # "No" keeps it running
    monkeypatch.setattr(window, "confirm_close_during_training", lambda: True)
    window.close()
    assert QThreadPool.globalInstance().activeThreadCount() == 0


def test_an_epoch_without_validation_images_is_reported(window, qtbot):
    from model.training.engine import EpochEnd

    tab = window.train_tab
    end = EpochEnd(1, 3, 0.75, 0.5, None, None, 0.01, "/run/last.safetensors",
                   "/run/best.safetensors", True, 10.0)  # fmt: skip
    with qtbot.waitSignal(tab.status) as said:
        tab._on_epoch(end)
    assert said.args[0].startswith("Epoch 1/3: training loss 0.750 (no validation images)")
    assert len(tab.loss_plot.series("train")) == 1 and not tab.loss_plot.series("validation")


def test_settings_grey_out_what_the_chosen_layers_make_moot(qtbot):
    from inception_gui.train.form import TrainSettings

    form = TrainSettings()
    qtbot.addWidget(form)
    assert form.batch_size.minimum() == 2  # BatchNorm learns from two images at least
    form.train_from.setCurrentIndex(form.train_from.findData("head"))
    assert form.cache.isEnabled() and form.cache.isChecked()
    assert not form.crop.isEnabled() and not form.flip.isEnabled()  # centre crops, cached
    assert not form.use_aux.isEnabled()
    form.cache.setChecked(False)
    assert form.crop.isEnabled() and form.flip.isEnabled()
    assert form.recipe()["cache_features"] is False
    form.train_from.setCurrentIndex(form.train_from.findData("all"))
    assert not form.cache.isEnabled() and form.crop.isEnabled() and form.use_aux.isEnabled()


def test_the_form_starts_with_the_measured_recipe_and_names_it(qtbot):
    from inception_gui.train.form import TrainSettings
    from model.training.config import TrainConfig

    form = TrainSettings()
    qtbot.addWidget(form)
    assert form.preset.currentData() == "recommended"
    assert form.optimizer.currentData() == "adamw" and form.lr.value() == 0.003
    assert not form.crop.isChecked() and not form.flip.isChecked()
    assert "Recommended for a new head" in form.recipe_note.text()
    assert "linear probe" in form.recipe_note.text()  # what it scored, and against what
    config = TrainConfig("data", "out", **form.recipe())
    assert config.head_passes == 10 and config.schedule == "cosine"  # the recipe's own
    form.preset.setCurrentIndex(form.preset.findData("paper"))  # one click away
    assert form.optimizer.currentData() == "rmsprop" and form.lr.value() == 0.045
    assert (
        form.crop.isChecked()
        and form.flip.isChecked()
        and form.schedule.currentData() == ("exponential")
    )
    assert form.label_smoothing.value() == 0.1 and form.grad_clip.value() == 2.0
    assert "Paper" in form.recipe_note.text()
    form.preset.setCurrentIndex(form.preset.findData("recommended"))
    form.start_from.setCurrentIndex(form.start_from.findData("none"))  # scratch
    assert form.train_from.currentData() == "all"
    assert "from scratch" in form.recipe_note.text()
    assert form.schedule.currentData() == "constant" and form.grad_clip.value() == 0.0
    assert "mirror" in form.flip.toolTip()  # when not to flip


def test_a_small_folder_is_told_that_fine_tuning_may_not_beat_head_only(qtbot):
    from inception_gui.train.form import SMALL_CLASS, TrainSettings

    form = TrainSettings()
    qtbot.addWidget(form)
    form.train_from.setCurrentIndex(form.train_from.findData("mixed_7"))
    assert form.start_from.currentData() != "none"  # pretrained: the fine-tuning recipe
    form.set_smallest_class(24)
    assert "smallest class has 24 training images" in form.recipe_note.text()
    assert "Recommended for fine-tuning" in form.recipe_note.text()  # still named
    form.train_from.setCurrentIndex(form.train_from.findData("head"))
    assert "smallest class" not in form.recipe_note.text()  # head only: nothing to warn of
    form.train_from.setCurrentIndex(form.train_from.findData("mixed_6"))
    assert "smallest class has 24" in form.recipe_note.text()
    form.set_smallest_class(SMALL_CLASS)
    assert "smallest class" not in form.recipe_note.text()
    form.set_smallest_class(3)
    form.preset.setCurrentIndex(form.preset.findData("paper"))  # fits no head first
    assert "smallest class" not in form.recipe_note.text()


def test_start_refusals_are_said_and_leave_the_window_its_size(
    window, qtbot, colour_folder, tmp_path, monkeypatch
):
    import inception_gui.train.tab as train_tab

    tab = window.train_tab
    window.tabs.setCurrentWidget(tab)
    window.resize(1100, 760)
    qtbot.wait(50)
    width = window.width()
    tab.folder_edit.setText(str(colour_folder))
    with qtbot.waitSignal(tab.report_view.textChanged, timeout=30_000):
        tab.check_folder()
    qtbot.waitUntil(lambda: tab.start_button.isEnabled(), timeout=30_000)
    suggested = tab.out_edit.text()
    assert f"{colour_folder.name}-" in suggested  # a run folder named after the data

    tab.out_edit.setText("")
    tab.start()  # an empty "Save to" would write into the working directory
    assert not tab.running and "Cannot start: choose a run folder" in tab.progress_label.text()

    tab.out_edit.setText(str(tmp_path / "run"))
    monkeypatch.setattr(train_tab, "imagenet_on_disk", lambda: False)
    tab.settings.start_from.setCurrentIndex(tab.settings.start_from.findData("imagenet"))
    with qtbot.waitSignal(tab.status) as said:
        tab.start()
    assert not tab.running and "not downloaded yet" in said.args[0]
    tab.progress_label.setText("Training could not run: " + "x" * 600)
    qtbot.wait(50)
    # The long message wraps; the window keeps its size and can still be made smaller.
    assert window.width() == width and window.minimumSizeHint().width() < 1000

    # From scratch, only the head would learn nothing: the form moves to everything.
    tab.settings.start_from.setCurrentIndex(tab.settings.start_from.findData("none"))
    assert tab.settings.train_from.currentData() == "all"


def test_folder_typed_in_gets_its_own_run_folder_unless_one_was_chosen(window, qtbot, tmp_path):
    tab = window.train_tab
    for name in ("first", "second"):
        for cls in ("a", "b"):
            (tmp_path / name / cls).mkdir(parents=True)
    tab.folder_edit.setText(str(tmp_path / "first"))
    tab.check_folder()
    assert "first-" in tab.out_edit.text()
    qtbot.waitUntil(lambda: "Cannot train" in tab.report_view.toPlainText(), timeout=30_000)
    tab.folder_edit.setText(str(tmp_path / "second"))
    tab.check_folder()
    assert "second-" in tab.out_edit.text()  # follows the folder, typed or not
    qtbot.waitUntil(lambda: "Cannot train" in tab.report_view.toPlainText(), timeout=30_000)
    tab.out_edit.setText(str(tmp_path / "mine"))
    tab.folder_edit.setText(str(tmp_path / "first"))
    tab.check_folder()
    assert tab.out_edit.text() == str(tmp_path / "mine")  # the person's choice stays
    tab.val_edit.setText(str(tmp_path / "second"))
    assert not tab.val_fraction.isEnabled()  # a validation folder replaces the share


def test_a_new_run_never_writes_over_a_finished_one(
    window, qtbot, colour_folder, tmp_path, monkeypatch
):
    from PySide6.QtCore import QStandardPaths

    import inception_gui.train.tab as train_tab

    class AppData:  # run folders under tmp_path, not in the person's application data
        StandardLocation = QStandardPaths.StandardLocation

        @staticmethod
        def writableLocation(_where):
            return str(tmp_path / "appdata")

    monkeypatch.setattr(train_tab, "QStandardPaths", AppData)
    tab = window.train_tab
    tab.folder_edit.setText(str(colour_folder))
    tab.check_folder()
    qtbot.waitUntil(lambda: tab.start_button.isEnabled(), timeout=30_000)
    suggested = Path(tab.out_edit.text())
    assert suggested.is_relative_to(tmp_path)
    suggested.mkdir(parents=True)
    (suggested / "last.safetensors").write_bytes(b"a finished run")  # as if trained into
    tab.check_folder()  # the same folder again: a new run folder beside the old one
    assert tab.out_edit.text() != str(suggested) and f"{colour_folder.name}-" in tab.out_edit.text()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "last.safetensors").write_bytes(b"the person's run")
    tab.out_edit.setText(str(mine))
    tab.start()  # the person's own folder: refused, never replaced
    assert not tab.running and "already holds a training run" in tab.progress_label.text()
    assert (mine / "last.safetensors").read_bytes() == b"the person's run"
