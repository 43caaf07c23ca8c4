"""What a layer sees: the grid of its most active feature maps for one image."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

import model
from inception_gui.core.pictures import Picture
from inception_gui.widgets.common import picture_to_pixmap

__all__ = ["FeatureGrid", "feature_job"]


def feature_job(classifier, source, layer: str, top: int = 16):
    """The ``top`` most active channels of ``layer`` for one image (``model.FeatureMaps``)."""
    return model.feature_maps(classifier, source, layer, top=top)


class FeatureGrid(QScrollArea):
    """A grid of channel maps, each with its index and activation statistics.

    As many columns as fit the width (at least one): the tiles reflow when the
    panel is resized, so nothing is cut off behind a horizontal scroll bar.
    """

    SIDE = 96

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self._inner = QWidget()
        self._layout = QVBoxLayout(self._inner)
        self.header = QLabel("Choose an image, then select a layer to see what it responds to.")
        self.header.setTextFormat(Qt.TextFormat.RichText)  # outside names in it are escaped
        self.header.setWordWrap(True)
        self._grid = QGridLayout()
        self._layout.addWidget(self.header)
        self._layout.addLayout(self._grid)
        self._layout.addStretch(1)
        self.setWidget(self._inner)
        self._cells: list[QWidget] = []
        self._columns = 0
        self.shown = None

    @property
    def columns(self) -> int:
        """How many tiles a row holds now."""
        return self._columns

    def tile_position(self, i: int) -> tuple[int, int]:
        """Row and column of the ``i``-th tile (most active first)."""
        row, col, _, _ = self._grid.getItemPosition(self._grid.indexOf(self._cells[i]))
        return row, col

    @property
    def tile_width(self) -> int:
        """The widest tile's width (0 when none is shown)."""
        return max((cell.sizeHint().width() for cell in self._cells), default=0)

    def show_maps(self, maps, image: str = "") -> None:
        """Show a ``model.FeatureMaps``, made from the image named ``image``."""
        self.shown = maps
        self._clear()
        c, h, w = maps.shape
        origin = f"For <b>{html.escape(image)}</b>, " if image else ""
        self.header.setText(
            f"{origin}<b>{maps.layer}</b>: {c} channels on a {h} x {w} grid for a "
            f"{maps.input_size} x {maps.input_size} input; the {len(maps.channels)} most active:"
        )
        self._cells = [self._cell(ch) for ch in maps.channels]
        self._reflow(force=True)

    def _cell(self, ch) -> QWidget:
        import numpy as np

        grey = (np.clip(ch.map, 0, 1) * 255).astype(np.uint8)
        rgb = np.repeat(grey[:, :, None], 3, axis=2)
        pic = Picture(rgb.shape[1], rgb.shape[0], rgb.tobytes())
        image = QLabel()
        image.setPixmap(
            picture_to_pixmap(pic).scaled(
                self.SIDE,
                self.SIDE,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.FastTransformation,
            )
        )
        image.setToolTip(
            f"channel {ch.index}: mean {ch.mean:.3f}, max {ch.max:.3f}, std {ch.std:.3f}"
        )
        caption = QLabel(f"#{ch.index}\nmean {ch.mean:.2f} · max {ch.max:.2f}")
        caption.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        cell = QWidget()
        v = QVBoxLayout(cell)
        v.setContentsMargins(2, 2, 2, 2)
        v.addWidget(image, 0, Qt.AlignmentFlag.AlignHCenter)
        v.addWidget(caption)
        return cell

    def _fitting_columns(self) -> int:
        if not self._cells:
            return 0
        tile = self.tile_width
        spacing = max(self._grid.horizontalSpacing(), 0)
        margins = self._layout.contentsMargins()
        # The vertical scroll bar's room is kept whether it shows or not, so that its coming
        # and going never re-flows the tiles.
        scroll_bar = self.verticalScrollBar().sizeHint().width()
        room = self.contentsRect().width() - scroll_bar - margins.left() - margins.right()
        # n tiles need n * tile + (n - 1) * spacing pixels.
        return max(1, (room + spacing) // (tile + spacing))

    def _reflow(self, force: bool = False) -> None:
        columns = self._fitting_columns()
        if columns == self._columns and not force:
            return
        self._columns = columns
        for cell in self._cells:
            self._grid.removeWidget(cell)
        for i, cell in enumerate(self._cells):
            self._grid.addWidget(cell, i // columns, i % columns)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._reflow()

    def _clear(self) -> None:
        while self._grid.count():
            self._grid.takeAt(0).widget().deleteLater()
        self._cells = []
        self._columns = 0

    def show_message(self, text: str) -> None:
        self.shown = None
        self._clear()
        self.header.setText(html.escape(text))  # may name the image file
