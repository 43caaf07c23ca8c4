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
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from inception_gui.widgets.formatting import format_count, format_mult_adds, format_shape

__all__ = ["COLUMNS", "NODE_ROLE", "LayerFilterProxyModel", "LayerTreeModel", "display_text"]

COLUMNS = ("Layer", "Type", "Output shape", "Params", "Total params", "Trainable", "Mult-adds")
NODE_ROLE = Qt.ItemDataRole.UserRole + 1  # the LayerNode behind a row
SORT_ROLE = Qt.ItemDataRole.UserRole + 2  # numbers for sorting

Index = QModelIndex | QPersistentModelIndex


class _Item:
    """One tree row: the node, its parent row and its position."""

    __slots__ = ("children", "node", "parent", "row")

    def __init__(self, node, parent: _Item | None, row: int) -> None:
        self.node = node
        self.parent = parent
        self.row = row
        self.children = [_Item(c, self, i) for i, c in enumerate(node.children)]


def display_text(node, col: int) -> str:
    """What column ``col`` shows for ``node`` (the root's label aside)."""
    return (
        node.name,
        node.type,
        format_shape(node.output_shape),
        format_count(node.params),
        format_count(node.total_params),
        format_count(node.trainable_params),
        format_mult_adds(node.mult_adds),
    )[col]


class LayerTreeModel(QAbstractItemModel):
    """The network as a tree: one row a module, in forward order."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._root: _Item | None = None
        self._root_label = ""
        self._dimmed: frozenset[int] = frozenset()  # id() of the nodes drawn greyed

    def set_root(self, node, label: str = "") -> None:
        """Show the tree under ``node`` (a ``LayerNode``); the root itself is the top row.

        ``label`` names the top row in place of the node's own name (which
        repeats the type column: "Inception3 (v3)" beside "Inception3").
        """
        self.beginResetModel()
        self._root = _Item(node, None, 0) if node is not None else None
        self._root_label = label or (node.name if node is not None else "")
        self.endResetModel()

    @property
    def root_label(self) -> str:
        """The top row's name."""
        return self._root_label

    @property
    def root_node(self):
        """The ``LayerNode`` of the top row, or None."""
        return self._root.node if self._root is not None else None

    def set_dimmed(self, node_ids) -> None:
        """Draw the rows of these nodes (by ``id()``) greyed: a search shows them as context."""
        self._dimmed = frozenset(node_ids)
        if self._root is not None:
            self.dataChanged.emit(
                self.index(0, 0),
                self.index(0, len(COLUMNS) - 1),
                [Qt.ItemDataRole.ForegroundRole],
            )

    def _item(self, index: Index) -> _Item | None:
        return index.internalPointer() if index.isValid() else None

    # Qt model interface -------------------------------------------------------------
    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        # Bounds checked here rather than by hasIndex(), which calls back into Python twice:
        # views call this thousands of times a repaint.
        if not 0 <= column < len(COLUMNS) or parent.column() > 0:
            return QModelIndex()
        if not parent.isValid():
            ok = row == 0 and self._root is not None
            return self.createIndex(row, column, self._root) if ok else QModelIndex()
        children = parent.internalPointer().children
        if not 0 <= row < len(children):
            return QModelIndex()
        return self.createIndex(row, column, children[row])

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
            if item.parent is None and col == 0:
                return self._root_label
            return display_text(node, col)
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
        if role == Qt.ItemDataRole.ForegroundRole and id(node) in self._dimmed:
            return QApplication.palette().brush(
                QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text
            )
        if role == Qt.ItemDataRole.TextAlignmentRole and col >= 3:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(item, col)
        return None

    def _tooltip(self, item: _Item, col: int) -> str | None:
        node = item.node
        if col == 0:
            return node.path or self._root_label
        aux = node.find("AuxLogits") if item.parent is None and col == 6 else None
        if aux is not None:
            # The top row sums every child, the auxiliary head included.
            return (
                f"{node.mult_adds:,} in training, with the auxiliary head "
                f"({format_mult_adds(aux.mult_adds)}); "
                f"{node.mult_adds - aux.mult_adds:,} "
                f"({format_mult_adds(node.mult_adds - aux.mult_adds)}) at inference, without it"
            )
        return None

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
                node.path or self._root_label,
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
    """Keeps rows that match the search text, with their ancestors and descendants.

    A name matches anywhere (``mixed_6`` finds Mixed_6a to Mixed_6e); a type
    matches from its start (``Conv2d`` finds the plain convolutions, not every
    BasicConv2d around them; ``Inception`` finds every Inception block). Case
    is ignored. Rows shown only because they lead to a match are greyed.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setRecursiveFilteringEnabled(True)
        self.setAutoAcceptChildRows(True)
        self.setSortRole(SORT_ROLE)
        self._needle = ""

    @property
    def search(self) -> str:
        """The search text in force (stripped, lower case)."""
        return self._needle

    def set_search(self, text: str) -> None:
        """Show only rows whose name contains ``text`` or whose type starts with it."""
        needle = text.strip().lower()
        if needle == self._needle:
            return
        self.beginFilterChange()
        self._needle = needle
        self.endFilterChange()
        self._update_dimmed()

    def setSourceModel(self, model) -> None:
        super().setSourceModel(model)
        if isinstance(model, LayerTreeModel):
            model.modelReset.connect(self._update_dimmed)  # a new tree, the same search

    def _update_dimmed(self) -> None:
        source = self.sourceModel()
        if isinstance(source, LayerTreeModel):
            root = source.root_node
            source.set_dimmed(self._context_ids(root, False) if self._needle and root else ())

    def matches(self, node) -> bool:
        """Whether ``node`` itself matches the search (True when there is none)."""
        needle = self._needle
        if not needle:
            return True
        if not node.path:
            return False  # the whole network (type Inception3) is context, never a match
        return needle in node.name.lower() or node.type.lower().startswith(needle)

    def _context_ids(self, node, inside: bool) -> list[int]:
        # Nodes neither matching nor inside a match: shown only as the way to one.
        inside = inside or self.matches(node)
        ids = [] if inside else [id(node)]
        for child in node.children:
            ids += self._context_ids(child, inside)
        return ids

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        if not self._needle:
            return True
        model = self.sourceModel()
        return self.matches(model.data(model.index(source_row, 0, source_parent), NODE_ROLE))
