"""Suspicious labels: the training images the model disputes, with ways to fix them.

The audit (:func:`model.training.audit.audit_folder`) runs in a worker with the run's own
checkpoint as the feature extractor; the table ranks every disputed training image, the
strongest disagreement first, and lists near-copies below. *Move to class…*, *Exclude* and
*Undo* each ask first (:mod:`inception_gui.train.curation`); *Retrain with the same
settings* asks the Train tab for a new run.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
)

import model.training
from inception_gui.core.workers import CancelToken, WorkerHub
from inception_gui.train.curation import Curation

__all__ = ["AuditDialog"]

COLUMNS = ("Image", "Filed as", "Looks like", "Disagreement", "State")


def _audit_job(data_dir: str, val_dir: str | None, checkpoint: str, input_size: int, token):
    return model.training.audit_folder(
        data_dir, val_dir=val_dir, weights=checkpoint, input_size=input_size, cancel=token.is_set
    )


class AuditDialog(QDialog):
    """The ranked suspects and near-copies of one run's training folder."""

    retrain = Signal()

    def __init__(self, hub: WorkerHub, done, config, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Suspicious labels")
        self.resize(900, 620)
        self.report = None
        self.curation = Curation(done.out_dir, [config.data_dir, config.val_dir], done.class_names)
        self.note = QLabel("Computing features for every training image…")
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.duplicates = QTextBrowser()
        self.duplicates.setMaximumHeight(140)
        self.move_button = QPushButton("Move to class…")
        self.exclude_button = QPushButton("Exclude")
        self.exclude_button.setToolTip("Move the file into _excluded/ beside the dataset")
        self.undo_button = QPushButton("Undo")
        self.retrain_button = QPushButton("Retrain with the same settings")
        self.move_button.clicked.connect(self._on_move_clicked)
        self.exclude_button.clicked.connect(self._on_exclude_clicked)
        self.undo_button.clicked.connect(self._on_undo_clicked)
        self.retrain_button.clicked.connect(self._on_retrain_clicked)
        for b in (self.move_button, self.exclude_button):
            b.setEnabled(False)
        self.table.itemSelectionChanged.connect(self._on_selection_changed)
        row = QHBoxLayout()
        for b in (self.move_button, self.exclude_button, self.undo_button):
            row.addWidget(b)
        row.addStretch(1)
        row.addWidget(self.retrain_button)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        row.addWidget(buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addWidget(self.table, 1)
        layout.addWidget(QLabel("Near-copies"))
        layout.addWidget(self.duplicates)
        layout.addLayout(row)
        checkpoint = done.best_checkpoint or done.last_checkpoint
        if checkpoint:
            token = CancelToken()
            self._job = hub.start(
                "Looking for suspicious labels",
                _audit_job,
                config.data_dir,
                config.val_dir,
                str(checkpoint),
                config.input_size,
                token,
                token=token,
                key="label audit",
                on_return=self._on_report,
                on_error=lambda exc: self.note.setText(f"The audit could not run: {exc}"),
            )
            if self._job is not None:
                self.finished.connect(lambda _result: self._job.cancel())
        else:
            self.note.setText("This run wrote no checkpoint, so there is no model to ask.")

    # -- the report ----------------------------------------------------------------------
    def _on_report(self, report) -> None:
        if report is None:
            return
        self.report = report
        likely = sum(s.likely_issue for s in report.suspects)
        self.note.setText(
            f"{report.images} training images: the model, fitted {report.folds} times without "
            f"each image, disputes {len(report.suspects)} of them; {likely} look mislabelled "
            "(marked !). Strongest disagreement first. Nothing moves without your yes."
        )
        self.table.setRowCount(len(report.suspects))
        for i, s in enumerate(report.suspects):
            cells = (
                ("! " if s.likely_issue else "") + s.path,
                f"{s.given} ({s.given_probability:.0%})",
                f"{s.suggested} ({s.suggested_probability:.0%})",
                f"{s.score:.2f}",
                "",
            )
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, s.path)
                self.table.setItem(i, j, item)
        self.table.resizeColumnsToContents()
        kinds = {
            "leak": "in training and validation",
            "within": "copies in one class",
            "across": "filed under two classes",
        }
        lines = [
            f"{kinds[d.kind]} ({d.similarity:.3f}): {d.first} = {d.second}"
            for d in report.duplicates
        ]
        self.duplicates.setPlainText("\n".join(lines) or "None found.")

    # -- actions ---------------------------------------------------------------------------
    def _selected(self) -> tuple[int, str] | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        row = rows[0].row()
        return row, self.table.item(row, 0).data(Qt.ItemDataRole.UserRole)

    def _on_selection_changed(self) -> None:
        chosen = self._selected()
        movable = chosen is not None and not self.table.item(chosen[0], 4).text()
        self.move_button.setEnabled(movable)
        self.exclude_button.setEnabled(movable)

    def _mark(self, row: int, text: str) -> None:
        self.table.item(row, 4).setText(text)
        self._on_selection_changed()

    def _on_move_clicked(self) -> None:
        chosen = self._selected()
        if chosen is None:
            return
        row, path = chosen
        move = self.curation.move_to_class(self, path, self.report.suspects[row].suggested)
        if move is not None:
            self._mark(row, f"moved to {Path(move.target).parent.name}")

    def _on_exclude_clicked(self) -> None:
        chosen = self._selected()
        if chosen is None:
            return
        row, path = chosen
        if self.curation.exclude(self, path) is not None:
            self._mark(row, "excluded")

    def _on_undo_clicked(self) -> None:
        undone = self.curation.undo(self)
        if undone is None:
            return
        for row in range(self.table.rowCount()):
            if self.table.item(row, 0).data(Qt.ItemDataRole.UserRole) == undone.source:
                self._mark(row, "")

    def _on_retrain_clicked(self) -> None:
        self.retrain.emit()
        self.accept()
