"""The Explorer tab: the network block by block, with shapes, parameters and mult-adds."""

from __future__ import annotations

import html
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
    QTabWidget,
    QTextBrowser,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from inception_gui.insight import FeatureGrid, feature_job
from inception_gui.layer_tree_model import (
    NODE_ROLE,
    LayerFilterProxyModel,
    LayerTreeModel,
    format_mult_adds,
    format_shape,
)
from inception_gui.widgets import IMAGE_FILTER
from inception_gui.workers import WorkerHub

__all__ = ["ExplorerTab"]


def _summary_job(variant: str, input_size: int):
    from model import summarize

    return summarize(variant, input_size)


def _factorization_job(node) -> list:
    from model.factorization import factorizations

    return factorizations(node)


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
        self._requested: tuple[str, int] | None = None
        self._running = False
        self._build()
        self._debounce = QTimer(self, singleShot=True, interval=250)
        self._debounce.timeout.connect(self._start_summary)

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
        self.search.setPlaceholderText("Filter by name or type (e.g. Mixed_6, Conv2d)")
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
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(0, 200)
        for col in range(1, 7):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.selectionModel().currentChanged.connect(self._on_tree_current_changed)

        self.details = QTextBrowser()
        self.details.setOpenLinks(False)
        self.features = FeatureGrid()
        self.side_tabs = QTabWidget()
        self.side_tabs.addTab(self.details, "Details")
        self.side_tabs.addTab(self.features, "Feature maps")
        splitter = QSplitter()
        splitter.addWidget(self.tree)
        splitter.addWidget(self.side_tabs)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([780, 380])
        self.details.setHtml(
            "<p style='color:gray'>Select a layer to see its kernel, stride, channels and, "
            "for the Inception blocks, the factorization they use and what it saves.</p>"
        )
        self.totals = QLabel("Computing the layer summary…")
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.totals)

    def showEvent(self, event) -> None:
        # The first summary is computed when the tab is first shown, so that start-up
        # spends its time on the model the Classify tab needs.
        super().showEvent(event)
        if self._summary is None and self._requested is None and not self._running:
            self.refresh()

    @property
    def summary(self):
        """The ``NetworkSummary`` on show, or None while the first one is computed."""
        return self._summary

    def refresh(self) -> None:
        """Recompute the summary for the chosen variant and size (debounced)."""
        self._requested = (self.variant_combo.currentData(), self.size_spin.value())
        self.totals.setText("Computing the layer summary…")
        self._debounce.start()

    def _start_summary(self) -> None:
        if self._running or self._requested is None:
            return  # the running job picks up the newest request when it ends
        variant, size = self._requested
        self._requested = None
        self._running = True
        self._hub.start(
            "Computing the layer summary",
            _summary_job,
            variant,
            size,
            on_return=self._on_summary_returned,
            on_finish=self._on_summary_finished,
        )

    def _on_summary_finished(self) -> None:
        self._running = False
        if self._requested is not None:
            self._start_summary()

    def _on_summary_returned(self, summary) -> None:
        self._summary = summary
        self.tree_model.set_root(summary.root)
        self.tree.expandToDepth(0)
        self.totals.setText(
            f"<b>{summary.variant}</b> at {summary.input_size} px — "
            f"total parameters <b>{summary.total_params:,}</b> "
            f"(trainable {summary.trainable_params:,}) — mult-adds per image "
            f"<b>{format_mult_adds(summary.inference_mult_adds)}</b> inference, "
            f"{format_mult_adds(summary.mult_adds)} in training (with the auxiliary head)"
        )
        self.summary_ready.emit(summary)

    def _on_search_changed(self, text: str) -> None:
        self.proxy.set_search(text)
        if text:
            self.tree.expandAll()

    def _on_tree_current_changed(self, current, _previous) -> None:
        node = self.proxy.data(current.siblingAtColumn(0), NODE_ROLE) if current.isValid() else None
        if node is None:
            return
        self.details.setHtml(_node_html(node, []))
        self._request_features(node)
        if node.type.startswith("Inception") and node.type != "InceptionAux":
            self._hub.start(
                "Measuring the factorization",
                _factorization_job,
                node,
                on_return=lambda found, n=node: self._on_factorizations(n, found),
            )

    # Feature maps ------------------------------------------------------------------------
    def set_image(self, source) -> None:
        """Use ``source`` (a path or PIL image) for the feature maps."""
        self._image = source
        current = self.tree.currentIndex()
        node = self.proxy.data(current.siblingAtColumn(0), NODE_ROLE) if current.isValid() else None
        if node is not None:
            self._request_features(node)

    def _on_image_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Image for feature maps",
            "",
            IMAGE_FILTER,
        )
        if path:
            self.set_image(path)
            self.side_tabs.setCurrentWidget(self.features)

    def _request_features(self, node) -> None:
        classifier = self._session.classifier() if self._session is not None else None
        if self._image is None or classifier is None:
            self.features.show_message(
                "Choose an image (Image… or select one in the Classify tab), then select a layer "
                "to see its most active channels."
            )
            return
        if not node.path or node.output_shape is None or len(node.output_shape) != 4:
            self.features.show_message(f"{node.name} has no spatial output to show.")
            return
        if self._summary is not None and self._summary.variant != classifier.info.variant.value:
            self.features.show_message(
                f"The loaded model is the '{classifier.info.variant.value}' variant; switch the "
                "Explorer to it to see its feature maps."
            )
            return
        self.features.show_message(f"Computing the feature maps of {node.path}…")
        self._hub.start(
            "Computing feature maps",
            feature_job,
            classifier,
            self._image,
            node.path,
            on_return=lambda maps, p=node.path, img=self._image: (
                img is self._image and self._on_features_ready(p, maps)
            ),
            on_error=lambda exc: self.features.show_message(f"No feature maps: {exc}"),
        )

    def _on_features_ready(self, path: str, maps) -> None:
        current = self.proxy.data(self.tree.currentIndex().siblingAtColumn(0), NODE_ROLE)
        if current is not None and current.path == path:
            self.features.show_maps(maps)

    def _on_compare_clicked(self) -> None:
        from inception_gui.dialogs import CompareDialog

        summaries = {self._summary.variant: self._summary} if self._summary else {}
        dialog = CompareDialog(self._hub, self.size_spin.value(), summaries, self)
        dialog.open()

    def _on_factorizations(self, node, found: list) -> None:
        current = self.proxy.data(self.tree.currentIndex().siblingAtColumn(0), NODE_ROLE)
        if current is node:
            self.details.setHtml(_node_html(node, found))

    def _on_copy_clicked(self) -> None:
        QApplication.clipboard().setText(self.tree_model.to_csv())
        self.status.emit("Layer table copied to the clipboard (CSV).")

    def _on_export_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export layer table", "layers.csv", "CSV (*.csv)"
        )
        if path:
            from model.checkpoint import atomic_write  # torch is loaded by now (the summary)

            text = self.tree_model.to_csv()
            try:
                atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
            except OSError as exc:
                self.status.emit(f"Could not save {path}: {exc.strerror or exc}")
                return
            self.status.emit(f"Saved the layer table to {path}")


