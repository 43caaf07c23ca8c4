"""Small widgets shared by the tabs: prediction bars, a scaled picture, a banner."""

from __future__ import annotations

import os

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from inception_gui.core.pictures import Picture
from model.data.formats import dialog_filter
from model.precision import PRECISION_NAMES

__all__ = [
    "WEIGHTS_FILTER",
    "Banner",
    "PictureView",
    "PredictionBars",
    "image_filter",
    "open_image_files",
    "picture_to_pixmap",
    "precision_combo",
]


class PredictionBars(QWidget):
    """Top-k classes as labelled horizontal bars with percentages."""

    ROW_HEIGHT = 30

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[tuple[str, float]] = []
        self._note = ""
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_predictions(self, rows: list[tuple[str, float]], note: str = "") -> None:
        """Show ``(label, probability)`` rows, best first; ``note`` replaces them if given."""
        self._rows = list(rows)
        self._note = note
        self.setMinimumHeight(max(1, len(self._rows)) * self.ROW_HEIGHT + 8)
        self.updateGeometry()
        self.update()

    def rows(self) -> list[tuple[str, float]]:
        """What is shown: ``(label, probability)`` pairs."""
        return list(self._rows)

    def sizeHint(self) -> QSize:
        return QSize(360, max(1, len(self._rows)) * self.ROW_HEIGHT + 8)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        if self._note or not self._rows:
            painter.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(
                self.rect(),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                self._note or "Drop images here to classify them",
            )
            return
        width = self.width()
        pct_w = 62
        bar_w = max(40, width - pct_w - 8)
        accent = pal.color(QPalette.ColorRole.Highlight)
        track = pal.color(QPalette.ColorRole.AlternateBase)
        for i, (label, prob) in enumerate(self._rows):
            top = 4 + i * self.ROW_HEIGHT
            rect = QRectF(0, top, bar_w, self.ROW_HEIGHT - 6)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(track)
            painter.drawRoundedRect(rect, 4, 4)
            fill = QColor(accent)
            fill.setAlpha(255 if i == 0 else 150)
            painter.setBrush(fill)
            painter.drawRoundedRect(QRectF(0, top, max(3.0, bar_w * prob), rect.height()), 4, 4)
            painter.setPen(pal.color(QPalette.ColorRole.Text))
            painter.drawText(
                rect.adjusted(8, 0, -4, 0),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                label,
            )
            painter.drawText(
                QRectF(bar_w, top, pct_w, rect.height()),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                f"{prob * 100:.1f}%",
            )


class PictureView(QLabel):
    """A picture scaled to fit, keeping its aspect ratio."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pixmap: QPixmap | None = None
        self.setTextFormat(Qt.TextFormat.PlainText)  # placeholders name files (errors)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(200, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setFrameShape(QFrame.Shape.StyledPanel)

    def set_picture(self, pixmap: QPixmap | None, placeholder: str = "") -> None:
        self._pixmap = pixmap
        if pixmap is None:
            self.clear()
            self.setText(placeholder)
        else:
            self._rescale()

    def has_picture(self) -> bool:
        return self._pixmap is not None

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self._pixmap is not None and not self._pixmap.isNull():
            self.setPixmap(
                self._pixmap.scaled(
                    self.size() - QSize(8, 8),
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )


class Banner(QFrame):
    """A coloured strip with a message and action buttons (e.g. untrained weights)."""

    action = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setStyleSheet(
            "#banner { background: #fff4ce; border: 1px solid #e0c35c; border-radius: 4px; }"
            "#banner QLabel { color: #4d3b00; }"
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        self.label = QLabel()
        self.label.setWordWrap(True)
        layout.addWidget(self.label, 1)
        self._buttons: dict[str, QPushButton] = {}
        self._layout = layout

    def set_message(self, text: str, actions: dict[str, str]) -> None:
        """Show ``text`` with buttons: ``{key: button text}``; ``action(key)`` on click."""
        self.label.setText(text)
        for button in self._buttons.values():
            button.deleteLater()
        self._buttons.clear()
        for key, caption in actions.items():
            button = QPushButton(caption)
            button.clicked.connect(lambda _=False, k=key: self.action.emit(k))
            self._layout.addWidget(button)
            self._buttons[key] = button

    def button(self, key: str) -> QPushButton:
        return self._buttons[key]


def image_filter() -> str:
    """The file dialogs' image filter: the suffixes of the formats the loader reads, no others."""
    return dialog_filter()


def open_image_files(parent: QWidget | None, folder: str) -> list[str]:
    """The files a person picks in an "Open images" dialog: every one, whatever it is.

    Qt's own dialog (used where the desktop offers none) keeps only the typed names
    its filter shows: ``"notes.txt" "a.jpg"`` typed under the Images filter gives
    a.jpg alone, and notes.txt is gone without a word. Those names are put back, so
    each gets its row and its reason, as when the same paths are pasted.
    """
    dialog = QFileDialog(parent, "Open images", folder, image_filter())
    dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
    try:
        if not dialog.exec():
            return []
        files = dialog.selectedFiles()
        given = {os.path.normpath(f) for f in files}
        return files + [n for n in _typed_names(dialog) if os.path.normpath(n) not in given]
    finally:
        dialog.deleteLater()


def _typed_names(dialog: QFileDialog) -> list[str]:
    """The names in Qt's dialog's file name box, as paths (none for a desktop's dialog)."""
    edit = dialog.findChild(QLineEdit, "fileNameEdit")
    text = edit.text().strip() if edit is not None else ""
    names = text.split('"')[1::2] if '"' in text else [text]  # Qt's quoting: "a" "b"
    folder = dialog.directory().absolutePath()
    return [os.path.join(folder, os.path.expanduser(name)) for name in names if name]


WEIGHTS_FILTER = "Weights (*.safetensors *.pth *.pt);;All files (*)"


def precision_combo(tooltip: str, names: tuple[str, ...] = PRECISION_NAMES) -> QComboBox:
    """A menu of number formats (auto, fp32, bf16, fp16, int8), each item's data its key."""
    combo = QComboBox()
    for key in names:
        combo.addItem("Auto" if key == "auto" else key, key)
    combo.setToolTip(tooltip)
    return combo


def picture_to_pixmap(picture: Picture) -> QPixmap:
    """A worker's RGB bytes as a pixmap (GUI thread only)."""
    image = QImage(
        picture.data, picture.width, picture.height, 3 * picture.width, QImage.Format.Format_RGB888
    )
    return QPixmap.fromImage(image.copy())  # copy: the bytes object may go away
