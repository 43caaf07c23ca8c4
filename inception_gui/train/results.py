"""What the Train tab shows of a run: the dataset check, the curves and the confusion matrix.

Widgets and text only; the tab decides when to show what. Nothing here imports
torch, so the window still opens before it does.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSplitter, QTextBrowser, QVBoxLayout, QWidget

from inception_gui.widgets.charts import ConfusionMatrixArea, CurvePlot
from model.training.config import format_duration

__all__ = ["TrainResults", "duration", "report_html"]


def duration(seconds: float) -> str:
    """``m:ss`` or ``h:mm:ss``, as the command line shows it."""
    return format_duration(seconds)


class TrainResults(QWidget):
    """Loss and accuracy curves per epoch; then the best epoch's confusion matrix and accuracies.

    Signals
    -------
    cell_clicked(int, int)
        A cell of the confusion matrix was clicked: (true class, predicted class).
    """

    cell_clicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loss_plot = CurvePlot("Loss", log_y=True)
        self.acc_plot = CurvePlot("Accuracy", y_range=(0.0, 1.0))
        self.confusion_area = ConfusionMatrixArea()
        self.confusion = self.confusion_area.view
        self.confusion.setToolTip("Click a cell to see its validation images, worst first")
        self.confusion.cell_clicked.connect(self.cell_clicked)
        self.per_class = QTextBrowser()
        self.per_class.setPlaceholderText("Per-class accuracy appears when training ends.")
        self.per_class.setMinimumHeight(self.fontMetrics().lineSpacing() * 2 + 12)
        self.per_class.setMaximumHeight(self.fontMetrics().lineSpacing() * 5 + 12)
        # Curves side by side on top; the matrix, which needs the room, below. A
        # splitter between them: each part keeps its minimum size, none overlaps.
        curves = QWidget()
        row = QHBoxLayout(curves)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.loss_plot)
        row.addWidget(self.acc_plot)
        matrix = QWidget()
        column = QVBoxLayout(matrix)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(QLabel("<b>Confusion matrix</b> (validation; hover a cell for its count)"))
        column.addWidget(self.confusion_area, 1)
        column.addWidget(self.per_class)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(curves)
        self.splitter.addWidget(matrix)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)

    def clear(self) -> None:
        """Empty, for a new run."""
        self.loss_plot.clear()
        self.acc_plot.clear()
        self.confusion.set_matrix((), ())
        self.per_class.clear()

    def add_epoch(self, e) -> None:
        """Plot an ``EpochEnd``: training always, validation when the run has any."""
        self.loss_plot.add_point("train", e.epoch, e.train_loss)
        self.acc_plot.add_point("train", e.epoch, e.train_accuracy)
        if e.val_loss is not None:
            self.loss_plot.add_point("validation", e.epoch, e.val_loss)
            self.acc_plot.add_point("validation", e.epoch, e.val_accuracy)

    def show_done(self, done) -> None:
        """The confusion matrix and per-class accuracy of a ``TrainingDone``'s best epoch."""
        self.confusion.set_matrix(done.class_names, done.confusion_matrix)
        if done.per_class_accuracy:
            pairs = zip(done.class_names, done.per_class_accuracy)
            self.per_class.setPlainText(
                "Per-class accuracy: " + ", ".join(f"{n} {a:.0%}" for n, a in pairs)
            )


def report_html(report) -> str:
    """A ``DatasetReport`` as the Train tab shows it: errors, counts, warnings, unreadable files."""
    e = html.escape
    parts = []
    for err in report.errors:
        parts.append(f"<p style='color:#b00020'><b>Cannot train:</b> {e(err)}</p>")
    if report.class_names and report.train_counts:  # counted only once the classes are usable
        rows = "".join(
            f"<tr><td>{e(n)}</td><td align='right'>{report.train_counts.get(n, 0)}</td>"
            f"<td align='right'>{report.val_counts.get(n, 0)}</td></tr>"
            for n in report.class_names
        )
        parts.append(
            "<table cellspacing='6'><tr><th align='left'>class</th><th>train</th>"
            f"<th>validation</th></tr>{rows}</table>"
        )
    for warning in report.warnings:
        parts.append(f"<p style='color:#8a6100'>⚠ {e(warning)}</p>")
    if report.unreadable:
        listed = "".join(f"<li>{e(p)}: {e(r)}</li>" for p, r in report.unreadable[:50])
        more = (
            f"<li>… and {len(report.unreadable) - 50} more</li>"
            if len(report.unreadable) > 50
            else ""
        )
        parts.append(
            f"<p>{len(report.unreadable)} file(s) cannot be read and will be left out "
            f"(nothing is moved or deleted):</p><ul>{listed}{more}</ul>"
        )
    return "".join(parts)
