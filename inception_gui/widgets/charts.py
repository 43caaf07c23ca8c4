"""Painted charts for the Train tab: live curves and a confusion matrix.

QtCharts lives in PySide6-Addons, a large extra download; these two widgets
need a few dozen lines of ``QPainter`` each.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

__all__ = ["ConfusionMatrixView", "CurvePlot"]

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
        self.setMinimumSize(260, 170)
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
        painter.drawText(
            QRectF(plot.left(), plot.bottom() + 2, plot.width(), 16),
            Qt.AlignmentFlag.AlignHCenter,
            axis,
        )

        def to_screen(x: float, y: float) -> QPointF:
            return QPointF(
                plot.left() + (x - x0) / (x1 - x0) * plot.width(),
                plot.bottom() - (self._y(y) - y0) / (y1 - y0) * plot.height(),
            )

        for i, (name, points) in enumerate(self._series.items()):
            color = QColor(SERIES_COLORS[i % len(SERIES_COLORS)])
            painter.setPen(QPen(color, 2))
            if len(points) > 1:
                path = QPainterPath(to_screen(*points[0]))
                for p in points[1:]:
                    path.lineTo(to_screen(*p))
                painter.drawPath(path)
            for p in points[-1:]:
                painter.setBrush(color)
                painter.drawEllipse(to_screen(*p), 3, 3)
            painter.drawText(
                QRectF(plot.left() + 8 + 110 * i, plot.top() + 4, 106, 16),
                Qt.AlignmentFlag.AlignLeft,
                f"— {name}",
            )
            painter.setBrush(Qt.BrushStyle.NoBrush)


class ConfusionMatrixView(QWidget):
    """A confusion matrix as coloured cells (rows: true class, columns: predicted).

    Signals
    -------
    cell_clicked(int, int)
        The true and predicted class of a clicked cell.
    """

    cell_clicked = Signal(int, int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._names: tuple[str, ...] = ()
        self._matrix: tuple[tuple[int, ...], ...] = ()
        self.setMinimumSize(240, 200)

    def set_matrix(self, names, matrix) -> None:
        self._names = tuple(names)
        self._matrix = tuple(tuple(int(v) for v in row) for row in matrix)
        self.update()

    def matrix(self) -> tuple[tuple[int, ...], ...]:
        return self._matrix

    def _geometry(self) -> tuple[float, float, float]:
        n = max(1, len(self._names))
        margin = 90.0
        cell = max(8.0, min((self.width() - margin - 8) / n, (self.height() - margin - 8) / n))
        return margin, margin, cell

    def cell_at(self, pos: QPointF) -> tuple[int, int] | None:
        left, top, cell = self._geometry()
        col = int((pos.x() - left) // cell)
        row = int((pos.y() - top) // cell)
        n = len(self._names)
        return (row, col) if 0 <= row < n and 0 <= col < n and pos.x() >= left else None

    def mousePressEvent(self, event) -> None:
        hit = self.cell_at(event.position())
        if hit is not None:
            self.cell_clicked.emit(*hit)

    def paintEvent(self, event) -> None:
        if not self._matrix:
            return
        painter = QPainter(self)
        left, top, cell = self._geometry()
        pal = self.palette()
        painter.setPen(pal.color(QPalette.ColorRole.Text))
        painter.drawText(
            QRectF(left, 0, cell * len(self._names), 18),
            Qt.AlignmentFlag.AlignHCenter,
            "predicted →",
        )
        for i, name in enumerate(self._names):
            painter.drawText(
                QRectF(0, top + i * cell, left - 6, cell),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                name,
            )
            painter.save()
            painter.translate(left + i * cell + cell / 2 + 5, top - 6)
            painter.rotate(-60)
            painter.drawText(QPointF(0, 0), name)
            painter.restore()
        for r, row in enumerate(self._matrix):
            total = sum(row) or 1
            for c, value in enumerate(row):
                share = value / total
                hue = 210 if r == c else 8
                color = QColor.fromHsv(hue, int(40 + 200 * share), 255 - int(90 * share))
                rect = QRectF(left + c * cell, top + r * cell, cell - 1, cell - 1)
                painter.fillRect(rect, color if value else pal.color(QPalette.ColorRole.Base))
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, str(value))
