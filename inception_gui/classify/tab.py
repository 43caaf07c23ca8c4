"""The Classify tab: drop, open or paste images; see the top-5 of each."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtCore import QMimeData, QSize, QSortFilterProxyModel, Qt, Signal
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

from inception_gui.classify.jobs import (
    ClassifiedImage,
    JobStarted,
    classify_job,
    file_key,
    write_predictions_csv,
)
from inception_gui.classify.preview_panel import PreviewPanel
from inception_gui.classify.results_model import SORT_ROLE, ResultsTableModel
from inception_gui.core.mime import image_from_mime, paths_from_mime
from inception_gui.core.pictures import THUMB_SIDE
from inception_gui.core.session import ModelSession, ModelState
from inception_gui.core.workers import CancelToken, WorkerHub
from inception_gui.widgets.common import open_image_files

__all__ = ["ClassifyTab"]


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
        self._batch_failed = 0  # of those, files that could not be read
        self._batch_duplicates = 0  # files named twice in the running batch, skipped
        self._batch_already = 0  # files of the running batch already in the list, skipped
        self._cancelled = False  # the running batch was cancelled (not cleared)
        self._pasted: dict[str, object] = {}  # name -> PIL image, for the preview
        self._pasted_count = 0
        self._batch_origin: tuple[int, str] = (0, "")  # the model the running batch uses
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
        self.again_button = QPushButton("Classify again")
        self.again_button.setToolTip(
            "Classify the rows made by an earlier model again, with the model loaded now"
        )
        self.again_button.clicked.connect(self.classify_again)
        self.again_button.hide()
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
        self.table.setTabKeyNavigation(False)  # Tab moves on to the next control, not cell
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

        self.preview = PreviewPanel(self._hub, self._session, self._pasted)
        self.preview.status.connect(self.status)
        self.preview.image_selected.connect(self.image_selected)
        # The panel's parts, by their old names here (tests and scripts reach them so).
        self.picture, self.cam = self.preview.picture, self.preview.cam
        self.caption, self.bars = self.preview.caption, self.preview.bars

        splitter = QSplitter()
        splitter.addWidget(self.table)
        splitter.addWidget(self.preview)
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
        bottom.addWidget(self.again_button)
        bottom.addWidget(self.progress, 2)
        bottom.addWidget(self.cancel_button)
        self._set_running(False)

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(splitter, 1)
        layout.addLayout(bottom)

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
        files = open_image_files(self, self.last_folder)
        if files:  # the same road as a paste: a file that is no image gets a red row
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
        state = self._session.state
        self._batch_origin = (state.generation, state.display_name) if state else (0, "")
        self._token = CancelToken()
        self._first_new_row = self.results.rowCount()
        self._batch_total, self._batch_done, self._batch_duplicates = None, 0, 0
        self._batch_failed = 0
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
            # Rows already shown are not added again (a path pasted twice).
            frozenset(file_key(r.source) for r in self.results.items() if r.thumbnail),
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
        self.preview.ready_preview = None
        self.results.clear()
        self._pasted.clear()
        self.preview.show_item(None)
        self._update_summary()

    def _on_job_yielded(self, value) -> None:
        if isinstance(value, JobStarted):  # the count matters even if cancelled: "N of M"
            self._batch_total, self._batch_duplicates = value.total, value.duplicates
            self._batch_already = value.already
        if self._token is not None and self._token.is_set():
            return  # cancelled or cleared: the image that was in flight is dropped
        if isinstance(value, JobStarted):
            self.progress.setRange(0, max(value.total, 1))
            self.progress.setValue(0)
            if value.total == 0 and not value.already:
                self.status.emit("No image files found there.")
            return
        item: ClassifiedImage = value
        if item.preview is not None:  # kept aside: one picture, not one per row
            self.preview.ready_preview = (item.source, item.preview)
            item = dataclasses.replace(item, preview=None)
        row = self.results.append(item, self._batch_origin)
        self._batch_done += 1
        self._batch_failed += bool(item.error)
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
        if not total and self._batch_already and not self._cancelled:
            n = self._batch_already
            return f"Already in the list: {n} image{'s' if n != 1 else ''}, not added again"
        if self._cancelled and total is None:
            text = "Cancelled before any image was classified"
        elif self._cancelled and done < total:
            text = f"Cancelled after {done} of {total} {images}"
        elif total:
            text = f"Classified {done} {images}"
        else:
            return ""
        failed = self._batch_failed
        if failed and failed == done:
            which = "it" if done == 1 else f"all {done}"
            text = (
                f"Could not read {which} ({'see the red rows' if done > 1 else 'see the red row'})"
            )
            if self._cancelled and done < total:
                text += f"; cancelled after {done} of {total} {images}"
        elif failed:
            text += f"; {failed} could not be read (see the red rows)"
        if self._batch_duplicates:
            n = self._batch_duplicates
            text += f"; skipped {n} duplicate{'s' if n != 1 else ''} (the same file named twice)"
        if self._batch_already:
            text += f"; {self._batch_already} already in the list"
        return text

    def _set_running(self, running: bool) -> None:
        self.busy.emit(running)
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running)
        self.again_button.setVisible(not running and bool(self.results.earlier_rows()))
        self.export_button.setEnabled(not running and self.results.rowCount() > 0)

    def _update_summary(self) -> None:
        n, bad = self.results.rowCount(), self.results.error_count()
        text = f"{n} image{'s' if n != 1 else ''}" if n else ""
        if bad:
            text += f", {bad} could not be read (see the red rows)"
        earlier = len(self.results.earlier_rows())
        if earlier:
            text += f", {earlier} classified by an earlier model (greyed)"
        self.summary.setText(text)
        self.again_button.setVisible(earlier > 0 and self._worker is None)
        self.export_button.setEnabled(self._worker is None and n > 0)

    def _on_session_ready(self, state: ModelState) -> None:
        self.results.set_current_generation(state.generation)
        self._update_summary()
        self._show_current()  # a row made by another model is shown as such
        if self._pending and self._worker is None:
            items, self._pending = self._pending, []
            self.classify(items)
        self.preview.refresh_model()

    # Preview -------------------------------------------------------------------------
    def _on_table_current_changed(self, current, _previous) -> None:
        if not current.isValid():
            return
        self._show_row(self.proxy.mapToSource(current).row())

    def _show_row(self, row: int) -> None:
        self.preview.show_item(self.results.item(row), self.results.made_by_earlier(row))

    def _show_current(self) -> None:
        current = self.table.selectionModel().currentIndex()
        if current.isValid():
            self._show_row(self.proxy.mapToSource(current).row())

    def classify_again(self) -> None:
        """Classify the rows made by an earlier model again, with the model loaded now."""
        rows = self.results.earlier_rows()
        if not rows:
            return
        items = []
        for row in rows:
            source = self.results.item(row).source
            picture = self._pasted.get(source)
            items.append((source, picture) if picture is not None else source)
        self.results.remove_rows(rows)
        self.status.emit(f"Classifying {len(items)} image(s) again with the model loaded now…")
        self._update_summary()
        self.classify(items)

    @property
    def _cam_result(self):
        """The Grad-CAM shown in the preview panel, or None (tests and scripts wait on it)."""
        return self.preview.cam_result

    # Export ----------------------------------------------------------------------------
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
