"""The Classify tab: drop, open or paste images; see the top-5 of each."""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path

from PySide6.QtCore import (
    QMimeData,
    QSize,
    QSortFilterProxyModel,
    Qt,
    QUrl,
    Signal,
)
from PySide6.QtGui import QImage, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from inception_gui.insight import CamControls, cam_job, layers_job, overlay_job
from inception_gui.jobs import (
    THUMB_SIDE,
    ClassifiedImage,
    JobStarted,
    Picture,
    classify_job,
    preview_job,
    write_predictions_csv,
)
from inception_gui.results_model import SORT_ROLE, ResultsTableModel, picture_to_pixmap
from inception_gui.session import ModelSession, ModelState
from inception_gui.widgets import IMAGE_FILTER, PictureView, PredictionBars
from inception_gui.workers import CancelToken, WorkerHub

__all__ = ["ClassifyTab"]


def _unquote(text: str) -> str:
    """``text`` without one pair of matching quotes around it, as file managers copy paths."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def paths_from_mime(mime: QMimeData) -> list[str]:
    """Local files and folders named by a drop or paste (as URLs, or as lines of text).

    A line of text counts when it names something that exists, or is an absolute
    path or a ``file://`` URL: a missing file is kept, so that its row says so,
    while ordinary text is not taken for a file name. Quotes around a path go.
    """
    paths = [u.toLocalFile() for u in mime.urls() if u.isLocalFile() and u.toLocalFile()]
    if not paths and mime.hasText():
        for line in mime.text().splitlines():
            line = _unquote(line.strip())
            is_url = line.startswith("file://")
            if is_url:
                line = QUrl(line).toLocalFile()
            if not line:
                continue
            path = Path(line)
            with contextlib.suppress(RuntimeError):  # "~nobody/...": no such home
                path = path.expanduser()
            if is_url or path.is_absolute() or path.exists():
                paths.append(str(path))
    return paths


def image_from_mime(mime: QMimeData):
    """A picture carried by a drop or paste itself (not a file), as a PIL image.

    Copied straight from Qt's pixels: 17 ms for a 4K screenshot, where the PNG
    round trip this replaces held the GUI thread for 0.84 s (measured here).
    """
    if not mime.hasImage():
        return None
    image = QImage(mime.imageData())
    if image.isNull():
        return None
    from PIL import Image

    image = image.convertToFormat(QImage.Format.Format_RGBA8888)
    size, stride = (image.width(), image.height()), image.bytesPerLine()
    return Image.frombuffer("RGBA", size, bytes(image.constBits()), "raw", "RGBA", stride, 1)


class ClassifyTab(QWidget):
    """Drag and drop, Open and Paste feed images to the model; results fill a gallery.

    Signals
    -------
    status(str)
        A line for the status bar.
    """

    status = Signal(str)
    image_selected = Signal(object)  # a path or PIL image, for the Explorer's feature maps
    busy = Signal(bool)  # a batch is being classified (the model must not move meanwhile)

    def __init__(self, hub: WorkerHub, session: ModelSession, parent: QWidget | None = None):
        super().__init__(parent)
        self._hub = hub
        self._session = session
        self._worker = None
        self._token: CancelToken | None = None
        self._pending: list = []
        self._batch_total: int | None = None  # images in the running batch, once known
        self._batch_done = 0  # of those, shown so far
        self._batch_duplicates = 0  # files named twice in the running batch, skipped
        self._cancelled = False  # the running batch was cancelled (not cleared)
        self._ready_preview: tuple[str, Picture] | None = None  # a batch's first picture
        self._pasted: dict[str, object] = {}  # name -> PIL image, for the preview
        self._pasted_count = 0
        self._preview_source: str | None = None
        self._shown: ClassifiedImage | None = None  # the item in the preview panel
        self.last_folder = ""  # where Open dialogs start
        self.k = 5
        self.setAcceptDrops(True)
        self._build()
        session.ready.connect(self._on_session_ready)

    # Layout ------------------------------------------------------------------------
    def _build(self) -> None:
        self.open_button = QPushButton("Open images…")
        self.folder_button = QPushButton("Open folder…")
        self.paste_button = QPushButton("Paste")
        self.export_button = QPushButton("Export CSV…")
        self.clear_button = QPushButton("Clear")
        self.open_button.clicked.connect(self._on_open_clicked)
        self.folder_button.clicked.connect(self._on_folder_clicked)
        self.paste_button.clicked.connect(self.paste)
        self.export_button.clicked.connect(self._on_export_clicked)
        self.clear_button.clicked.connect(self.clear)
        self.export_button.setEnabled(False)
        bar = QHBoxLayout()
        for b in (self.open_button, self.folder_button, self.paste_button):
            bar.addWidget(b)
        bar.addStretch(1)
        bar.addWidget(self.export_button)
        bar.addWidget(self.clear_button)

        self.results = ResultsTableModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.results)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # arrival order until a click
        self.table.setWordWrap(True)  # a row is a thumbnail high: room for 3-4 lines of runners-up
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setDefaultSectionSize(78)
        self.table.verticalHeader().hide()
        self.table.setIconSize(QSize(THUMB_SIDE, THUMB_SIDE))  # thumbnails come square
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)  # all drag to resize
        header.setStretchLastSection(True)  # the runners-up take what is left
        text = self.table.fontMetrics()
        # Thumbnail plus about 14 characters of file name (the rest elides; the full
        # path is in the caption), a longish ImageNet class name, "Confidence".
        header.resizeSection(0, THUMB_SIDE + text.horizontalAdvance("x") * 16)
        header.resizeSection(1, text.horizontalAdvance("great white shark") + 16)
        header.resizeSection(2, text.horizontalAdvance("Confidence") + 24)
        header.setMinimumSectionSize(THUMB_SIDE // 2)
        self.table.selectionModel().currentRowChanged.connect(self._on_table_current_changed)

        self.picture = PictureView()
        self.picture.set_picture(None, "Drop photos or folders here,\nor use Open / Paste")
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.bars = PredictionBars()
        self.cam = CamControls()
        self.cam.changed.connect(self._on_cam_changed)
        self.cam.opacity_changed.connect(self._on_cam_opacity_changed)
        self._cam_result = None
        self._cam_request = 0  # only the newest Grad-CAM request is shown
        right = QWidget()
        side = QVBoxLayout(right)
        side.addWidget(self.picture, 1)
        side.addWidget(self.cam)
        side.addWidget(self.caption)
        side.addWidget(self.bars)

        splitter = QSplitter()
        splitter.addWidget(self.table)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([3000, 2000])  # 3:2 from the start too, not the preview's size hint

        self.progress = QProgressBar()
        self.progress.setFormat("%v / %m images")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.summary = QLabel()
        bottom = QHBoxLayout()
        bottom.addWidget(self.summary, 1)
        bottom.addWidget(self.progress, 2)
        bottom.addWidget(self.cancel_button)
        self._set_running(False)

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(splitter, 1)
        layout.addLayout(bottom)
        QShortcut(QKeySequence.StandardKey.Paste, self, activated=self.paste)

    # Input ---------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        mime = event.mimeData()
        if paths_from_mime(mime) or mime.hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        if self._take_mime(event.mimeData()):
            event.acceptProposedAction()

    def paste(self) -> None:
        """Classify what the clipboard holds: an image, or file paths."""
        if not self._take_mime(QApplication.clipboard().mimeData()):
            self.status.emit("The clipboard holds no image and no file paths.")

    def _take_mime(self, mime: QMimeData) -> bool:
        paths = paths_from_mime(mime)
        if paths:
            self.classify(paths)
            return True
        image = image_from_mime(mime)
        if image is not None:
            self._pasted_count += 1
            name = f"pasted image {self._pasted_count}"
            self._pasted[name] = image
            self.classify([(name, image)])
            return True
        return False

    def _on_open_clicked(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Open images", self.last_folder, IMAGE_FILTER)
        if files:
            self.last_folder = str(Path(files[0]).parent)
            self.classify(files)

    def _on_folder_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of images", self.last_folder)
        if folder:
            self.last_folder = folder
            self.classify([folder])

    # Work ----------------------------------------------------------------------------
    def classify(self, items: list) -> None:
        """Classify paths (files or folders) or PIL images; queued until a model is ready."""
        if not items:
            return
        classifier = self._session.classifier()
        if classifier is None or self._worker is not None:
            self._pending.extend(items)
            self.status.emit(f"{len(self._pending)} item(s) waiting for the model…")
            return
        self._token = CancelToken()
        self._first_new_row = self.results.rowCount()
        self._batch_total, self._batch_done, self._batch_duplicates = None, 0, 0
        self._cancelled = False
        self._set_running(True)
        self.progress.setRange(0, 0)
        self._worker = self._hub.start(
            "Classifying images",
            classify_job,
            classifier,
            list(items),
            self.k,
            self._token.is_set,
            token=self._token,
            on_yield=self._on_job_yielded,
            on_finish=self._on_job_finished,
        )

    def cancel(self) -> None:
        """Stop classifying after the image in progress; results so far stay."""
        self._pending.clear()
        if self._worker is not None:
            self._cancelled = True
            self._hub.cancel(self._worker)

    def clear(self) -> None:
        self.cancel()
        self._cancelled = False  # cleared, not cancelled: nothing to count
        self._ready_preview = None
        self.results.clear()
        self._pasted.clear()
        self._show_item(None)
        self._update_summary()

    def _on_job_yielded(self, value) -> None:
        if isinstance(value, JobStarted):  # the count matters even if cancelled: "N of M"
            self._batch_total, self._batch_duplicates = value.total, value.duplicates
        if self._token is not None and self._token.is_set():
            return  # cancelled or cleared: the image that was in flight is dropped
        if isinstance(value, JobStarted):
            self.progress.setRange(0, max(value.total, 1))
            self.progress.setValue(0)
            if value.total == 0:
                self.status.emit("No image files found there.")
            return
        item: ClassifiedImage = value
        if item.preview is not None:  # kept aside: one picture, not one per row
            self._ready_preview = (item.source, item.preview)
            item = dataclasses.replace(item, preview=None)
        row = self.results.append(item)
        self._batch_done += 1
        self.progress.setValue(self.progress.value() + 1)
        if row == self._first_new_row:
            self.table.selectRow(self.proxy.mapFromSource(self.results.index(row, 0)).row())
        self._update_summary()

    def _on_job_finished(self) -> None:
        self._worker = None
        self._set_running(False)
        self._update_summary()
        outcome = self._batch_outcome()
        if outcome:
            self.status.emit(outcome)
            if self._cancelled:
                summary = self.summary.text()
                self.summary.setText(f"{summary} — {outcome}" if summary else outcome)
        self._cancelled = False
        if self._pending:
            items, self._pending = self._pending, []
            self.classify(items)

    def _batch_outcome(self) -> str:
        """What the batch that just ended did, for the status bar ("" if nothing to say)."""
        if not self._cancelled and self._token is not None and self._token.is_set():
            return ""  # cleared (or closing): there is nothing left to count
        done, total = self._batch_done, self._batch_total
        images = f"image{'s' if total != 1 else ''}"
        if self._cancelled and total is None:
            text = "Cancelled before any image was classified"
        elif self._cancelled and done < total:
            text = f"Cancelled after {done} of {total} {images}"
        elif total:
            text = f"Classified {done} {images}"
        else:
            return ""
        if self._batch_duplicates:
            n = self._batch_duplicates
            text += f"; skipped {n} duplicate{'s' if n != 1 else ''} (the same file named twice)"
        return text

    def _set_running(self, running: bool) -> None:
        self.busy.emit(running)
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running)
        self.export_button.setEnabled(not running and self.results.rowCount() > 0)

    def _update_summary(self) -> None:
        n, bad = self.results.rowCount(), self.results.error_count()
        text = f"{n} image{'s' if n != 1 else ''}" if n else ""
        if bad:
            text += f", {bad} could not be read (see the red rows)"
        self.summary.setText(text)
        self.export_button.setEnabled(self._worker is None and n > 0)

    def _on_session_ready(self, state: ModelState) -> None:
        if self._pending and self._worker is None:
            items, self._pending = self._pending, []
            self.classify(items)
        self._refresh_bars()
        self._hub.start(
            "Listing layers", layers_job, self._session.classifier(), on_return=self.cam.set_layers
        )

    # Preview -------------------------------------------------------------------------
    def _on_table_current_changed(self, current, _previous) -> None:
        if not current.isValid():
            return
        self._show_item(self.results.item(self.proxy.mapToSource(current).row()))

    def _show_item(self, item: ClassifiedImage | None) -> None:
        self._shown = item
        self._preview_source = None
        self._cam_result = None
        if item is None:
            self.picture.set_picture(None, "Drop photos or folders here,\nor use Open / Paste")
            self.caption.clear()
            self.bars.set_predictions([])
            return
        self.caption.setText(item.source)
        self._refresh_bars()
        self.cam.set_classes(item.predictions)
        if item.error:
            self.picture.set_picture(None, "This file could not be read.")
            return
        self._preview_source = item.source
        self.image_selected.emit(self._pasted.get(item.source, item.source))
        if self.cam.enabled.isChecked():
            self._on_cam_changed()
            return
        ready = self._ready_preview
        if ready is not None and ready[0] == item.source:  # decoded with the thumbnail
            self.picture.set_picture(picture_to_pixmap(ready[1]))
            return
        source = self._pasted.get(item.source, item.source)
        self._hub.start(
            "Showing the picture",
            preview_job,
            source,
            on_return=lambda pic, s=item.source: self._on_preview_ready(s, pic),
            on_error=lambda exc: self.picture.set_picture(None, str(exc)),
        )

    def _refresh_bars(self) -> None:
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
        if untrained:
            self.caption.setText(
                f"{item.source}\n⚠ Untrained (random) weights: these classes mean nothing."
            )

    def _on_preview_ready(self, source: str, picture) -> None:
        if source == self._preview_source:
            self.picture.set_picture(picture_to_pixmap(picture))

    # Grad-CAM --------------------------------------------------------------------------
    def _on_cam_changed(self) -> None:
        item = self._shown
        classifier = self._session.classifier()
        if item is None or item.error or classifier is None:
            return
        if not self.cam.enabled.isChecked():
            self._cam_result = None
            self._show_item(item)
            return
        class_index = self.cam.class_combo.currentData()
        layer = self.cam.layer_combo.currentText() or "Mixed_7c"
        if class_index is None:
            return
        self.status.emit(f"Computing the class activation map at {layer}…")
        self._cam_request += 1
        request = self._cam_request
        self._hub.start(
            "Computing the class activation map",
            cam_job,
            classifier,
            self._pasted.get(item.source, item.source),
            class_index,
            layer,
            on_return=lambda cam, s=item.source: (
                request == self._cam_request and self._on_cam_ready(s, cam)
            ),
        )

    def _on_cam_ready(self, source: str, cam) -> None:
        if source != self._preview_source or not self.cam.enabled.isChecked():
            return
        self._cam_result = cam
        note = ""
        if 0 < max(cam.grid) <= 2:
            h, w = cam.grid
            note = f" — {cam.layer} is only {h} x {w} at this input size; pick an earlier layer"
        self.status.emit(f"Grad-CAM for '{cam.label}' ({cam.probability:.1%}) at {cam.layer}{note}")
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

    def _on_export_clicked(self) -> None:
        start = str(Path(self.last_folder or Path.home()) / "predictions.csv")
        path, _ = QFileDialog.getSaveFileName(self, "Export predictions", start, "CSV (*.csv)")
        if path:
            self.export_csv(path)

    def export_csv(self, path: str) -> None:
        """Write the rows shown to ``path`` in the background.

        A failure (a read-only folder, a full disk) goes to the hub's error relay,
        like every other error: a message box that does not block, and the status bar.
        """
        self.status.emit(f"Saving {self.results.rowCount()} rows to {path}…")
        self._hub.start(
            "Exporting predictions",
            write_predictions_csv,
            path,
            self.results.items(),  # a snapshot: a later Clear cannot change what is written
            self.k,
            on_return=lambda rows: self.status.emit(f"Saved {rows} rows to {path}"),
        )

    def sample_sources(self, count: int = 4) -> list:
        """A few readable images shown here (paths or pasted pictures), for export checks."""
        items = [r for r in self.results.items() if not r.error][:count]
        return [self._pasted.get(r.source, r.source) for r in items]
