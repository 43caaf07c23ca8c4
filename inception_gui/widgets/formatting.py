"""How the app writes numbers and shapes: one format for tables, dialogs and details."""

from __future__ import annotations

__all__ = ["format_count", "format_mult_adds", "format_shape"]


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
