"""The Explorer tab: the network block by block, with shapes, parameters and mult-adds."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStyle,
    QTabWidget,
    QTextBrowser,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from inception_gui.core.workers import WorkerHub
from inception_gui.explorer.compare_dialog import CompareDialog
from inception_gui.explorer.details import (
    DEFAULT_CLASSES,
    DETAILS_PLACEHOLDER,
    SEARCH_HELP,
    factorization_job,
    feature_maps_note,
    model_key,
    model_label_html,
    node_html,
    summary_job,
    totals_html,
)
from inception_gui.explorer.diagram_view import DiagramView, index_for_path
from inception_gui.explorer.feature_grid import FeatureGrid, feature_job
from inception_gui.explorer.layer_tree_model import (
    COLUMNS,
    NODE_ROLE,
    LayerFilterProxyModel,
    LayerTreeModel,
    display_text,
)
from inception_gui.widgets.common import image_filter
from model.files import atomic_write

__all__ = ["ExplorerTab"]


class ExplorerTab(QWidget):
    """A tree of the network's modules; pick the variant and input size; search; export.

    Signals
    -------
    summary_ready(object)
        A new ``NetworkSummary`` is shown.
    status(str)
        A line for the status bar.
    """

    summary_ready = Signal(object)
    status = Signal(str)

    def __init__(self, hub: WorkerHub, session=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._hub = hub
        self._session = session
        self._image = None  # path or PIL image whose feature maps are shown
        self._summary = None
        self._asked = False  # a summary has been asked for (the first waits for the tab)
        self._loaded = None  # the session's ModelState: the model the Explorer follows
        self._num_classes = DEFAULT_CLASSES  # the loaded model's, for every summary
        self._aux = True  # whether the loaded model has its auxiliary head
        self._build()
        self._debounce = QTimer(self, singleShot=True, interval=250)
        self._debounce.timeout.connect(self._start_summary)
        # Filtering and expanding takes tens of ms: once typing pauses, not per keystroke.
        self._search_debounce = QTimer(self, singleShot=True, interval=200)
        self._search_debounce.timeout.connect(self._apply_search)
        if session is not None:
            session.ready.connect(self._on_session_ready)
            if session.state is not None:
                self._on_session_ready(session.state)

    def _build(self) -> None:
        self.variant_combo = QComboBox()
        self.variant_combo.addItem("v3 — the released network", "v3")
        self.variant_combo.addItem("paper — the paper's table 1", "paper")
        self.size_spin = QSpinBox()
        self.size_spin.setRange(75, 1024)
        self.size_spin.setValue(299)
        self.size_spin.setSuffix(" px")
        self.size_spin.setToolTip("Side of the square input image (at least 75 px)")
        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter by name (Mixed_6) or type (InceptionC, Conv2d)")
        self.search.setToolTip(SEARCH_HELP)
        self.search.setClearButtonEnabled(True)
        self.image_button = QPushButton("Image…")
        self.image_button.setToolTip(
            "The image whose feature maps are shown (the Classify tab's selection by default)"
        )
        self.image_button.clicked.connect(self._on_image_clicked)
        self.compare_button = QPushButton("Compare variants…")
        self.compare_button.setToolTip("v3 and the paper's layout side by side, stage by stage")
        self.compare_button.clicked.connect(self._on_compare_clicked)
        self.copy_button = QPushButton("Copy")
        self.export_button = QPushButton("Export CSV…")
        self.variant_combo.currentIndexChanged.connect(self.refresh)
        self.size_spin.valueChanged.connect(self.refresh)
        self.search.textChanged.connect(self._on_search_changed)
        self.copy_button.clicked.connect(self._on_copy_clicked)
        self.export_button.clicked.connect(self._on_export_clicked)
        top = QHBoxLayout()
        top.addWidget(QLabel("Variant"))
        top.addWidget(self.variant_combo)
        top.addWidget(QLabel("Input"))
        top.addWidget(self.size_spin)
        top.addWidget(self.search, 1)
        top.addWidget(self.image_button)
        top.addWidget(self.compare_button)
        top.addWidget(self.copy_button)
        top.addWidget(self.export_button)

        self.tree_model = LayerTreeModel(self)
        self.proxy = LayerFilterProxyModel(self)
        self.proxy.setSourceModel(self.tree_model)
        self.tree = QTreeView()
        self.tree.setModel(self.proxy)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        # Click a header to rank siblings by parameters or mult-adds; forward order until then.
        self.tree.setSortingEnabled(True)
        self.tree.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.tree.header()
        header.setStretchLastSection(False)
        # Fixed widths, fitted once per summary (_fit_columns): ResizeToContents re-measured
        # every visible row on each expand, 200-400 ms per filter keystroke.
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.resizeSection(0, 200)
        self.tree.selectionModel().currentChanged.connect(self._on_tree_current_changed)
        self.model_label = QLabel()
        self.model_label.setWordWrap(True)
        self.model_label.setTextFormat(Qt.TextFormat.RichText)
        self.model_label.linkActivated.connect(self._on_model_label_link_activated)

        self.details = QTextBrowser()
        self.details.setOpenLinks(False)
        self.features = FeatureGrid()
        self.side_tabs = QTabWidget()
        self.side_tabs.addTab(self.details, "Details")
        self.side_tabs.addTab(self.features, "Feature maps")
        self.diagram = DiagramView(self._hub)
        self.diagram.layer_clicked.connect(self._on_diagram_layer_clicked)
        self.diagram.status.connect(self.status)
        self.summary_ready.connect(self.diagram.set_summary)
        self.splitter = splitter = QSplitter()
        splitter.addWidget(self.tree)
        splitter.addWidget(self.diagram)
        splitter.addWidget(self.side_tabs)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 3)
        splitter.setStretchFactor(2, 1)
        splitter.setSizes([440, 600, 260])
        self.details.setHtml(DETAILS_PLACEHOLDER)
        self.totals = QLabel("Computing the layer summary…")
        self.totals.setWordWrap(True)  # a long footer wraps instead of widening the window
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.model_label)
        self.no_match = QLabel()  # says so when the filter leaves no row
        self.no_match.setTextFormat(Qt.TextFormat.PlainText)  # it repeats what was typed
        self.no_match.setStyleSheet("color: #8a6100;")
        self.no_match.hide()
        layout.addWidget(self.no_match)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.totals)
        self._update_model_label()

    def showEvent(self, event) -> None:
        # The first summary is computed when the tab is first shown, so that start-up
        # spends its time on the model the Classify tab needs.
        super().showEvent(event)
        if not self._asked:
            self.refresh()

    @property
    def summary(self):
        """The ``NetworkSummary`` on show, or None while the first one is computed."""
        return self._summary

    def refresh(self) -> None:
        """Recompute the summary for the chosen variant and size (debounced)."""
        self._asked = True
        self.totals.setText("Computing the layer summary…")
        self._update_model_label()
        self._debounce.start()

    def _start_summary(self) -> None:
        self._hub.start(
            "Computing the layer summary",
            summary_job,
            self.variant_combo.currentData(),
            self.size_spin.value(),
            self._num_classes,
            self._aux,
            key="layer summary",  # a newer request supersedes one under way
            on_return=self._on_summary_returned,
        )

    # The loaded model ------------------------------------------------------------------
    def _on_session_ready(self, state) -> None:
        previous, self._loaded = self._loaded, state
        if previous is not None and model_key(previous) == model_key(state):
            self._update_model_label()  # the same model moved device: keep what is explored
            return
        self.show_loaded_model()

    def show_loaded_model(self) -> None:
        """Set the variant, input size and classes to the loaded model's, and describe it."""
        state = self._loaded
        if state is None:
            return
        self._num_classes = len(state.class_names)
        self._aux = state.has_aux
        for widget in (self.variant_combo, self.size_spin):
            widget.blockSignals(True)
        index = self.variant_combo.findData(state.variant)
        if index >= 0:
            self.variant_combo.setCurrentIndex(index)
        self.size_spin.setValue(state.input_size)
        for widget in (self.variant_combo, self.size_spin):
            widget.blockSignals(False)
        if self._asked:
            self.refresh()  # already on show; else the first showEvent computes it
        else:
            self._update_model_label()

    def _update_model_label(self) -> None:
        variant, size = self.variant_combo.currentData(), self.size_spin.value()
        self.model_label.setText(model_label_html(self._loaded, variant, size, self._num_classes))

    def _on_model_label_link_activated(self, _link: str) -> None:
        self.show_loaded_model()

    def _on_summary_returned(self, summary) -> None:
        self._summary = summary
        self.tree_model.set_root(summary.root, label=f"{summary.variant} network")
        self._fit_columns(summary.root)
        self._fit_splitter()
        self._expand_for_search()
        self.totals.setText(totals_html(summary))
        self._update_model_label()
        self.summary_ready.emit(summary)

    def _fit_columns(self, root) -> None:
        # Measured on the text of every row once, so that expanding never re-measures.
        metrics = self.tree.fontMetrics()
        header = self.tree.header()
        margin = 2 * self.tree.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 12
        for col in range(1, len(COLUMNS)):
            widest = max(metrics.horizontalAdvance(display_text(n, col)) for n in root.walk())
            header.resizeSection(col, max(widest + margin, header.sectionSizeHint(col)))

    def _fit_splitter(self) -> None:
        # The table's columns first (Mult-adds is the last), the details get the rest,
        # down to their own minimum; a narrow window scrolls the table sideways.
        side_min = max(self.side_tabs.minimumSizeHint().width(), 260)
        tree = self.tree
        needed = (
            tree.header().length()
            + tree.verticalScrollBar().sizeHint().width()
            + 2 * tree.frameWidth()
            + 4
        )
        total = sum(self.splitter.sizes()) or self.splitter.width()
        # Three panes: the table, the diagram, the details. The details keep at least their
        # minimum (a third of what the table leaves, if more), the diagram the rest.
        tree_width = min(needed, max(total - 2 * side_min, 0))
        if tree_width > 0:
            rest = total - tree_width
            side = max(side_min, rest // 3)
            self.splitter.setSizes([tree_width, max(rest - side, 0), side])

    def _on_search_changed(self, _text: str) -> None:
        self._search_debounce.start()

    def _apply_search(self) -> None:
        self.proxy.set_search(self.search.text())
        self._expand_for_search()
        text = self.search.text().strip()
        empty = bool(text) and self.proxy.rowCount() == 0
        self.no_match.setText(
            f"No layer matches '{text}'. Try a name (Mixed_6, fc) or a type (InceptionC, Conv2d)."
            if empty
            else ""
        )
        self.no_match.setVisible(empty)
        if not self.tree.currentIndex().isValid():  # the layer shown was filtered out
            self.details.setHtml(DETAILS_PLACEHOLDER)
            self.features.show_message("Select a layer to see its feature maps.")

    def _expand_for_search(self) -> None:
        # A filter opens every row it keeps; without one, the blocks show, closed.
        self.tree.setUpdatesEnabled(False)
        try:
            if self.proxy.search:
                self.tree.expandAll()
            else:
                self.tree.collapseAll()
                self.tree.expandToDepth(0)
        finally:
            self.tree.setUpdatesEnabled(True)
        if self.tree.currentIndex().isValid():
            self.tree.scrollTo(self.tree.currentIndex())

    def _on_tree_current_changed(self, current, _previous) -> None:
        node = self.proxy.data(current.siblingAtColumn(0), NODE_ROLE) if current.isValid() else None
        if node is None:
            return
        self.details.setHtml(node_html(node, []))
        self.diagram.show_path(node.path)
        self._request_features(node)
        if node.type.startswith("Inception") and node.type != "InceptionAux":
            self._hub.start(
                "Measuring the factorization",
                factorization_job,
                node,
                on_return=lambda found, n=node: self._on_factorizations(n, found),
            )

    def _on_diagram_layer_clicked(self, path: str) -> None:
        index = index_for_path(self.proxy, path)
        if index.isValid():  # a search may hide the row
            self.tree.setCurrentIndex(index)
            self.tree.scrollTo(index)

    # Feature maps ------------------------------------------------------------------------
    def set_image(self, source) -> None:
        """Use ``source`` (a path or PIL image) for the feature maps."""
        self._image = source
        current = self.tree.currentIndex()
        node = self.proxy.data(current.siblingAtColumn(0), NODE_ROLE) if current.isValid() else None
        if node is not None:
            self._request_features(node)

    def _on_image_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Image for feature maps", "", image_filter())
        if path:
            self.set_image(path)
            self.side_tabs.setCurrentWidget(self.features)

    def _request_features(self, node) -> None:
        classifier = self._session.classifier() if self._session is not None else None
        note = feature_maps_note(node, self._image, classifier, self._summary)
        if note is not None:
            self.features.show_message(note)
            return
        self.features.show_message(f"Computing the feature maps of {node.path}…")
        self._hub.start(
            "Computing feature maps",
            feature_job,
            classifier,
            self._image,
            node.path,
            on_return=lambda maps, p=node.path, img=self._image: (
                img is self._image and self._on_features_ready(p, maps, _image_name(img))
            ),
            on_error=lambda exc: self.features.show_message(f"No feature maps: {exc}"),
        )

    def _on_features_ready(self, path: str, maps, image: str = "") -> None:
        current = self.proxy.data(self.tree.currentIndex().siblingAtColumn(0), NODE_ROLE)
        if current is not None and current.path == path:
            self.features.show_maps(maps, image)

    def _on_compare_clicked(self) -> None:
        size = self.size_spin.value()
        summary = self._summary
        # The comparison is of the two layouts with ImageNet's 1000 classes, at the size shown.
        reusable = (
            summary is not None
            and summary.input_size == size
            and (fc := summary.root.find("fc")) is not None
            and fc.details.get("out_features") == DEFAULT_CLASSES
            and self._aux  # the comparison's layouts carry the auxiliary head
        )
        summaries = {summary.variant: summary} if reusable else {}
        dialog = CompareDialog(self._hub, size, summaries, self)
        dialog.open()

    def _on_factorizations(self, node, found: list) -> None:
        current = self.proxy.data(self.tree.currentIndex().siblingAtColumn(0), NODE_ROLE)
        if current is node:
            self.details.setHtml(node_html(node, found))

    def _on_copy_clicked(self) -> None:
        QApplication.clipboard().setText(self.tree_model.to_csv())
        self.status.emit("Layer table copied to the clipboard (CSV).")

    def _on_export_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export layer table", "layers.csv", "CSV (*.csv)"
        )
        if path:
            text = self.tree_model.to_csv()
            try:
                atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
            except OSError as exc:
                # The window's one error relay: a message box, the status bar and the log.
                self._hub.error.emit(
                    "Export layer table", f"Could not save {path}: {exc.strerror or exc}"
                )
                return
            self.status.emit(f"Saved the layer table to {path}")


def _image_name(source) -> str:
    """How the feature maps name their image: a file's name, or "a pasted picture"."""
    if isinstance(source, str | Path):
        return Path(source).name
    return "a pasted picture"
