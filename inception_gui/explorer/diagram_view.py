"""The Explorer's Diagram view: the network, or the selected block, drawn as the paper does.

The drawing is computed from the summary on show (``model.network.network_diagram`` builds
the same layout on the meta device and traces it) in a worker, and drawn by
:class:`inception_gui.widgets.diagram.DiagramScene`. The tab wires two things: a tree
selection calls :meth:`DiagramView.show_path`, and a click on a box emits
:attr:`DiagramView.layer_clicked` with the layer's path, which the tab selects in the tree.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QFileDialog,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

import model.network
from inception_gui.core.workers import WorkerHub
from inception_gui.explorer.layer_tree_model import NODE_ROLE
from inception_gui.widgets.diagram import BoxItem, DiagramScene, save_drawing

__all__ = ["DiagramView", "diagram_job", "index_for_path"]


_tracer_pool: ProcessPoolExecutor | None = None


def _tracer() -> ProcessPoolExecutor:
    """One helper process that traces networks for the drawings, started on first use.

    torch.fx traces by patching ``torch.nn.Module.__call__`` for the whole process while it
    runs: a prediction, Grad-CAM or training step in another of the window's threads would
    be traced along ("module is not installed as a submodule"). In a process of its own the
    tracing touches nothing the window runs.
    """
    global _tracer_pool
    if _tracer_pool is None:
        _tracer_pool = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"))
    return _tracer_pool


def diagram_job(summary):
    """The ``NetworkDiagram`` of the summary on show, in a worker (traced in the helper process)."""
    return _tracer().submit(model.network.network_diagram, summary=summary).result()


def index_for_path(item_model, path: str) -> QModelIndex:
    """The row of ``item_model`` (a layer tree or a proxy of it) whose node is at ``path``."""
    index = item_model.index(0, 0)
    if not path:
        return index
    for depth in range(1, path.count(".") + 2):
        prefix = ".".join(path.split(".")[:depth])
        rows = range(item_model.rowCount(index))
        child = (item_model.index(r, 0, index) for r in rows)
        index = next((c for c in child if item_model.data(c, NODE_ROLE).path == prefix), None)
        if index is None:
            return QModelIndex()
    return index


class _GraphicsView(QGraphicsView):
    """A view that reports which box was clicked."""

    box_clicked = Signal(object)  # the BoxItem

    def mousePressEvent(self, event) -> None:
        item = self.itemAt(event.position().toPoint())
        while item is not None and not isinstance(item, BoxItem):
            item = item.parentItem()
        if item is not None and item.path and event.button() == Qt.MouseButton.LeftButton:
            self.box_clicked.emit(item)
        super().mousePressEvent(event)

    def wheelEvent(self, event) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:  # zoom; plain wheel scrolls
            factor = 1.15 if event.angleDelta().y() > 0 else 1 / 1.15
            self.scale(factor, factor)
            event.accept()
            return
        super().wheelEvent(event)


class DiagramView(QWidget):
    """The stage chain, or one block as in the paper's figures; export as SVG or PNG.

    Signals
    -------
    layer_clicked(str)
        A box was clicked: the path of its layer (a functional pool gives its block's).
    status(str)
        A line for the status bar.
    """

    layer_clicked = Signal(str)
    status = Signal(str)

    def __init__(self, hub: WorkerHub, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._hub = hub
        self.diagram = None  # the NetworkDiagram on show
        self._drawn = None  # the NetworkDiagram the scene was last drawn from
        self._path = ""  # the layer selected in the tree
        self.scene = DiagramScene(self)
        self.view = _GraphicsView(self.scene)
        self.view.setRenderHints(
            QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing
        )
        self.view.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.view.box_clicked.connect(self._on_view_box_clicked)
        self.title = QLabel("Drawing the network…")
        self.title.setWordWrap(True)  # never the reason the window cannot shrink
        self.network_button = QPushButton("Whole network")
        self.network_button.setToolTip("The chain of stages, with the shape between them")
        self.network_button.clicked.connect(self._on_network_clicked)
        self.fit_button = QPushButton("Fit")
        self.fit_button.setToolTip("Zoom to show the whole drawing (the wheel zooms with Ctrl)")
        self.fit_button.clicked.connect(self.fit)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save the drawing on show as SVG or PNG")
        self.export_button.clicked.connect(self._on_export_clicked)
        for button in (self.network_button, self.export_button):
            button.setEnabled(False)
        bar = QHBoxLayout()
        bar.addWidget(self.title, 1)
        bar.addWidget(self.network_button)
        bar.addWidget(self.fit_button)
        bar.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)

    # What is drawn ------------------------------------------------------------------------------
    def set_summary(self, summary) -> None:
        """Draw the network a new summary describes (in a worker; a newer one supersedes)."""
        self.title.setText("Drawing the network…")
        self._hub.start(
            "Drawing the network",
            diagram_job,
            summary,
            key="diagram",
            on_return=self.set_diagram,
        )

    def set_diagram(self, diagram) -> None:
        """Show ``diagram`` (a ``NetworkDiagram``), keeping the selected layer's block."""
        self.diagram = diagram
        for button in (self.network_button, self.export_button):
            button.setEnabled(True)
        self.show_path(self._path)

    def show_path(self, path: str) -> None:
        """Follow the tree: a layer in a block shows that block, anything else the chain."""
        self._path = path
        if self.diagram is None:
            return
        block = self.diagram.block(path) if path else None
        if block is not None:
            if self.scene.block is not block:
                self.scene.show_block(block)
                self._drawn = self.diagram
                self.fit()
            self.title.setText(f"<b>{block.path}</b> — {block.caption}")
        elif self.scene.block is not None or self._drawn is not self.diagram:
            self._draw_network()
        item = self.scene.highlight(path)
        if item is not None:
            self.view.ensureVisible(item, 20, 20)

    def _draw_network(self) -> None:
        d = self._drawn = self.diagram
        self.scene.show_network(d)
        self.title.setText(
            f"<b>{d.variant}</b> at {d.input_size} px: the stages and the shape between them"
        )
        self.fit()

    def fit(self) -> None:
        """Zoom to show a whole block, or the chain's width from its top; never past 100 %."""
        rect = self.scene.sceneRect()
        if rect.isEmpty():
            return
        size = self.view.viewport().size()
        scale = min(1.0, size.width() / rect.width())
        if self.scene.block is not None:  # a block is seen whole; the long chain scrolls
            scale = min(scale, size.height() / rect.height())
        self.view.resetTransform()
        self.view.scale(scale, scale)
        top = rect.top() + size.height() / (2 * scale)
        centre_y = rect.center().y() if self.scene.block is not None else top
        self.view.centerOn(rect.center().x(), centre_y)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fit()

    # Handlers -----------------------------------------------------------------------------------
    def _on_view_box_clicked(self, item: BoxItem) -> None:
        self.layer_clicked.emit(item.path)

    def _on_network_clicked(self) -> None:
        if self.diagram is not None:
            self._draw_network()
            self.scene.highlight(self._path)

    def _on_export_clicked(self) -> None:
        d = self.diagram
        name = self.scene.block.path if self.scene.block is not None else f"inception_{d.variant}"
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the drawing", f"{name}.svg", "SVG (*.svg);;PNG (*.png)"
        )
        if path:
            self.export(path)

    def export(self, path: str) -> None:
        """Save the drawing on show to ``path`` (.svg or .png), without the highlight."""
        highlighted = self._path
        self.scene.highlight("\0")  # matches nothing
        try:
            save_drawing(self.scene, path)
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            self._hub.error.emit("Export the drawing", f"Could not save {path}: {reason}")
            return
        finally:
            self.scene.highlight(highlighted)
        self.status.emit(f"Saved the drawing to {path}")
