"""Dialogs: variants side by side, the images in a confusion-matrix cell, model export."""

from __future__ import annotations

import functools
import os
import re
import subprocess
from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
)

from inception_gui.jobs import thumbnail
from inception_gui.layer_tree_model import format_mult_adds, format_shape
from inception_gui.results_model import picture_to_pixmap
from inception_gui.workers import WorkerHub

__all__ = ["CompareDialog", "ExportDialog", "MistakesDialog"]


def _compare_job(input_size: int, summaries: dict):
    from model.compare import compare_variants

    return compare_variants(input_size, summaries=summaries)


class CompareDialog(QDialog):
    """v3 and the paper's layout stage by stage, and what each factorization saves."""

    def __init__(self, hub: WorkerHub, input_size: int, summaries: dict, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"v3 against the paper's layout at {input_size} px")
        self.resize(980, 680)
        self.table = QTableWidget(0, 7)
        self.table.setHorizontalHeaderLabels(
            [
                "Stage",
                "v3 shape",
                "v3 params",
                "v3 mult-adds",
                "paper shape",
                "paper params",
                "paper mult-adds",
            ]
        )
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.claims = QTextBrowser()
        self.claims.setHtml("<i>Measuring both variants…</i>")
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 3)
        layout.addWidget(self.claims, 2)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.comparison = None
        hub.start(
            "Comparing the variants",
            _compare_job,
            input_size,
            summaries,
            on_return=self._on_comparison_ready,
        )

    def _on_comparison_ready(self, comparison) -> None:
        self.comparison = comparison
        self.table.setRowCount(len(comparison.rows))
        for r, row in enumerate(comparison.rows):
            cells = [row.name]
            for side in (row.v3, row.paper):
                if side is None:
                    cells += ["—", "—", "—"]
                else:
                    cells += [
                        format_shape(side.output_shape),
                        f"{side.params:,}",
                        format_mult_adds(side.mult_adds),
                    ]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(r, c, item)
        parts = [
            "<h3>Factorizations: the paper's claims against the real blocks</h3><table "
            "cellspacing='6'><tr><th align='left'>variant</th><th align='left'>factorization"
            "</th><th>instances</th><th>measured saving (mult-adds)</th><th>paper's claim</th>"
            "<th align='left'>why they differ</th></tr>"
        ]
        for f in comparison.factorizations:
            measured = (
                f"{1 - f.mult_adds / f.unfactored_mult_adds:.0%}" if f.unfactored_mult_adds else "—"
            )
            if f.saving_min != f.saving_max:
                measured += f" ({f.saving_min:.0%}–{f.saving_max:.0%})"
            claim = f"{f.paper_claim:.0%}" if f.paper_claim is not None else "—"
            parts.append(
                f"<tr><td>{f.variant}</td><td>{f.kind}</td><td align='right'>{f.count}</td>"
                f"<td align='right'>{measured}</td><td align='right'>{claim}</td>"
                f"<td>{f.note}</td></tr>"
            )
        parts.append("</table>")
        self.claims.setHtml("".join(parts))


@functools.lru_cache(maxsize=1)
def _review_classifier(checkpoint: str, stamp: int):
    """The run's checkpoint, loaded once for every cell clicked (``stamp``: its mtime)."""
    from model import load_classifier

    return load_classifier(checkpoint, device="cpu")


def _mistakes_job(checkpoint: str, samples: list) -> list:
    """Top-5 and a thumbnail for each image of a confusion-matrix cell."""
    from model.mistakes import top5_for

    classifier = _review_classifier(checkpoint, os.stat(checkpoint).st_mtime_ns)
    results = top5_for(classifier, [s.path for s in samples])
    return [(s, r, thumbnail(s.path)) for s, r in zip(samples, results)]


