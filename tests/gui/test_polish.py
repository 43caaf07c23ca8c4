"""Small things a person notices: closing mid-run, rounding that agrees."""

from inception_gui.classify.jobs import ClassifiedImage


def test_closing_during_training_says_whether_a_checkpoint_exists(window, monkeypatch):
    from model.training.engine import EpochEnd

    asked = []

    def question(_parent, _title, text, *_args):
        asked.append(text)
        return window_module.QMessageBox.StandardButton.No

    from inception_gui import main_window as window_module

    monkeypatch.setattr(window_module.QMessageBox, "question", question)
    tab = window.train_tab
    monkeypatch.setattr(tab, "_worker", object())  # a run under way, before its first epoch
    window.close()
    assert "no checkpoint has been written" in asked[-1]
    assert "stays on disk" not in asked[-1]
    end = EpochEnd(1, 3, 0.75, 0.5, None, None, 0.01, "/run/last.safetensors",
                   "/run/best.safetensors", True, 10.0)  # fmt: skip
    tab._on_epoch(end)
    window.close()
    assert "stays on disk" in asked[-1] and "/run/last.safetensors" in asked[-1]
    monkeypatch.setattr(tab, "_worker", None)


def test_runners_up_round_as_the_confidence_does(qtbot):
    from inception_gui.classify.results_model import ResultsTableModel

    results = ResultsTableModel()
    item = ClassifiedImage("a.jpg", (("cat", 0, 0.972), ("dog", 1, 0.014), ("fox", 2, 0.014)),
                           None, None)  # fmt: skip
    results.append(item)
    assert results.index(0, 2).data() == "97.2%"
    assert results.index(0, 3).data() == "dog (1.4%), fox (1.4%)"


def test_a_path_pasted_again_is_not_added_twice(window, qtbot, sample_images, wait_idle):
    from PySide6.QtCore import QMimeData, QUrl
    from PySide6.QtWidgets import QApplication

    tab = window.classify_tab
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in sample_images[:2]])
    QApplication.clipboard().setMimeData(mime)
    tab.paste()
    wait_idle(tab, 2)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in sample_images])  # two known, one new
    QApplication.clipboard().setMimeData(mime)
    tab.paste()
    wait_idle(tab, 3)
    assert "2 already in the list" in window.status_label.text()
    tab.paste()  # all three known now
    qtbot.waitUntil(lambda: "Already in the list: 3 images" in window.status_label.text())
    assert tab.results.rowCount() == 3
    QApplication.clipboard().clear()  # the clipboard's QMimeData must not outlive the test


def test_a_run_is_named_after_its_dataset_and_so_are_its_weights_and_export(
    window, qtbot, tmp_path, tiny_checkpoint
):
    import shutil
    from pathlib import Path

    from inception_gui.export_dialog import ExportDialog

    tab = window.train_tab
    tab.set_folder(str(tmp_path / "flowers"))
    suggested = Path(tab.out_edit.text())
    assert suggested.parent.name == "runs" and suggested.parent.parent.name == "inception-gui"
    assert suggested.name.startswith("flowers-")
    assert "Inception GUI" not in str(suggested)  # not Qt's organisation/application folders
    # A run's best checkpoint shows as the run, not as one more "best.safetensors".
    run = tmp_path / "flowers-20250101-120000"
    run.mkdir()
    shutil.copy(tiny_checkpoint, run / "best.safetensors")
    with qtbot.waitSignal(window.session.ready, timeout=60_000) as ready:
        window.load_weights(str(run / "best.safetensors"))
    assert ready.args[0].display_name == "flowers-20250101-120000 (best)"
    # Export suggests a file beside the run, named after it.
    window._on_export_clicked()
    dialog: ExportDialog = window.export_dialog
    assert Path(dialog.path.text()) == run / "flowers-20250101-120000_best.onnx"
    dialog.close()


def test_training_settings_are_remembered_between_launches(qtbot, settings):
    from inception_gui.main_window import MainWindow

    first = MainWindow(settings)
    qtbot.addWidget(first)
    form = first.train_tab.settings
    form.train_from.setCurrentIndex(form.train_from.findData("mixed_6"))
    form.epochs.setValue(7)
    form.lr.setValue(0.0025)
    form.flip.setChecked(False)
    form.optimizer.setCurrentIndex(form.optimizer.findData("adamw"))
    first.close()
    second = MainWindow(settings)
    qtbot.addWidget(second)
    form = second.train_tab.settings
    assert form.train_from.currentData() == "mixed_6" and form.epochs.value() == 7
    assert abs(form.lr.value() - 0.0025) < 1e-9 and not form.flip.isChecked()
    assert form.optimizer.currentData() == "adamw"
    second.close()
