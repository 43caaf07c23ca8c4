"""Painted charts for the Train tab: live curves and a confusion matrix.

QtCharts lives in PySide6-Addons, a large extra download; these two widgets
need a few dozen lines of ``QPainter`` each.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import QFrame, QScrollArea, QSizePolicy, QToolTip, QWidget

__all__ = ["ConfusionMatrixArea", "ConfusionMatrixView", "CurvePlot"]

SERIES_COLORS = ("#2b6cd6", "#e0752d", "#2a9d5c", "#b5409c")


class CurvePlot(QWidget):
    """Named series of (x, y) points drawn as lines with a legend."""

    def __init__(
        self,
        title: str,
        y_range: tuple[float, float] | None = None,
        log_y: bool = False,
        parent=None,
    ):
        super().__init__(parent)
        self.title = title
        self._fixed_range = y_range
        # Losses from scratch can start in the thousands; a log axis keeps the rest readable.
        self._log_y = log_y
        self._series: dict[str, list[tuple[float, float]]] = {}
        self.setMinimumSize(200, 140)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def clear(self) -> None:
        self._series.clear()
        self.update()

    def add_point(self, series: str, x: float, y: float) -> None:
        self._series.setdefault(series, []).append((float(x), float(y)))
        self.update()

    def series(self, name: str) -> list[tuple[float, float]]:
        return list(self._series.get(name, []))

    def sizeHint(self) -> QSize:
        return QSize(380, 220)

    def _y(self, y: float) -> float:
        return math.log10(max(y, 1e-3)) if self._log_y else y

    def _ranges(self) -> tuple[float, float, float, float]:
        points = [p for pts in self._series.values() for p in pts]
        xs = [p[0] for p in points] or [0.0, 1.0]
        ys = [self._y(p[1]) for p in points] or [0.0, 1.0]
        if self._fixed_range:
            y0, y1 = self._fixed_range
        elif self._log_y:
            y0, y1 = math.floor(min(ys)), math.ceil(max(ys) + 1e-9)
        else:
            y0, y1 = min(0.0, min(ys)), max(ys) * 1.05 or 1.0
        return min(xs), max(max(xs), min(xs) + 1e-9), y0, max(y1, y0 + 1e-9)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        text = pal.color(QPalette.ColorRole.Text)
        plot = QRectF(46, 24, self.width() - 58, self.height() - 48)
        painter.setPen(text)
        painter.drawText(QRectF(0, 2, self.width(), 20), Qt.AlignmentFlag.AlignHCenter, self.title)
        painter.setPen(QPen(pal.color(QPalette.ColorRole.Mid), 1))
        painter.drawRect(plot)
        x0, x1, y0, y1 = self._ranges()
        painter.setPen(text)
        for frac in (0.0, 0.5, 1.0):
            y = y0 + (y1 - y0) * frac
            label = f"{10**y:.3g}" if self._log_y else f"{y:.3g}"
            painter.drawText(
                QRectF(0, plot.bottom() - frac * plot.height() - 8, 42, 16),
                Qt.AlignmentFlag.AlignRight,
                label,
            )
        axis = "epoch (loss on a log scale)" if self._log_y else "epoch"
        # Centred under the plot while it fits there; a narrow chart gives it the whole width.
        wide = painter.fontMetrics().horizontalAdvance(axis) > plot.width()
        left, width = (0.0, float(self.width())) if wide else (plot.left(), plot.width())
        painter.drawText(
            QRectF(left, plot.bottom() + 2, width, 16),
            Qt.AlignmentFlag.AlignHCenter,
            painter.fontMetrics().elidedText(axis, Qt.TextElideMode.ElideRight, int(width)),
        )

        def to_screen(x: float, y: float) -> QPointF:
            return QPointF(
                plot.left() + (x - x0) / (x1 - x0) * plot.width(),
                plot.bottom() - (self._y(y) - y0) / (y1 - y0) * plot.height(),
            )

        colors = [QColor(SERIES_COLORS[i % len(SERIES_COLORS)]) for i in range(len(self._series))]
        for color, points in zip(colors, self._series.values()):
            painter.setPen(QPen(color, 2))
            if len(points) > 1:
                path = QPainterPath(to_screen(*points[0]))
                for p in points[1:]:
                    path.lineTo(to_screen(*p))
                painter.drawPath(path)
            for p in points[-1:]:
                painter.setBrush(color)
                painter.drawEllipse(to_screen(*p), 3, 3)
            painter.setBrush(Qt.BrushStyle.NoBrush)
        # The legend over the curves, on the plot's own background so a curve never hides it;
        # each entry as wide as its text, the last one elided where the plot ends.
        metrics, x = painter.fontMetrics(), plot.left() + 6
        backdrop = pal.color(QPalette.ColorRole.Base)
        backdrop.setAlpha(220)
        for color, name in zip(colors, self._series):
            room = plot.right() - 4 - x
            if room < metrics.horizontalAdvance("— …"):
                break
            label = metrics.elidedText(f"— {name}", Qt.TextElideMode.ElideRight, int(room))
            width = metrics.horizontalAdvance(label) + 4
            box = QRectF(x - 2, plot.top() + 4, width, 16)
            painter.fillRect(box, backdrop)
            painter.setPen(color)
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, label)
            x += width + 10


class ConfusionMatrixView(QWidget):
    """A confusion matrix as coloured cells (rows: true class, columns: predicted).

    The cells never shrink below :attr:`MIN_CELL` pixels: with many classes the
    widget asks for more room than it has, and the scroll area around it
    (:class:`ConfusionMatrixArea`) scrolls. Row labels are as wide as the longest
    class name (elided past :attr:`MAX_LABEL` pixels), column labels are written
    upwards, one per cell, so they never overlap; counts that do not fit a cell
    are left to the tooltip, which names both classes and the share.

    Signals
    -------
    cell_clicked(int, int)
        The true and predicted class of a clicked cell.
    """

    cell_clicked = Signal(int, int)
    MIN_CELL = 22  # px: a line of text high, so the upward column labels do not overlap
    MAX_LABEL = 150  # px: longer class names are elided (the tooltip has them whole)
    TITLE = 20  # px: room for an axis title

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._names: tuple[str, ...] = ()
        self._matrix: tuple[tuple[int, ...], ...] = ()
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_matrix(self, names, matrix) -> None:
        self._names = tuple(names)
        self._matrix = tuple(tuple(int(v) for v in row) for row in matrix)
        self.updateGeometry()
        self.update()

    def matrix(self) -> tuple[tuple[int, ...], ...]:
        return self._matrix

    def _label_width(self) -> float:
        fm = self.fontMetrics()
        widest = max((fm.horizontalAdvance(n) for n in self._names), default=0)
        return min(widest, self.MAX_LABEL) + 8

    def _margins(self) -> tuple[float, float]:
        """Left and top margins: an axis title plus the class names."""
        label = self._label_width()
        return self.TITLE + label, self.TITLE + label

    def minimumSizeHint(self) -> QSize:
        left, top = self._margins()
        n = max(1, len(self._names))
        return QSize(int(left + n * self.MIN_CELL + 4), int(top + n * self.MIN_CELL + 4))

    def sizeHint(self) -> QSize:
        left, top = self._margins()
        n = max(1, len(self._names))
        cell = max(self.MIN_CELL, min(48, 360 // n))
        return QSize(int(left + n * cell + 4), int(top + n * cell + 4))

    def _geometry(self) -> tuple[float, float, float]:
        n = max(1, len(self._names))
        left, top = self._margins()
        cell = min((self.width() - left - 4) / n, (self.height() - top - 4) / n)
        return left, top, max(float(self.MIN_CELL), cell)

    def cell_size(self) -> float:
        """The side of a cell as drawn now, in pixels."""
        return self._geometry()[2]

    def cell_at(self, pos: QPointF) -> tuple[int, int] | None:
        left, top, cell = self._geometry()
        if pos.x() < left or pos.y() < top:
            return None
        col = int((pos.x() - left) // cell)
        row = int((pos.y() - top) // cell)
        n = len(self._names)
        return (row, col) if 0 <= row < n and 0 <= col < n else None

    def cell_text(self, row: int, col: int) -> str:
        """What hovering a cell says: both classes, the count and its share of the row."""
        count = self._matrix[row][col]
        total = sum(self._matrix[row])
        share = f" ({count / total:.0%} of {total})" if total else ""
        images = "image" if count == 1 else "images"
        return f"true: {self._names[row]}\npredicted: {self._names[col]}\n{count} {images}{share}"

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            hit = self.cell_at(QPointF(event.pos())) if self._matrix else None
            if hit is not None:
                QToolTip.showText(event.globalPos(), self.cell_text(*hit), self)
            else:
                QToolTip.showText(event.globalPos(), self.toolTip(), self)
            return True
        return super().event(event)

    def mousePressEvent(self, event) -> None:
        hit = self.cell_at(event.position())
        if hit is not None:
            self.cell_clicked.emit(*hit)

    def paintEvent(self, event) -> None:
        if not self._matrix:
            return
        painter = QPainter(self)
        left, top, cell = self._geometry()
        n = len(self._names)
        pal = self.palette()
        fm = self.fontMetrics()
        painter.setPen(pal.color(QPalette.ColorRole.Text))
        bold = painter.font()
        bold.setBold(True)
        plain = painter.font()
        painter.setFont(bold)
        painter.drawText(
            QRectF(left, 0, cell * n, self.TITLE),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            "predicted class →",
        )
        painter.save()
        painter.translate(0, top + cell * n)
        painter.rotate(-90)
        painter.drawText(
            QRectF(0, 0, cell * n, self.TITLE),  # read upwards: its top end is on the right
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            "← true class",  # the arrow points down the rows
        )
        painter.restore()
        painter.setFont(plain)
        for i, name in enumerate(self._names):
            text = name  # elided only past MAX_LABEL (an exact fit would elide too)
            if fm.horizontalAdvance(name) > self.MAX_LABEL:
                text = fm.elidedText(name, Qt.TextElideMode.ElideRight, self.MAX_LABEL)
            painter.drawText(
                QRectF(self.TITLE, top + i * cell, left - self.TITLE - 6, cell),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                text,
            )
            painter.save()  # upwards, one cell wide: neighbours never overlap
            painter.translate(left + i * cell, top - 6)
            painter.rotate(-90)
            painter.drawText(
                QRectF(0, 0, top - self.TITLE - 6, cell),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                text,
            )
            painter.restore()
        for r, row in enumerate(self._matrix):
            total = sum(row) or 1
            for c, value in enumerate(row):
                share = value / total
                hue = 210 if r == c else 8
                color = QColor.fromHsv(hue, int(40 + 200 * share), 255 - int(90 * share))
                rect = QRectF(left + c * cell, top + r * cell, cell - 1, cell - 1)
                painter.fillRect(rect, color if value else pal.color(QPalette.ColorRole.Base))
                if fm.horizontalAdvance(str(value)) + 4 <= cell:  # else the tooltip says it
                    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, str(value))


class ConfusionMatrixArea(QScrollArea):
    """A :class:`ConfusionMatrixView` that scrolls when its classes need more room."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.view = ConfusionMatrixView()
        self.setWidget(self.view)
        self.setWidgetResizable(True)  # fills the area; scrolls below its minimum size
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setMinimumSize(220, 160)