class MistakesDialog(QDialog):
    """The validation images of one confusion-matrix cell, highest loss first."""

    def __init__(self, hub: WorkerHub, done, true_index: int, predicted_index: int, parent=None):
        super().__init__(parent)
        from model.mistakes import cell_samples

        names = done.class_names
        self.samples = cell_samples(done.val_samples, true_index, predicted_index)
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
            "Sorted by loss, highest first. Files are only shown, never moved or changed."
        )
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.list, 1)
        row = QHBoxLayout()
        row.addWidget(self.reveal_button)
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
        from model.mistakes import reveal_in_file_manager_command

        item = self.list.currentItem() or self.list.item(0)
        if item is not None:
            command = reveal_in_file_manager_command(item.data(Qt.ItemDataRole.UserRole))
            subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _export_job(classifier, fmt: str, path: str, images: list) -> list:
    from model.export import export_model, export_targets, verify_export

    written = [export_model(classifier, f, target) for f, target in export_targets(path, fmt)]
    return [(str(t), verify_export(t, classifier, images or None)) for t in written]


class ExportDialog(QDialog):
    """Export the loaded model to ONNX and/or TorchScript, then check it against PyTorch."""

    def __init__(self, hub: WorkerHub, classifier, name: str, images: list, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export the model")
        self._hub = hub
        self._classifier = classifier
        self._images = images
        self.format = QComboBox()
        self.format.addItem("ONNX (.onnx)", "onnx")
        self.format.addItem("TorchScript (.pt)", "torchscript")
        self.format.addItem("Both", "both")
        self.format.currentIndexChanged.connect(self._on_format_changed)
        # "ImageNet (IMAGENET1K_V1)" or "best.safetensors" -> a plain file name.
        stem = re.sub(r"[^\w.-]+", "_", Path(name).stem if "." in name else name).strip("_")
        self.path = QLineEdit(str(Path.home() / f"{stem or 'inception'}.onnx"))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._on_browse_clicked)
        self.result = QTextBrowser()
        # Text, not a placeholder: a QTextBrowser's placeholder does not wrap.
        self.result.setHtml(
            "<p style='color:gray'>After writing the file, the app runs it on sample images "
            "and compares it with PyTorch: largest difference in the logits and top-1 "
            "agreement.</p>"
        )
        self.export_button = QPushButton("Export and check")
        self.export_button.clicked.connect(self._on_export_clicked)
        form = QHBoxLayout()
        form.addWidget(self.format)
        form.addWidget(self.path, 1)
        form.addWidget(browse)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.result, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.addButton(self.export_button, QDialogButtonBox.ButtonRole.ActionRole)
        layout.addWidget(buttons)
        self.resize(640, 360)
        self.checks: list = []

    def _on_format_changed(self, _index: int) -> None:
        # The file name follows the format ("both" writes .onnx and .pt beside each other).
        suffix = ".pt" if self.format.currentData() == "torchscript" else ".onnx"
        path = Path(self.path.text().strip() or "inception")
        self.path.setText(str(path.with_suffix(suffix)))

    def _on_browse_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export to", self.path.text())
        if path:
            self.path.setText(path)

    def _on_export_clicked(self) -> None:
        self.export_button.setEnabled(False)
        self.result.setHtml("<i>Exporting and checking…</i>")
        self._hub.start(
            "Exporting the model",
            _export_job,
            self._classifier,
            self.format.currentData(),
            self.path.text(),
            self._images,
            on_return=self._on_exported,
            on_error=lambda exc: self._show_error(str(exc)),
        )

    def _show_error(self, text: str) -> None:
        self.export_button.setEnabled(True)
        self.result.setHtml(f"<p style='color:#b00020'>Export failed: {text}</p>")

    def _on_exported(self, checks: list) -> None:
        self.checks = checks
        self.export_button.setEnabled(True)
        parts = []
        for path, check in checks:
            colour = "#1b7f3b" if check.ok else "#b00020"
            verdict = "matches PyTorch" if check.ok else "DOES NOT MATCH PyTorch"
            parts.append(
                f"<p><b>{path}</b><br><span style='color:{colour}'><b>{verdict}</b></span>"
                f": {check.message}</p>"
            )
        self.result.setHtml("".join(parts))
