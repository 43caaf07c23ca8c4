"""The validation images behind one cell of the confusion matrix, with what the model saw."""

from __future__ import annotations

import functools
import os
import subprocess
from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
)

import model
from inception_gui.core.pictures import thumbnail
from inception_gui.core.workers import WorkerHub
from inception_gui.train.curation import Curation
from inception_gui.widgets.common import picture_to_pixmap
from model.training import mistakes

__all__ = ["MistakesDialog"]


@functools.lru_cache(maxsize=1)
def _review_classifier(checkpoint: str, stamp: int):
    """The run's checkpoint, loaded once for every cell clicked (``stamp``: its mtime)."""
    return model.load_classifier(checkpoint, device="cpu")


def _mistakes_job(checkpoint: str, samples: list) -> list:
    """Top-5 and a thumbnail for each image of a confusion-matrix cell."""
    classifier = _review_classifier(checkpoint, os.stat(checkpoint).st_mtime_ns)
    results = mistakes.top5_for(classifier, [s.path for s in samples])
    return [(s, r, thumbnail(s.path)) for s, r in zip(samples, results)]


class MistakesDialog(QDialog):
    """The validation images of one confusion-matrix cell, highest loss first."""

    def __init__(
        self,
        hub: WorkerHub,
        done,
        true_index: int,
        predicted_index: int,
        parent=None,
        config=None,
    ):
        super().__init__(parent)
        self.curation = (
            Curation(done.out_dir, [config.data_dir, config.val_dir], done.class_names)
            if config is not None
            else None
        )
        self._predicted_name = done.class_names[predicted_index]
        self._hub = hub
        names = done.class_names
        self.samples = mistakes.cell_samples(done.val_samples, true_index, predicted_index)
        verdict = "correct" if true_index == predicted_index else "mistaken"
        self.setWindowTitle(
            f"{len(self.samples)} {verdict}: true '{names[true_index]}', "
            f"predicted '{names[predicted_index]}'"
        )
        self.resize(760, 560)
        self.list = QListWidget()
        self.list.setIconSize(QSize(64, 64))
        self.reveal_button = QPushButton("Show in folder")
        self.reveal_button.setToolTip("Open the file's folder; nothing is moved or changed")
        self.reveal_button.clicked.connect(self._on_reveal_clicked)
        note = QLabel(
            "Sorted by loss, highest first. Files move only with Move to class or Exclude, "
            "each after asking; Undo puts them back."
        )
        self.move_button = QPushButton("Move to class…")
        self.exclude_button = QPushButton("Exclude")
        self.undo_button = QPushButton("Undo")
        self.move_button.clicked.connect(self._on_move_clicked)
        self.exclude_button.clicked.connect(self._on_exclude_clicked)
        self.undo_button.clicked.connect(self._on_undo_clicked)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.list, 1)
        row = QHBoxLayout()
        row.addWidget(self.reveal_button)
        for b in (self.move_button, self.exclude_button, self.undo_button):
            b.setEnabled(self.curation is not None)
            row.addWidget(b)
        row.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        row.addWidget(buttons)
        layout.addLayout(row)
        for s in self.samples:
            item = QListWidgetItem(f"{Path(s.path).name}   loss {s.loss:.3f}\n(computing top-5…)")
            item.setData(Qt.ItemDataRole.UserRole, s.path)
            self.list.addItem(item)
        checkpoint = done.best_checkpoint or done.last_checkpoint
        if self.samples and checkpoint:
            hub.start(
                "Reviewing mistakes",
                _mistakes_job,
                str(checkpoint),
                self.samples,
                on_return=self._on_details_ready,
            )

    def _on_details_ready(self, rows: list) -> None:
        for i, (sample, result, thumb) in enumerate(rows):
            item = self.list.item(i)
            if result.ok:
                top = ", ".join(f"{p.label} {p.probability:.0%}" for p in result)
            else:
                top = result.error
            item.setText(f"{Path(sample.path).name}   loss {sample.loss:.3f}\n{top}")
            if thumb is not None:
                item.setIcon(picture_to_pixmap(thumb))

    def _on_reveal_clicked(self) -> None:
        item = self.list.currentItem() or self.list.item(0)
        if item is None:
            return
        path = item.data(Qt.ItemDataRole.UserRole)
        command = mistakes.reveal_in_file_manager_command(path)
        try:
            subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except OSError as exc:  # no file manager (no xdg-open on a minimal system)
            why = (
                f"{command[0]} is not installed"
                if isinstance(exc, FileNotFoundError)
                else exc.strerror or str(exc)
            )
            self._hub.error.emit(  # the one error relay: a message box and the status bar
                "Show in folder",
                f"Could not open a file manager ({why}). The file is {path}",
            )

    def _current_path(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def _on_move_clicked(self) -> None:
        path = self._current_path()
        if path and self.curation.move_to_class(self, path, self._predicted_name) is not None:
            self.list.currentItem().setText(self.list.currentItem().text() + "\n(moved)")

    def _on_exclude_clicked(self) -> None:
        path = self._current_path()
        if path and self.curation.exclude(self, path) is not None:
            self.list.currentItem().setText(self.list.currentItem().text() + "\n(excluded)")

    def _on_undo_clicked(self) -> None:
        self.curation.undo(self)
