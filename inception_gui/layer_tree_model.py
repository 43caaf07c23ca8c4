"""A Qt item model over ``model``'s layer summary (plain ``LayerNode`` trees)."""

from __future__ import annotations

import csv
import io

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

__all__ = ["COLUMNS", "NODE_ROLE", "LayerFilterProxyModel", "LayerTreeModel"]

COLUMNS = ("Layer", "Type", "Output shape", "Params", "Total params", "Trainable", "Mult-adds")
NODE_ROLE = Qt.ItemDataRole.UserRole + 1  # the LayerNode behind a row
SORT_ROLE = Qt.ItemDataRole.UserRole + 2  # numbers for sorting

Index = QModelIndex | QPersistentModelIndex


def format_shape(shape) -> str:
    """``(1, 768, 17, 17)`` as ``768 x 17 x 17`` (the batch dimension left out)."""
    return " x ".join(str(d) for d in shape[1:]) if shape else "—"


def format_count(n: int) -> str:
    return f"{n:,}" if n else "—"


def format_mult_adds(n: int) -> str:
    if n >= 1e9:
        return f"{n / 1e9:.2f} G"
    if n >= 1e6:
        return f"{n / 1e6:.1f} M"
    if n >= 1e3:
        return f"{n / 1e3:.1f} K"
    return str(n) if n else "—"


class _Item:
    """One tree row: the node, its parent row and its position."""

    __slots__ = ("children", "node", "parent", "row")

    def __init__(self, node, parent: _Item | None, row: int) -> None:
        self.node = node
        self.parent = parent
        self.row = row
        self.children = [_Item(c, self, i) for i, c in enumerate(node.children)]


class LayerTreeModel(QAbstractItemModel):
    """The network as a tree: one row a module, in forward order."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._root: _Item | None = None

    def set_root(self, node) -> None:
        """Show the tree under ``node`` (a ``LayerNode``); the root itself is the top row."""
        self.beginResetModel()
        self._root = _Item(node, None, 0) if node is not None else None
        self.endResetModel()

    def _item(self, index: Index) -> _Item | None:
        return index.internalPointer() if index.isValid() else None

    # Qt model interface -------------------------------------------------------------
    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, self._root) if self._root else QModelIndex()
        item = self._item(parent)
        return self.createIndex(row, column, item.children[row])

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        item = self._item(index)
        if item is None or item.parent is None:
            return QModelIndex()
        return self.createIndex(item.parent.row, 0, item.parent)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if parent.column() > 0:
            return 0
        if not parent.isValid():
            return 1 if self._root else 0
        return len(self._item(parent).children)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return len(COLUMNS)

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        item = self._item(index)
        if item is None:
            return None
        node = item.node
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(node, col)
        if role == NODE_ROLE:
            return node
        if role == SORT_ROLE:
            return (
                node.name,
                node.type,
                node.output_shape or (),
                node.params,
                node.total_params,
                node.trainable_params,
                node.mult_adds,
            )[col]
        if role == Qt.ItemDataRole.TextAlignmentRole and col >= 3:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and col == 0:
            return node.path or node.name
        return None

    @staticmethod
    def _display(node, col: int) -> str:
        return (
            node.name,
            node.type,
            format_shape(node.output_shape),
            format_count(node.params),
            format_count(node.total_params),
            format_count(node.trainable_params),
            format_mult_adds(node.mult_adds),
        )[col]

    # Export ---------------------------------------------------------------------------
    def to_csv(self) -> str:
        """Every row (depth-first), with exact numbers, as CSV text."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            [
                "path",
                "depth",
                "type",
                "output_shape",
                "params",
                "total_params",
                "trainable_params",
                "mult_adds",
            ]
        )
        if self._root is not None:
            self._write_rows(writer, self._root.node, 0)
        return out.getvalue()

    def _write_rows(self, writer, node, depth: int) -> None:
        writer.writerow(
            [
                node.path or node.name,
                depth,
                node.type,
                format_shape(node.output_shape),
                node.params,
                node.total_params,
                node.trainable_params,
                node.mult_adds,
            ]
        )
        for child in node.children:
            self._write_rows(writer, child, depth + 1)


class LayerFilterProxyModel(QSortFilterProxyModel):
    """Keeps rows whose name or type contains the search text, with their ancestors."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setRecursiveFilteringEnabled(True)
        self.setAutoAcceptChildRows(True)
        self.setSortRole(SORT_ROLE)
        self._needle = ""

    def set_search(self, text: str) -> None:
        """Show only rows whose name or type contains ``text`` (any case)."""
        self.beginFilterChange()
        self._needle = text.strip().lower()
        self.endFilterChange()

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        if not self._needle:
            return True
        model = self.sourceModel()
        node = model.data(model.index(source_row, 0, source_parent), NODE_ROLE)
        return self._needle in node.name.lower() or self._needle in node.type.lower()
