"""The network drawn as the paper draws it: a Qt scene made from ``model``'s plain diagram.

:class:`DiagramScene` lays out a :class:`model.network.diagram.NetworkDiagram`: the whole
network as a vertical chain of stages with the tensor shape on each arrow (as the paper's
table 1 lists them, top to bottom), or one block as the paper's figures 5, 6, 7 and 10
draw it, bottom to top: the base, one column a branch, each layer a box, and the filter
concatenation. :func:`save_drawing` writes either as SVG (``QSvgGenerator``) or PNG; the
Explorer's Diagram view and ``inception-gui diagram`` both draw with this module, so a
file and the window show the same picture.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QImage, QPainter, QPen, QPolygonF
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import (
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
)

from inception_gui.widgets.formatting import format_count, format_mult_adds, format_shape
from model.files import atomic_write

__all__ = ["BoxItem", "DiagramScene", "box_tooltip", "save_drawing"]

# Geometry, in scene units (pixels at 100 %).
BOX_W, BOX_H = 128, 40  # a layer inside a block
SPLIT_GAP = 10  # between the 1x3 and the 3x1 of figure 7
COL_GAP = 24  # between branches
ROW_GAP = 42  # between layers: room for the arrow and its shape
STAGE_W, STAGE_H = 320, 42  # a stage of the whole network
STAGE_GAP = 34
MARGIN = 24

_FILL = {
    "conv": "#dbe8f6",
    "max pool": "#fbe2c5",
    "avg pool": "#fbe2c5",
    "block": "#e4dcf2",
    "aux head": "#f3dbe3",
    "linear": "#d9efe0",
    "dropout": "#eeeeee",
    "concat": "#d6edd2",
    "base": "#ececec",
}
_EDGE = QColor("#4a4a4a")
_HIGHLIGHT = QColor("#d0342c")
_TEXT = QColor("#1e1e1e")
_ARROW_TEXT = QColor("#2f5e8c")


def _shape(shape) -> str:
    return format_shape(shape).replace(" x ", "×")


def box_tooltip(box) -> str:
    """What hovering a box shows: the layer, its geometry, parameters and mult-adds."""
    lines = [f"{box.path}.{box.name}" if not box.module else box.path, box.type]
    if box.kernel:
        geometry = f"kernel {box.kernel_text}, stride {box.stride[0]}"
        if box.stride[0] != box.stride[1]:
            geometry = f"kernel {box.kernel_text}, stride {box.stride}"
        if box.padding:
            geometry += f", padding {box.padding[0]}x{box.padding[1]}"
        lines.append(geometry)
    if box.in_channels is not None and box.out_channels is not None:
        lines.append(f"channels {box.in_channels} → {box.out_channels}")
    lines.append(f"in {format_shape(box.input_shape)}, out {format_shape(box.output_shape)}")
    if box.module:
        lines.append(f"parameters {format_count(box.params)}")
        lines.append(f"mult-adds per image {format_mult_adds(box.mult_adds)} ({box.mult_adds:,})")
    else:
        lines.append("a function in forward: no parameters")
    return "\n".join(lines)


class BoxItem(QGraphicsRectItem):
    """A layer's box: its path is what a click selects and what the tree highlights."""

    def __init__(self, rect: QRectF, fill: str, path: str, module: bool = True) -> None:
        super().__init__(rect)
        self.path = path  # dotted path of the layer ("" for the base and the concatenation)
        self.module = module  # False for a functional pool, which no tree row names
        self.setBrush(QBrush(QColor(fill)))
        self.set_highlighted(False)
        self.setAcceptHoverEvents(True)

    def set_highlighted(self, on: bool) -> None:
        self.highlighted = on
        self.setPen(QPen(_HIGHLIGHT, 3) if on else QPen(_EDGE, 1.2))
        self.setZValue(2 if on else 1)


