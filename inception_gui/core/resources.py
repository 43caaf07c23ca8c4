"""The one place the app finds its shipped files (icon, ``.desktop`` launcher).

Installed, they are package data of ``inception_gui.resources`` (pyproject.toml maps the
repository's ``resources/`` folder to that name), read through :mod:`importlib.resources`,
so they are found in a wheel, a zip or an editable install alike. Run from a source
checkout that was never installed, the folder beside the package is used.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

__all__ = ["resource"]

_PACKAGE = "inception_gui.resources"
_SOURCE_TREE = Path(__file__).resolve().parents[2] / "resources"


def resource(name: str) -> Traversable:
    """The shipped file ``name`` (``read_text``/``read_bytes``/``is_file`` work on it)."""
    try:
        found = resources.files(_PACKAGE) / name
    except ModuleNotFoundError:  # a source checkout that was never installed
        return _SOURCE_TREE / name
    return found if found.is_file() else _SOURCE_TREE / name
