"""Why the model said so: the Grad-CAM controls and the jobs behind them.

The torch work (``model.inference.explain``, ``model.feature_maps``) runs in worker
threads; these widgets only ask for it and show the pictures that come back.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QWidget,
)

import model
import model.data
from inception_gui.core.pictures import PREVIEW_SIDE, Picture, to_picture

__all__ = ["CamControls", "CamResult", "cam_job", "layers_job", "overlay_job"]


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

    result = model.explain(classifier, source, class_index, layer)
    if isinstance(source, Image.Image):
        photo = model.data.to_rgb(source)
    else:
        photo = model.data.load_image(source)
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
    return to_picture(model.overlay(cam.photo, cam.heatmap, opacity), PREVIEW_SIDE)


def layers_job(classifier) -> list[str]:
    return model.camera_layers(classifier.network)


LABEL_CHARS = 40  # a class name is cut past this in the class combo (ImageNet's longest: 30)


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
        # As wide as its longest item ("American Staffordshire terrier (31.4%)"), so no
        # splitter or window size clips it; a label past LABEL_CHARS is cut in the item
        # (whole in its tooltip), so that a long folder name cannot widen the window.
        self.class_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        policy = self.class_combo.sizePolicy()  # its hint is its least width, not only a wish
        policy.setHorizontalPolicy(QSizePolicy.Policy.Minimum)
        self.class_combo.setSizePolicy(policy)
        self.class_combo.setMinimumContentsLength(12)
        self.layer_combo = QComboBox()
        self.layer_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.layer_combo.setToolTip("The layer whose activations are weighted; Mixed_7c by default")
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(50)
        self.opacity.setMinimumWidth(80)
        self.opacity.setMaximumWidth(160)
        self.opacity.setToolTip("Opacity of the heatmap")
        # Two rows: the class with the switch, then the layer and the blend. One row
        # squeezed the slider to nothing and clipped the combos in a narrow panel.
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.enabled, 0, 0)
        layout.addWidget(self.class_combo, 0, 1, 1, 3)
        layout.addWidget(QLabel("Layer"), 1, 0, Qt.AlignmentFlag.AlignRight)
        layout.addWidget(self.layer_combo, 1, 1)
        layout.addWidget(QLabel("Opacity"), 1, 2, Qt.AlignmentFlag.AlignRight)
        layout.addWidget(self.opacity, 1, 3)
        layout.setColumnStretch(1, 1)
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
            shown = label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"
            self.class_combo.addItem(f"{shown} ({prob:.1%})", index)
            self.class_combo.setItemData(
                self.class_combo.count() - 1, label, Qt.ItemDataRole.ToolTipRole
            )

    def set_layers(self, layers: list[str], default: str = "Mixed_7c") -> None:
        current = self.layer_combo.currentText() or default
        self.layer_combo.clear()
        self.layer_combo.addItems(layers)
        index = self.layer_combo.findText(current)
        self.layer_combo.setCurrentIndex(index if index >= 0 else max(0, len(layers) - 1))
