"""Seeing inside the network: the Grad-CAM panel and the feature-map grid.

The torch work (``model.explain``, ``model.feature_maps``) runs in worker
threads; these widgets only ask for it and show the pictures that come back.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from inception_gui.jobs import PREVIEW_SIDE, Picture, to_picture
from inception_gui.results_model import picture_to_pixmap

__all__ = ["CamControls", "CamResult", "FeatureGrid", "cam_job", "feature_job", "overlay_job"]


@dataclass(frozen=True)
class CamResult:
    """A Grad-CAM map and the photo it lies over, both at preview size (plain data)."""

    label: str  # the class explained
    probability: float  # its probability
    layer: str  # the layer whose activations were weighted
    photo: object  # PIL image, preview size
    heatmap: object  # numpy H x W in [0, 1], the photo's size
    grid: tuple[int, int] = (0, 0)  # the layer's own grid: a 1 x 1 map can say nothing


def cam_job(classifier, source, class_index: int, layer: str) -> CamResult:
    """Grad-CAM for one class of one image, scaled down for the preview panel."""
    import numpy as np
    from PIL import Image

    from model.explain import explain
    from model.images import load_image, to_rgb

    result = explain(classifier, source, class_index, layer)
    photo = to_rgb(source) if isinstance(source, Image.Image) else load_image(source)
    photo.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    heat = Image.fromarray((result.heatmap * 255).astype(np.uint8)).resize(photo.size)
    return CamResult(
        result.label,
        result.probability,
        result.layer,
        photo,
        np.asarray(heat, dtype=np.float32) / 255.0,
        tuple(result.grid.shape[:2]) if result.grid is not None else (0, 0),
    )


def overlay_job(cam: CamResult, opacity: float) -> Picture:
    """The photo with the heatmap drawn over it at ``opacity``."""
    from model.explain import overlay

    return to_picture(overlay(cam.photo, cam.heatmap, opacity), PREVIEW_SIDE)


def layers_job(classifier) -> list[str]:
    from model.features import camera_layers

    return camera_layers(classifier.network)


class CamControls(QWidget):
    """Show-why switch, class and layer pickers, and an opacity slider.

    Signals
    -------
    changed()
        The class, layer or switch changed: recompute the map.
    opacity_changed(float)
        Only the blend changed: redraw with the same map.
    """

    changed = Signal()
    opacity_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.enabled = QCheckBox("Show why")
        self.enabled.setToolTip(
            "Grad-CAM: highlight the parts of the photo that drive the chosen class"
        )
        self.class_combo = QComboBox()
        # Room for a label and its share ("tomato (31%)") before the layer's combo.
        self.class_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.class_combo.setMinimumContentsLength(12)
        self.layer_combo = QComboBox()
        self.layer_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.layer_combo.setToolTip("The layer whose activations are weighted; Mixed_7c by default")
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(50)
        self.opacity.setMaximumWidth(120)
        self.opacity.setToolTip("Opacity of the heatmap")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.enabled)
        layout.addWidget(self.class_combo, 1)
        layout.addWidget(self.layer_combo)
        layout.addWidget(QLabel("Opacity"))
        layout.addWidget(self.opacity)
        self._debounce = QTimer(self, singleShot=True, interval=60)
        self._debounce.timeout.connect(lambda: self.opacity_changed.emit(self.opacity_value))
        self.enabled.toggled.connect(self._on_enabled_toggled)
        self.class_combo.activated.connect(lambda _i: self.changed.emit())
        self.layer_combo.activated.connect(lambda _i: self.changed.emit())
        self.opacity.valueChanged.connect(lambda _v: self._debounce.start())
        self._on_enabled_toggled(False)

    @property
    def opacity_value(self) -> float:
        return self.opacity.value() / 100.0

    def _on_enabled_toggled(self, on: bool) -> None:
        for w in (self.class_combo, self.layer_combo, self.opacity):
            w.setEnabled(on)
        self.changed.emit()

    def set_classes(self, predictions) -> None:
        """Offer the top-k ``(label, index, probability)`` of the shown image."""
        self.class_combo.clear()
        for label, index, prob in predictions:
            self.class_combo.addItem(f"{label} ({prob:.0%})", index)

    def set_layers(self, layers: list[str], default: str = "Mixed_7c") -> None:
        current = self.layer_combo.currentText() or default
        self.layer_combo.clear()
        self.layer_combo.addItems(layers)
        index = self.layer_combo.findText(current)
        self.layer_combo.setCurrentIndex(index if index >= 0 else max(0, len(layers) - 1))


def feature_job(classifier, source, layer: str, top: int = 16):
    """The ``top`` most active channels of ``layer`` for one image (``model.FeatureMaps``)."""
    from model.features import feature_maps

    return feature_maps(classifier, source, layer, top=top)


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

    def show_maps(self, maps) -> None:
        """Show a ``model.FeatureMaps``."""
        self.shown = maps
        self._clear()
        c, h, w = maps.shape
        self.header.setText(
            f"<b>{maps.layer}</b>: {c} channels on a {h} x {w} grid for a "
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
        self.header.setText(text)
