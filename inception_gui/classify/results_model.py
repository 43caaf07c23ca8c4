"""The Classify tab's gallery: one row per image, sortable by confidence."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPixmap

from inception_gui.classify.jobs import ClassifiedImage, write_predictions_csv
from inception_gui.core.pictures import THUMB_SIDE, Picture
from inception_gui.widgets.common import picture_to_pixmap

__all__ = ["SORT_ROLE", "ResultsTableModel", "square_thumbnail"]

SORT_ROLE = Qt.ItemDataRole.UserRole + 1  # numbers for sorting: confidence as a float
COLUMNS = ("Image", "Top-1", "Confidence", "Runners-up")
COLUMN_TIPS = (
    "The file, or the name of a pasted picture",
    "The most likely class",
    "The model's probability for the top-1 class",
    "The next most likely classes after the top-1 (up to rank 5), with their probabilities",
)

Index = QModelIndex | QPersistentModelIndex


def square_thumbnail(picture: Picture, side: int = THUMB_SIDE) -> QPixmap:
    """``picture`` centred on a transparent ``side`` x ``side`` pixmap.

    The view sizes a pixmap's decoration to the pixmap, so a narrow thumbnail
    would pull its file name left; a square canvas keeps every name aligned.
    """
    canvas = QPixmap(side, side)
    canvas.fill(Qt.GlobalColor.transparent)
    painter = QPainter(canvas)
    painter.drawPixmap(
        (side - picture.width) // 2, (side - picture.height) // 2, picture_to_pixmap(picture)
    )
    painter.end()
    return canvas


class ResultsTableModel(QAbstractTableModel):
    """Rows of :class:`ClassifiedImage`; columns: image, top-1, confidence, runners-up."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[ClassifiedImage] = []
        self._thumbs: list[QPixmap | None] = []
        # Which model made each row: (load generation, its name). Rows made by an
        # earlier model stay, marked with that model's name, until classified again.
        self._origins: list[tuple[int, str]] = []
        self._current_generation = 0

    # Qt model interface -------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMN_TIPS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        row = self._rows[index.row()]
        col = index.column()
        earlier = self.made_by_earlier(index.row())
        if role == Qt.ItemDataRole.DisplayRole:
            text = self._display(row, col)
            if earlier is not None and col == 3:
                return f"⟲ by an earlier model ({earlier}). {text}"
            return text
        if role == SORT_ROLE:
            return self._sort_key(row, col)
        if role == Qt.ItemDataRole.DecorationRole and col == 0:
            return self._thumbs[index.row()]
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = row.error or "\n".join(
                f"{p * 100:5.1f}%  {label}" for label, _, p in row.predictions
            )
            if earlier is not None:
                tip = f"Classified by an earlier model: {earlier}\n{tip}"
            return tip
        if role == Qt.ItemDataRole.ForegroundRole and row.error:
            return QBrush(QColor("#b00020"))
        if role == Qt.ItemDataRole.ForegroundRole and earlier is not None:
            return QBrush(QColor("#6b6b6b"))
        if role == Qt.ItemDataRole.FontRole and earlier is not None:
            font = QFont()
            font.setItalic(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _display(row: ClassifiedImage, col: int) -> str:
        if col == 0:
            return Path(row.source).name or row.source
        if row.error:
            return f"Could not read: {row.error}" if col == 1 else ""
        label, _, prob = row.predictions[0]
        if col == 1:
            return label
        if col == 2:
            return f"{prob * 100:.1f}%"
        # One decimal, as the Confidence column and the bars: "1.4%" there is "1.4%" here.
        return ", ".join(f"{lbl} ({p * 100:.1f}%)" for lbl, _, p in row.predictions[1:])

    @staticmethod
    def _sort_key(row: ClassifiedImage, col: int):
        if col == 0:
            return row.source.lower()
        if row.error:
            return -1.0 if col == 2 else ""
        return row.predictions[0][2] if col == 2 else row.predictions[0][0].lower()

    # Our API ------------------------------------------------------------------------
    def append(self, item: ClassifiedImage, origin: tuple[int, str] = (0, "")) -> int:
        """Add one image's outcome, made by ``origin`` (load generation, model name)."""
        row = len(self._rows)
        self.beginInsertRows(QModelIndex(), row, row)
        self._rows.append(item)
        self._origins.append(origin)
        self._thumbs.append(square_thumbnail(item.thumbnail) if item.thumbnail else None)
        self.endInsertRows()
        return row

    def clear(self) -> None:
        self.beginResetModel()
        self._rows.clear()
        self._thumbs.clear()
        self._origins.clear()
        self.endResetModel()

    def set_current_generation(self, generation: int) -> None:
        """The model now loaded: rows made by another are marked as an earlier model's."""
        if generation == self._current_generation:
            return
        self._current_generation = generation
        if self._rows:
            last = self.index(len(self._rows) - 1, len(COLUMNS) - 1)
            self.dataChanged.emit(self.index(0, 0), last)

    def made_by_earlier(self, row: int) -> str | None:
        """The name of the earlier model that made ``row``, or None if the current one did."""
        generation, name = self._origins[row]
        if generation == self._current_generation or self._rows[row].error:
            return None  # an unreadable file is unreadable whatever the model
        return name or "unknown"

    def earlier_rows(self) -> list[int]:
        """Rows made by an earlier model, in order."""
        return [r for r in range(len(self._rows)) if self.made_by_earlier(r) is not None]

    def remove_rows(self, rows: list[int]) -> None:
        """Drop ``rows`` (indices into this model)."""
        for row in sorted(rows, reverse=True):
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._rows[row], self._thumbs[row], self._origins[row]
            self.endRemoveRows()

    def item(self, row: int) -> ClassifiedImage:
        return self._rows[row]

    def items(self) -> list[ClassifiedImage]:
        return list(self._rows)

    def error_count(self) -> int:
        return sum(1 for r in self._rows if r.error)

    def export_csv(self, path: str | os.PathLike[str], k: int = 5) -> None:
        """Write every row (path, status, top-k labels and probabilities) atomically.

        See :func:`inception_gui.classify.jobs.write_predictions_csv`: as many rank columns
        as the rows have predictions (at most ``k``), every row as wide as the header.
        """
        write_predictions_csv(path, self.items(), k)