class DiagramScene(QGraphicsScene):
    """A scene showing a :class:`NetworkDiagram`: the stage chain, or one block."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setBackgroundBrush(QBrush(Qt.GlobalColor.white))
        self._font = QFont()
        self._font.setPointSizeF(9)
        self._bold = QFont(self._font)
        self._bold.setBold(True)
        self._small = QFont(self._font)
        self._small.setPointSizeF(8)
        self.boxes: list[BoxItem] = []
        self.block = None  # the BlockDiagram on show, or None for the whole network

    # Drawing primitives -----------------------------------------------------------------------
    def _text(self, text: str, font: QFont, color: QColor = _TEXT) -> QGraphicsSimpleTextItem:
        item = self.addSimpleText(text, font)
        item.setBrush(QBrush(color))
        item.setZValue(3)
        return item

    def _box(
        self, rect: QRectF, kind: str, lines: list[str], path: str = "", module: bool = True
    ) -> BoxItem:
        item = BoxItem(rect, _FILL.get(kind, "#eeeeee"), path, module)
        self.addItem(item)
        labels = []
        for text, font in zip(lines, (self._bold, self._small, self._small), strict=False):
            label = QGraphicsSimpleTextItem(text, item)
            label.setFont(font)
            label.setBrush(QBrush(_TEXT))
            labels.append(label)
        y = rect.center().y() - sum(label.boundingRect().height() for label in labels) / 2
        for label in labels:
            label.setPos(rect.center().x() - label.boundingRect().width() / 2, y)
            y += label.boundingRect().height()
        if path:
            self.boxes.append(item)
        return item

    def _arrow(self, start: QPointF, end: QPointF, label: str = "", at: float = 0.5) -> None:
        pen = QPen(_EDGE, 1.2)
        self.addLine(start.x(), start.y(), end.x(), end.y(), pen).setZValue(0)
        direction = end - start
        length = max((direction.x() ** 2 + direction.y() ** 2) ** 0.5, 1e-6)
        ux, uy = direction.x() / length, direction.y() / length
        tip, size = end, 7.0
        left = QPointF(
            tip.x() - size * ux + size * 0.45 * uy, tip.y() - size * uy - size * 0.45 * ux
        )
        right = QPointF(
            tip.x() - size * ux - size * 0.45 * uy, tip.y() - size * uy + size * 0.45 * ux
        )
        head = self.addPolygon(QPolygonF([tip, left, right]), pen, QBrush(_EDGE))
        head.setZValue(0)
        if label:
            text = self._text(label, self._small, _ARROW_TEXT)
            point = start + (end - start) * at
            text.setPos(point.x() + 5, point.y() - text.boundingRect().height() / 2)

    def _finish(self) -> None:
        self.setSceneRect(self.itemsBoundingRect().adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN))

    def _reset(self) -> None:
        self.clear()
        self.boxes = []

    # The whole network ------------------------------------------------------------------------
    def show_network(self, diagram) -> None:
        """Draw the stage chain of ``diagram``, top to bottom, with the shape on each arrow."""
        self._reset()
        self.block = None
        title = (
            f"Inception v3, {diagram.variant} layout, at {diagram.input_size} px: "
            f"{diagram.num_classes:,} classes — {diagram.total_params:,} parameters"
        )
        self._text(title, self._bold).setPos(0, -STAGE_GAP - STAGE_H - 28)
        y = -STAGE_GAP - STAGE_H
        above = self._box(
            QRectF(0, y, STAGE_W, STAGE_H), "base", ["input", _shape(diagram.input_shape)]
        )
        aux_source = None
        for i, stage in enumerate(diagram.stages):
            rect = QRectF(0, i * (STAGE_H + STAGE_GAP), STAGE_W, STAGE_H)
            item = self._box(rect, stage.op, _stage_lines(stage, diagram), stage.path)
            item.setToolTip(box_tooltip(stage))
            self._arrow(_bottom(above), _top(item), _shape(stage.input_shape))
            if stage.path == diagram.aux_after:
                aux_source = item
            above = item
        out = QRectF(0, len(diagram.stages) * (STAGE_H + STAGE_GAP), STAGE_W, STAGE_H * 0.7)
        end = self._box(out, "concat", ["logits"])
        self._arrow(_bottom(above), _top(end), _shape(diagram.stages[-1].output_shape))
        if diagram.aux is not None and aux_source is not None:
            self._draw_aux(diagram.aux, aux_source)
        self._finish()

    def _draw_aux(self, aux, source: BoxItem) -> None:
        rect = source.rect().translated(STAGE_W + 90, STAGE_H + STAGE_GAP)
        rect.setWidth(STAGE_W * 0.75)
        lines = [aux.name, f"auxiliary head: {aux.in_channels} → {aux.output_shape[-1]:,} classes"]
        item = self._box(rect, "aux head", lines, aux.path)
        item.setToolTip(box_tooltip(aux))
        start = QPointF(source.rect().right(), source.rect().center().y())
        self._arrow(start, QPointF(rect.center().x(), rect.top()), _shape(aux.input_shape), 0.3)
        out = QPointF(rect.center().x(), rect.bottom() + STAGE_GAP)
        self._arrow(_bottom(item), out, _shape(aux.output_shape))
        self._text("aux logits (training only)", self._small).setPos(out.x() - 60, out.y() + 2)

    # One block ----------------------------------------------------------------------------------
    def show_block(self, block) -> None:
        """Draw ``block`` bottom to top as the paper does: base, branch columns, concatenation."""
        self._reset()
        self.block = block
        widths = [len(b.outputs) * BOX_W + (len(b.outputs) - 1) * SPLIT_GAP for b in block.branches]
        total = sum(widths) + COL_GAP * (len(widths) - 1)
        base = self._box(
            QRectF(0, 0, total, BOX_H * 0.8), "base", ["Base", _shape(block.input_shape)]
        )
        tallest = max(len(b.steps) for b in block.branches)
        concat_y = -tallest * (BOX_H + ROW_GAP) - ROW_GAP - BOX_H * 0.8
        concat = self._box(
            QRectF(0, concat_y, total, BOX_H * 0.8),
            "concat",
            ["Filter concat", _shape(block.output_shape)],
        )
        concat.setToolTip(
            f"{block.path}: torch.cat of {len(block.branches)} branches\n"
            f"out {format_shape(block.output_shape)}\n"
            f"parameters {format_count(block.params)}\n"
            f"mult-adds per image {format_mult_adds(block.mult_adds)}"
        )
        x = 0.0
        for branch, width in zip(block.branches, widths, strict=True):
            self._draw_branch(branch, x, width, base, concat)
            x += width + COL_GAP
        title = self._text(f"{block.path} — {block.type}: {block.caption}", self._bold)
        title.setPos(0, concat_y - 30)
        self._finish()

    def _draw_branch(self, branch, x: float, width: float, base: BoxItem, concat: BoxItem) -> None:
        below = [QPointF(x + width / 2, base.rect().top())]
        for row, step in enumerate(branch.steps):
            top = -(row + 1) * (BOX_H + ROW_GAP)
            span = len(step) * BOX_W + (len(step) - 1) * SPLIT_GAP
            left = x + (width - span) / 2
            items = []
            for i, box in enumerate(step):
                rect = QRectF(left + i * (BOX_W + SPLIT_GAP), top, BOX_W, BOX_H)
                lines = [f"{box.kernel_text} {box.op}", _channels_line(box)]
                item = self._box(rect, box.op, lines, box.path, box.module)
                item.setToolTip(box_tooltip(box))
                items.append(item)
            for i, item in enumerate(items):
                label = _shape(step[i].input_shape) if len(step) == 1 else ""
                for start in below:
                    self._arrow(start, _bottom_up(item), label)
            if len(step) > 1:  # a fan-out: one label, under its last box, right of its arrow
                text = self._text(_shape(step[0].input_shape), self._small, _ARROW_TEXT)
                rect = items[-1].rect()
                text.setPos(rect.center().x() + 6, rect.bottom() + 3)
            below = [_top_up(item) for item in items]
        for start, box in zip(below, branch.outputs, strict=True):
            end = QPointF(start.x(), concat.rect().bottom())
            gap = start.y() - end.y()
            self._arrow(start, end, _shape(box.output_shape), at=(ROW_GAP / 2) / gap)

    # Selection ----------------------------------------------------------------------------------
    def highlight(self, path: str) -> BoxItem | None:
        """Highlight the box of the layer at ``path`` (or of the layer holding it)."""
        found = None
        for item in self.boxes:
            on = item.module and (path == item.path or path.startswith(item.path + "."))
            item.set_highlighted(on)
            found = item if on else found
        return found


def _stage_lines(stage, diagram) -> list[str]:
    block = diagram.block(stage.path) if stage.op == "block" else None
    if block is not None:
        return [f"{stage.name} · {stage.type}", block.caption]
    if stage.kernel:
        what = stage.label
    else:  # the head: a global pool, a dropout (named by its row already), the classifier
        what = {"avg pool": "global avg pool", "dropout": ""}.get(stage.op, stage.op)
    if stage.padding and stage.padding != (0, 0):
        what += ", padded"  # as the paper's table 1 says of Conv2d_2b
    channels = (
        f" · {stage.in_channels} → {stage.out_channels}"
        if stage.in_channels is not None and stage.out_channels is not None
        else ""
    )
    return [stage.name, (what + channels).strip(" ·")]


def _channels_line(box) -> str:
    """``"stride 2 · 288 → 384"``: the stride where it is not 1, then the channels."""
    channels = f"{box.in_channels} → {box.out_channels}"
    if box.stride and box.stride != (1, 1):
        stride = box.stride[0] if box.stride[0] == box.stride[1] else "x".join(map(str, box.stride))
        return f"stride {stride} · {channels}"
    return channels


def _top(item: BoxItem) -> QPointF:
    return QPointF(item.rect().center().x(), item.rect().top())


def _bottom(item: BoxItem) -> QPointF:
    return QPointF(item.rect().center().x(), item.rect().bottom())


_bottom_up = _bottom  # where an arrow enters a box drawn bottom to top
_top_up = _top  # where it leaves


# Files ----------------------------------------------------------------------------------------
def save_drawing(scene: QGraphicsScene, path: str | os.PathLike[str], scale: float = 2.0) -> Path:
    """Write ``scene`` to ``path`` as SVG or PNG (by its suffix), atomically.

    ``scale`` is the PNG's pixels per scene unit (2: sharp on high-DPI screens and in print).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".svg", ".png"):
        raise ValueError(f"{path.name}: choose a .svg or .png file")
    source = scene.sceneRect()
    data = _svg_bytes(scene, source) if suffix == ".svg" else _png_bytes(scene, source, scale)
    atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))
    return path


def _svg_bytes(scene: QGraphicsScene, source: QRectF) -> bytes:
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setSize(QSize(int(source.width()), int(source.height())))
    generator.setViewBox(QRectF(0, 0, source.width(), source.height()))
    generator.setTitle("Inception v3")
    generator.setDescription("Drawn by Inception GUI from the live network")
    painter = QPainter(generator)
    scene.render(painter, QRectF(0, 0, source.width(), source.height()), source)
    painter.end()
    return bytes(buffer.data())


def _png_bytes(scene: QGraphicsScene, source: QRectF, scale: float) -> bytes:
    size = QSize(int(source.width() * scale), int(source.height() * scale))
    image = QImage(size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    scene.render(painter, QRectF(0, 0, size.width(), size.height()), source)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data)
