"""Save the loaded model as ONNX or TorchScript, checked against PyTorch after writing."""

from __future__ import annotations

import html
import re
from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
)

import model.inference
from inception_gui.core.workers import WorkerHub

__all__ = ["ExportDialog"]


def _export_job(classifier, fmt: str, path: str, images: list) -> list:
    targets = model.inference.export_targets(path, fmt)
    written = [model.inference.export_model(classifier, f, target) for f, target in targets]
    return [(str(t), model.inference.verify_export(t, classifier, images or None)) for t in written]


class ExportDialog(QDialog):
    """Export the loaded model to ONNX and/or TorchScript, then check it against PyTorch."""

    def __init__(
        self, hub: WorkerHub, classifier, name: str, images: list, parent=None, folder: str = ""
    ) -> None:
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
        # Beside the weights file (a run's folder) when there is one, else the home folder.
        where = Path(folder) if folder and Path(folder).is_dir() else Path.home()
        self.path = QLineEdit(str(where / f"{stem or 'inception'}.onnx"))
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
        text = html.escape(text)  # it names the file
        self.result.setHtml(f"<p style='color:#b00020'>Export failed: {text}</p>")

    def _on_exported(self, checks: list) -> None:
        self.checks = checks
        self.export_button.setEnabled(True)
        parts = []
        for path, check in checks:
            colour = "#1b7f3b" if check.ok else "#b00020"
            verdict = "matches PyTorch" if check.ok else "DOES NOT MATCH PyTorch"
            parts.append(
                f"<p><b>{html.escape(str(path))}</b><br>"
                f"<span style='color:{colour}'><b>{verdict}</b></span>"
                f": {check.message}</p>"
            )
        self.result.setHtml("".join(parts))
