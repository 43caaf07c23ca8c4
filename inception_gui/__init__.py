"""Inception GUI: the Qt desktop application over the ``model`` package.

Nothing here imports torch at import time; the window appears first.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
