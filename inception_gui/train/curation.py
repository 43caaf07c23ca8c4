"""Fixing labels from the window: move to another class, exclude, undo; each asked first.

The file operations are :mod:`model.data.curate`'s (logged in the run folder, never
overwriting, undone exactly). This module only asks: every move shows a confirmation that
says exactly which file goes where, and nothing moves without a yes.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QInputDialog, QMessageBox, QWidget

from inception_gui.widgets.formatting import as_written
from model.data import curate

__all__ = ["Curation"]


class Curation:
    """The move, exclude and undo actions of one run, over its dataset folders."""

    def __init__(self, run_dir: str, roots: list[str], class_names: tuple[str, ...]) -> None:
        self.run_dir = run_dir
        self.roots = [Path(r).resolve() for r in roots if r]
        self.class_names = class_names

    def root_of(self, path: str) -> Path | None:
        """The dataset folder (training or validation) that holds ``path``."""
        resolved = Path(path).resolve()
        return next((r for r in self.roots if resolved.is_relative_to(r)), None)

    def _class_of(self, path: str, root: Path) -> str:
        return Path(path).resolve().relative_to(root).parts[0]

    def _confirm(self, parent: QWidget, title: str, text: str) -> bool:
        answer = QMessageBox.question(
            parent,
            title,
            as_written(text),  # it names files and classes: shown as written
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _fail(self, parent: QWidget, exc: Exception) -> None:
        QMessageBox.warning(parent, "Nothing was moved", as_written(str(exc)))

    def move_to_class(self, parent: QWidget, path: str, suggested: str | None = None):
        """Ask for a class, confirm, and move; the logged move, or None if not done."""
        root = self.root_of(path)
        if root is None:
            self._fail(parent, curate.CurationError(f"{path}: not in this run's dataset folders"))
            return None
        current = self._class_of(path, root)
        choices = [c for c in self.class_names if c != current and (root / c).is_dir()]
        if not choices:
            self._fail(parent, curate.CurationError(f"{root}: has no other class folder"))
            return None
        start = choices.index(suggested) if suggested in choices else 0
        new_class, ok = QInputDialog.getItem(
            parent,
            "Move to class",
            as_written(f"Move {Path(path).name} from '{current}' to:"),
            choices,
            start,
            False,
        )
        if not ok:
            return None
        target = curate.class_target(path, root, new_class)
        text = (
            f"Move this file\n\n{path}\n\nfrom the class folder '{current}' into '{new_class}', "
            f"as\n\n{target}\n\nThe move is logged in {self.run_dir}; Undo puts it back."
        )
        if not self._confirm(parent, "Move to class", text):
            return None
        try:
            return curate.move_to_class(path, root, new_class, self.run_dir)
        except (curate.CurationError, OSError) as exc:
            self._fail(parent, exc)
            return None

    def exclude(self, parent: QWidget, path: str):
        """Confirm, and move the file out of the dataset; the logged move, or None."""
        root = self.root_of(path)
        if root is None:
            self._fail(parent, curate.CurationError(f"{path}: not in this run's dataset folders"))
            return None
        try:
            target = curate.exclusion_target(path, root)
        except curate.CurationError as exc:
            self._fail(parent, exc)
            return None
        text = (
            f"Move this file out of the dataset\n\n{path}\n\nto\n\n{target}\n\n"
            f"Nothing is deleted. The move is logged in {self.run_dir}; Undo puts it back."
        )
        if not self._confirm(parent, "Exclude from training", text):
            return None
        try:
            return curate.exclude(path, root, self.run_dir)
        except (curate.CurationError, OSError) as exc:
            self._fail(parent, exc)
            return None

    def undo(self, parent: QWidget):
        """Confirm, and put the latest move back; the move undone, or None."""
        pending = [m for m in curate.moves(self.run_dir) if not m.undone]
        if not pending:
            QMessageBox.information(parent, "Undo", "There is no move to undo.")
            return None
        last = pending[-1]
        text = f"Put this file back\n\n{last.target}\n\nwhere it was:\n\n{last.source}"
        if not self._confirm(parent, "Undo the last move", text):
            return None
        try:
            return curate.undo(self.run_dir, last.id)
        except (curate.CurationError, OSError) as exc:
            self._fail(parent, exc)
            return None
