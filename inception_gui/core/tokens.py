"""The cancel token every job is handed: Qt-free, so jobs modules can take it without Qt."""

from __future__ import annotations

import threading

__all__ = ["CancelToken"]


class CancelToken:
    """A flag a job polls between steps; ``model`` functions take ``token.is_set``."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    __call__ = is_set