def _node_html(node, factorizations: list) -> str:
    e = html.escape
    rows = [
        ("Path", node.path or "(the whole network)"),
        ("Type", node.type),
        ("Output shape", format_shape(node.output_shape)),
        ("Own parameters", f"{node.params:,}"),
        ("Total parameters", f"{node.total_params:,}"),
        ("Trainable", f"{node.trainable_params:,}"),
        ("Mult-adds per image", f"{node.mult_adds:,} ({format_mult_adds(node.mult_adds)})"),
    ]
    d = node.details
    if "kernel_size" in d and "in_channels" in d:
        rows += [
            ("Kernel", " x ".join(map(str, d["kernel_size"]))),
            ("Stride", " x ".join(map(str, d["stride"]))),
            ("Padding", str(d["padding"])),
            ("Channels", f"{d['in_channels']} → {d['out_channels']}"),
            ("Bias", "yes" if d["bias"] else "no (BatchNorm follows)"),
        ]
    else:
        rows += [(k.replace("_", " ").capitalize(), str(v)) for k, v in d.items()]
    body = "".join(f"<tr><td><b>{e(k)}</b></td><td>{e(v)}</td></tr>" for k, v in rows)
    out = f"<h3>{e(node.name)}</h3><table cellspacing='4'>{body}</table>"
    if factorizations:
        out += "<h4>Factorization</h4>"
        for f in factorizations:
            out += (
                f"<p><b>{e(f.kind)}</b> — {e(f.description)}<br>"
                f"layers: {e(', '.join(f.layers))}<br>"
                f"weights {f.params:,} instead of {f.unfactored_params:,} "
                f"(<b>{f.params_saved:.0%} fewer</b>); mult-adds "
                f"{format_mult_adds(f.mult_adds)} instead of "
                f"{format_mult_adds(f.unfactored_mult_adds)} "
                f"(<b>{f.mult_adds_saved:.0%} fewer</b>)</p>"
            )
    return out
