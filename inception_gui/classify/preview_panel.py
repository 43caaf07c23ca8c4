"""The Classify tab's side panel: the selected image, its top-k bars and Grad-CAM.

The tab owns the gallery; this panel shows one of its rows. Decoding the
picture, computing a class activation map and drawing its heatmap run through
the :class:`~inception_gui.core.workers.WorkerHub`; only the newest Grad-CAM
request is shown.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from inception_gui.classify.gradcam import CamControls, CamResult, cam_job, layers_job, overlay_job
from inception_gui.classify.jobs import ClassifiedImage, Picture, preview_job
from inception_gui.classify.results_model import picture_to_pixmap
from inception_gui.core.session import ModelSession
from inception_gui.core.workers import WorkerHub
from inception_gui.widgets.common import PictureView, PredictionBars

__all__ = ["PreviewPanel"]

DROP_HINT = "Drop photos or folders here,\nor use Open / Paste"
CAM_DELAY_MS = 250  # a row must stay selected this long before its Grad-CAM is computed


class PreviewPanel(QWidget):
    """One classified image: its picture (or Grad-CAM overlay), path and top-k bars.

    Parameters
    ----------
    hub : WorkerHub
        Runs the decoding, Grad-CAM and heatmap jobs.
    session : ModelSession
        The model to explain, and whether its weights are trained.
    pasted : dict
        Name -> PIL image of each pasted picture; the tab's own dict, shared, not copied.

    Signals
    -------
    status(str)
        A line for the status bar.
    image_selected(object)
        A readable image is shown: its path or PIL image, for the Explorer's feature maps.
    """

    status = Signal(str)
    image_selected = Signal(object)

    def __init__(
        self,
        hub: WorkerHub,
        session: ModelSession,
        pasted: dict[str, object],
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self._hub = hub
        self._session = session
        self._pasted = pasted
        self._shown: ClassifiedImage | None = None  # the item in the panel
        self._earlier: str | None = None  # the earlier model that made it, if not the current
        self._preview_source: str | None = None  # its source, once its picture is wanted
        self.ready_preview: tuple[str, Picture] | None = None  # a batch's first picture
        self.picture = PictureView()
        self.picture.setMinimumHeight(120)  # the bars and controls keep their room at 600 px
        self.picture.set_picture(None, DROP_HINT)
        self.caption = QLabel()
        self.caption.setTextFormat(Qt.TextFormat.PlainText)  # a file's name, never markup
        self.caption.setWordWrap(True)
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.bars = PredictionBars()
        self.cam = CamControls()
        self.cam.changed.connect(self._on_cam_changed)
        self.cam.opacity_changed.connect(self._on_cam_opacity_changed)
        self._cam_result: CamResult | None = None
        # Moving through rows with the keys starts one map, for the row that stays selected.
        self._cam_timer = QTimer(self, singleShot=True, interval=CAM_DELAY_MS)
        self._cam_timer.timeout.connect(self._on_cam_changed)
        layout = QVBoxLayout(self)
        layout.addWidget(self.picture, 1)
        layout.addWidget(self.cam)
        layout.addWidget(self.caption)
        layout.addWidget(self.bars)

    @property
    def cam_result(self) -> CamResult | None:
        """The Grad-CAM map over the shown picture, or None."""
        return self._cam_result

    def show_item(self, item: ClassifiedImage | None, earlier: str | None = None) -> None:
        """Show ``item`` (None: the drop hint); its picture is decoded unless already at hand.

        ``earlier`` names the earlier model that made ``item``'s predictions when it is
        not the model loaded now: the panel says so, and offers no Grad-CAM for it,
        since a map drawn with another model would explain predictions it never made.
        """
        self._shown = item
        self._earlier = earlier
        self._preview_source = None
        self._cam_result = None
        self._cam_timer.stop()
        if item is None:
            self.picture.set_picture(None, DROP_HINT)
            self.caption.clear()
            self.bars.set_predictions([])
            return
        self.caption.setText(item.source)
        self.refresh_bars()
        self.cam.set_classes(item.predictions)
        self.cam.setEnabled(earlier is None)
        if item.error:
            self.picture.set_picture(None, "This file could not be read.")
            return
        self._preview_source = item.source
        self.image_selected.emit(self._pasted.get(item.source, item.source))
        # The plain photo first, so that no earlier map stays under this caption.
        self._show_photo(item)
        if self.cam.enabled.isChecked() and earlier is None:
            self._cam_timer.start()

    def _show_photo(self, item: ClassifiedImage) -> None:
        ready = self.ready_preview
        if ready is not None and ready[0] == item.source:  # decoded with the thumbnail
            self.picture.set_picture(picture_to_pixmap(ready[1]))
            return
        self.picture.set_picture(None, "Loading…")
        source = self._pasted.get(item.source, item.source)
        self._hub.start(
            "Showing the picture",
            preview_job,
            source,
            on_return=lambda pic, s=item.source: self._on_photo_ready(s, pic),
            on_error=lambda exc: self.picture.set_picture(None, str(exc)),
        )

    def _on_photo_ready(self, source: str, picture) -> None:
        if self._cam_result is None:  # a map that came first stays on top
            self._on_preview_ready(source, picture)

    def refresh_bars(self) -> None:
        """Redraw the shown item's bars, warning when the model's weights are untrained."""
        item = self._shown
        if item is None:
            return
        if item.error:
            self.bars.set_predictions([], note=f"Could not read this file: {item.error}")
            return
        rows = [(label, prob) for label, _, prob in item.predictions]
        state = self._session.state
        untrained = state is not None and not state.trained
        self.bars.set_predictions(rows)
        if self._earlier is not None:
            self.caption.setText(
                f"{item.source}\n⟲ Classified by an earlier model ({self._earlier}), not the "
                "one loaded now: Classify again to use it, and for Show why."
            )
        elif untrained:
            self.caption.setText(
                f"{item.source}\n⚠ Untrained (random) weights: these classes mean nothing."
            )

    def refresh_model(self) -> None:
        """A model is ready: redraw the bars and list its layers for Grad-CAM."""
        self.refresh_bars()
        self._hub.start(
            "Listing layers", layers_job, self._session.classifier(), on_return=self.cam.set_layers
        )

    def _on_preview_ready(self, source: str, picture) -> None:
        if source == self._preview_source:
            self.picture.set_picture(picture_to_pixmap(picture))

    # Grad-CAM --------------------------------------------------------------------------
    def _on_cam_changed(self) -> None:
        item = self._shown
        classifier = self._session.classifier()
        state = self._session.state
        if item is None or item.error or classifier is None or self._earlier is not None:
            return  # never a map from a model that did not make the row
        if not self.cam.enabled.isChecked():
            self._cam_result = None
            self.show_item(item, self._earlier)
            return
        class_index = self.cam.class_combo.currentData()
        layer = self.cam.layer_combo.currentText() or "Mixed_7c"
        if class_index is None:
            return
        self.status.emit(f"Computing the class activation map at {layer}…")
        self._hub.start(
            "Computing the class activation map",
            cam_job,
            classifier,
            self._pasted.get(item.source, item.source),
            class_index,
            layer,
            key="grad-cam",  # only the newest Grad-CAM request is shown
            on_return=lambda cam, s=item.source, g=state.generation: self._on_cam_ready(s, cam, g),
        )

    def _on_cam_ready(self, source: str, cam: CamResult, generation: int = 0) -> None:
        state = self._session.state
        if source != self._preview_source or not self.cam.enabled.isChecked():
            return
        if state is None or state.generation != generation or self._earlier is not None:
            return  # the model changed while the map was computed
        self._cam_result = cam
        note = ""
        if 0 < max(cam.grid) <= 2:
            h, w = cam.grid
            note = f" — {cam.layer} is only {h} x {w} at this input size; pick an earlier layer"
        # No probability here: the map comes from the fp32 reference network, whose
        # share can differ by a few points from the bars' (the fast path's precision).
        self.status.emit(f"Grad-CAM for '{cam.label}' at {cam.layer}{note}")
        self._on_cam_opacity_changed(self.cam.opacity_value)

    def _on_cam_opacity_changed(self, opacity: float) -> None:
        cam = self._cam_result
        if cam is None:
            return
        source = self._preview_source
        self._hub.start(
            "Drawing the heatmap",
            overlay_job,
            cam,
            opacity,
            on_return=lambda pic, s=source: self._on_preview_ready(s, pic),
        )
