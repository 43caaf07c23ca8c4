"""Near-copies in the checked dataset, on request: leaks across the split, copies in a class.

The dataset check runs on every edit of the folder and opens each image's header only; the
near-copies need each image's pooled features, one pass of the network an image (about a
minute a thousand images on a laptop CPU, more on two cores), so they wait for the button.
The pairs come from :func:`model.training.audit.dataset_duplicates`, on the very split the
run will use: a pair across it is a leak of that run.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QTextBrowser, QVBoxLayout, QWidget

from inception_gui.core.workers import CancelToken, WorkerHub
from inception_gui.train.jobs import copies_job

__all__ = ["CopyCheck", "copies_html"]

KEY = "copy check"  # the newest report alone may show its pairs
SHOWN = 8  # pairs listed by name; the rest are counted
KINDS = {
    "leak": "between training and validation (the validation score would be flattered)",
    "within": "within a class (they count twice)",
    "across": "filed under two classes (the same picture, two labels)",
}


def copies_html(pairs, images: int, report=None) -> str:
    """The pairs as the Train tab shows them: counts by kind, then the closest pairs by name.

    Names are relative to the training folder (a separate validation folder's start
    with its own name), so that a pair fits on a line.
    """
    if not pairs:
        return f"<p>No near-copies among the {images} images.</p>"
    counts = Counter(p.kind for p in pairs)
    kinds = "".join(
        f"<li>{counts[kind]} {html.escape(text)}</li>"
        for kind, text in KINDS.items()
        if counts[kind]
    )
    roots = [(report.train_dir, ""), (report.val_dir, "")] if report is not None else []
    if report is not None and report.val_dir:
        roots[1] = (report.val_dir, Path(report.val_dir).name + "/")

    def name(path: str) -> str:
        for root, prefix in roots:
            if root and Path(path).is_relative_to(root):
                return html.escape(prefix + Path(path).relative_to(root).as_posix())
        return html.escape(path)

    listed = "".join(
        f"<li>{name(p.first)} = {name(p.second)} ({p.similarity:.3f})</li>" for p in pairs[:SHOWN]
    )
    more = f"<li>… and {len(pairs) - SHOWN} more</li>" if len(pairs) > SHOWN else ""
    return (
        f"<p style='color:#8a6100'>⚠ {len(pairs)} near-cop{'y' if len(pairs) == 1 else 'ies'} "
        f"among the {images} images:</p><ul>{kinds}</ul><ul>{listed}{more}</ul>"
    )


class CopyCheck(QWidget):
    """A button that looks for near-copies in the checked dataset, and what it found.

    ``source()`` gives the feature extractor and the input size at the click: the run's
    starting weights, or ImageNet's (None when neither can be used, with the reason).
    """

    status = Signal(str)

    def __init__(
        self, hub: WorkerHub, source: Callable[[], tuple[str | None, int, str]], parent=None
    ) -> None:
        super().__init__(parent)
        self._hub = hub
        self._source = source
        self._report = None
        self._allowed = True  # False while a run trains
        self.button = QPushButton("Check for near-copies")
        self.button.setToolTip(
            "Compare every image's features to find the same picture in training and "
            "validation (a leak), twice in a class, or under two classes. One pass of the "
            "network an image: minutes for a large folder on a CPU"
        )
        self.button.clicked.connect(self.check)
        self.button.setEnabled(False)
        self.result = QTextBrowser()
        self.result.setMaximumHeight(120)
        self.result.hide()
        row = QHBoxLayout()
        row.addWidget(self.button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.result)

    def set_report(self, report) -> None:
        """A new dataset check (None: none): what was found for the last one no longer holds."""
        self._hub.drop(KEY)
        self._report = report
        self.result.hide()
        self._refresh()

    def set_allowed(self, allowed: bool) -> None:
        """Off while a run trains: the two would compete for the processor."""
        self._allowed = allowed
        if not allowed:
            self._hub.drop(KEY)
        self._refresh()

    def _refresh(self) -> None:
        self.button.setText("Check for near-copies")
        self.button.setEnabled(self._allowed and self._report is not None and self._report.ok)

    def check(self) -> None:
        """Compute the features of every image of the checked dataset, and list the pairs."""
        report = self._report
        if report is None or not report.ok:
            return
        weights, input_size, why_not = self._source()
        self.result.show()
        if weights is None:
            self.result.setHtml(f"<p>{html.escape(why_not)}</p>")
            return
        images = len(report.train_samples) + len(report.val_samples)
        self.result.setHtml(f"<i>Computing the features of {images} images…</i>")
        self.button.setEnabled(False)
        self.button.setText("Checking for near-copies…")
        token = CancelToken()
        self._hub.start(
            "Looking for near-copies",
            copies_job,
            report,
            weights,
            input_size,
            token,
            token=token,
            key=KEY,
            on_return=lambda pairs: self._on_pairs(report, pairs),
            on_error=lambda exc: self.result.setHtml(
                f"<p>The check could not run: {html.escape(str(exc))}</p>"
            ),
            on_finish=self._refresh,
        )

    def _on_pairs(self, report, pairs) -> None:
        if pairs is None:  # cancelled
            return
        images = len(report.train_samples) + len(report.val_samples)
        self.result.setHtml(copies_html(pairs, images, report))
        leaks = sum(p.kind == "leak" for p in pairs)
        self.status.emit(
            f"Near-copies: {len(pairs)}, of which {leaks} between training and validation"
            if pairs
            else f"No near-copies among the {images} images"
        )
