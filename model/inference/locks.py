"""One lock per network, for the threads that share a loaded network.

A :class:`~model.inference.classifier.Classifier`'s reference network is used by
Grad-CAM, feature maps and export in worker threads, and moved between devices by
another; each holds this lock while it hooks, runs or moves the network, so that one
thread's hooks never see another's forward pass. ``Classifier.network_lock()`` is the
usual way to reach it.
"""

from __future__ import annotations

import threading
import weakref

from torch import nn

__all__ = ["network_lock"]

_locks: weakref.WeakKeyDictionary[nn.Module, threading.RLock] = weakref.WeakKeyDictionary()
_locks_guard = threading.Lock()


def network_lock(network: nn.Module) -> threading.RLock:
    """The lock to hold while hooking, running or moving ``network`` (one per network)."""
    with _locks_guard:
        lock = _locks.get(network)
        if lock is None:
            lock = _locks[network] = threading.RLock()
        return lock
