"""The paper's layout beside the release's: the two variants side by side, stage by stage."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
)

import model
from inception_gui.core.workers import WorkerHub
from inception_gui.widgets.formatting import format_mult_adds, format_shape

__all__ = ["CompareDialog"]


def _compare_job(input_size: int, summaries: dict):
    return model.compare_variants(input_size, summaries=summaries)


def paired_rows(rows) -> list[tuple[str, object, object]]:
    """``(name, v3, paper)`` rows, where stages that only one variant has by that name sit
    side by side with the other's, in order ("Mixed_6a / Mixed_6a_paper"), instead of on
    two half-empty rows."""
    out: list[tuple[str, object, object]] = []
    v3_only: list = []
    paper_only: list = []

    def flush() -> None:
        for i in range(max(len(v3_only), len(paper_only))):
            a = v3_only[i] if i < len(v3_only) else None
            b = paper_only[i] if i < len(paper_only) else None
            name = " / ".join(r.name for r in (a, b) if r is not None)
            out.append((name, a.v3 if a else None, b.paper if b else None))
        v3_only.clear()
        paper_only.clear()

    for row in rows:
        if row.v3 is not None and row.paper is None:
            v3_only.append(row)
        elif row.paper is not None and row.v3 is None:
            paper_only.append(row)
        else:
            flush()
            out.append((row.name, row.v3, row.paper))
    flush()
    return out


class CompareDialog(QDialog):
    """v3 and the paper's layout stage by stage, and what each factorization saves."""

    def __init__(self, hub: WorkerHub, input_size: int, summaries: dict, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"v3 against the paper's layout at {input_size} px")
        self.resize(980, 680)
        self.table = QTableWidget(0, 7)
        self.table.setHorizontalHeaderLabels(
            [
                "Stage",
                "v3 shape",
                "v3 params",
                "v3 mult-adds",
                "paper shape",
                "paper params",
                "paper mult-adds",
            ]
        )
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.claims = QTextBrowser()
        self.claims.setHtml("<i>Measuring both variants…</i>")
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 3)
        layout.addWidget(self.claims, 2)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.comparison = None
        hub.start(
            "Comparing the variants",
            _compare_job,
            input_size,
            summaries,
            on_return=self._on_comparison_ready,
        )

    def _on_comparison_ready(self, comparison) -> None:
        self.comparison = comparison
        rows = paired_rows(comparison.rows)
        self.table.setRowCount(len(rows) + 1)
        for r, (name, v3, paper) in enumerate(rows):
            cells = [name]
            for side in (v3, paper):
                if side is None:
                    cells += ["—", "—", "—"]
                else:
                    cells += [
                        format_shape(side.output_shape),
                        f"{side.params:,}",
                        format_mult_adds(side.mult_adds),
                    ]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(r, c, item)
        self._add_totals_row(len(rows), comparison.summaries)
        parts = [
            "<h3>Factorizations: the paper's claims against the real blocks</h3><table "
            "cellspacing='6'><tr><th align='left'>variant</th><th align='left'>factorization"
            "</th><th>instances</th><th>measured saving (mult-adds)</th><th>paper's claim</th>"
            "<th align='left'>why they differ</th></tr>"
        ]
        for f in comparison.factorizations:
            measured = (
                f"{1 - f.mult_adds / f.unfactored_mult_adds:.0%}" if f.unfactored_mult_adds else "—"
            )
            if f.saving_min != f.saving_max:
                measured += f" ({f.saving_min:.0%}–{f.saving_max:.0%})"
            claim = f"{f.paper_claim:.0%}" if f.paper_claim is not None else "—"
            parts.append(
                f"<tr><td>{f.variant}</td><td>{f.kind}</td><td align='right'>{f.count}</td>"
                f"<td align='right'>{measured}</td><td align='right'>{claim}</td>"
                f"<td>{f.note}</td></tr>"
            )
        parts.append("</table>")
        self.claims.setHtml("".join(parts))

    def _add_totals_row(self, r: int, summaries: dict) -> None:
        """The whole network of each variant: its parameters and mult-adds per image."""
        cells = ["Whole network"]
        for key in ("v3", "paper"):
            summary = summaries.get(key)
            if summary is None:
                cells += ["—", "—", "—"]
            else:
                cells += ["", f"{summary.total_params:,}", format_mult_adds(summary.mult_adds)]
        for c, text in enumerate(cells):
            item = QTableWidgetItem(text)
            font = item.font()
            font.setBold(True)
            item.setFont(font)
            if c:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(r, c, item)
