"""Suspicious labels in the window: ranked by the model, fixed only after a yes, undone exactly."""

import hashlib
import os
import shutil
from types import SimpleNamespace

import pytest
from PySide6.QtWidgets import QInputDialog, QMessageBox

from inception_gui.core.workers import WorkerHub
from inception_gui.train.audit_dialog import AuditDialog


def _tree(root):
    out = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                out[os.path.relpath(path, root)] = hashlib.sha256(handle.read()).hexdigest()
    return out


@pytest.fixture
def dialog(qtbot, tmp_path, make_dataset, backbone_file):
    data = make_dataset(tmp_path / "data", per_class=8)
    shutil.move(str(data / "red" / "4.jpg"), str(data / "blue" / "red4.jpg"))  # misfiled
    run = tmp_path / "run"
    run.mkdir()
    done = SimpleNamespace(
        out_dir=str(run),
        class_names=("blue", "green", "red"),
        best_checkpoint=str(backbone_file),
        last_checkpoint=str(backbone_file),
    )
    config = SimpleNamespace(data_dir=str(data), val_dir=None, input_size=75)
    hub = WorkerHub()
    dlg = AuditDialog(hub, done, config)
    qtbot.addWidget(dlg)
    qtbot.waitUntil(lambda: dlg.report is not None, timeout=120_000)
    yield dlg, data, run
    hub.shutdown(10_000)


def _answer(monkeypatch, yes: bool, new_class: str = "red"):
    button = QMessageBox.StandardButton.Yes if yes else QMessageBox.StandardButton.Cancel
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or button)
    monkeypatch.setattr(QInputDialog, "getItem", lambda *a, **k: (new_class, True))
    return asked


def test_the_misfiled_picture_leads_and_moves_back_after_a_yes(dialog, monkeypatch):
    dlg, data, run = dialog
    assert dlg.table.item(0, 0).text().endswith("red4.jpg")
    assert dlg.table.item(0, 2).text().startswith("red")  # looks like red
    before = _tree(data)
    asked = _answer(monkeypatch, yes=True)
    dlg.table.selectRow(0)
    dlg.move_button.click()
    assert "from the class folder 'blue' into 'red'" in asked[0]  # says exactly what happens
    assert (data / "red" / "red4.jpg").is_file() and not (data / "blue" / "red4.jpg").exists()
    assert (run / "curation.jsonl").is_file()
    assert dlg.table.item(0, 4).text() == "moved to red"
    dlg.undo_button.click()
    assert _tree(data) == before  # bit for bit


def test_nothing_moves_without_the_confirmation(dialog, monkeypatch):
    dlg, data, run = dialog
    before = _tree(data)
    _answer(monkeypatch, yes=False)
    dlg.table.selectRow(0)
    dlg.move_button.click()
    dlg.exclude_button.click()
    assert _tree(data) == before and not (run / "curation.jsonl").exists()


def test_exclude_moves_the_file_beside_the_dataset(dialog, monkeypatch):
    dlg, data, _run = dialog
    asked = _answer(monkeypatch, yes=True)
    dlg.table.selectRow(0)
    dlg.exclude_button.click()
    excluded = data.parent / "_excluded" / "data" / "blue" / "red4.jpg"
    assert excluded.is_file() and str(excluded) in asked[0]
    assert not (data / "blue" / "red4.jpg").exists()
