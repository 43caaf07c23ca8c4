"""How the app writes numbers, shapes and outside text: one format for tables, dialogs, details."""

from __future__ import annotations

import html

__all__ = ["as_written", "format_count", "format_mult_adds", "format_shape"]


def as_written(text: str) -> str:
    """``text`` as rich text that shows it as written, for widgets that guess the format.

    A message box or an input dialog reads its text as markup when the first line looks
    like it, so a file named ``<img src=x><u>U`` would draw a picture and underline; the
    static ``QMessageBox.question`` and ``QInputDialog.getItem`` take no text format.
    Escaped and wrapped in a paragraph, the text is always read as rich text, and shown
    as written, line breaks kept.
    """
    return "<p>" + html.escape(text, quote=False).replace("\n", "<br>") + "</p>"


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
