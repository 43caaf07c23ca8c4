"""Running ``model`` work off the GUI thread, with one place for errors and shutdown.

Every job goes through :class:`WorkerHub`: it starts superqt's thread workers
(``FunctionWorker`` for a call, ``GeneratorWorker`` for a generator that yields
progress), relays every error to a single signal, and on close asks each job
to stop and waits for the thread pool to drain.
"""

from __future__ import annotations

import functools
import inspect
import logging
import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal
from superqt.utils import GeneratorWorker, WorkerBase, create_worker

__all__ = ["CancelToken", "WorkerHub"]

log = logging.getLogger(__name__)


class CancelToken:
    """A flag a job polls between steps; ``model`` functions take ``token.is_set``."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    __call__ = is_set


class _JobFailed(Exception):
    """A generator job's exception on its way past superqt.

    superqt's generator worker takes any ``RuntimeError`` its generator raises
    (torch's errors are RuntimeErrors) for a sign that the worker was deleted:
    it then emits neither ``errored`` nor ``finished``, and the tab that started
    the job waits for good. Raised as this instead, it takes the ordinary road.
    """

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _reporting_failures(func: Callable[..., Any]) -> Callable[..., Any]:
    """``func``, a generator function, with every exception it raises carried as _JobFailed."""

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return (yield from func(*args, **kwargs))
        except Exception as exc:
            raise _JobFailed(exc) from None

    return run


class WorkerHub(QObject):
    """Starts background jobs, relays their errors, and stops them all on close.

    Signals
    -------
    error(str, str)
        A job failed: its name and the message (the traceback goes to the log).
    """

    error = Signal(str, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs: dict[WorkerBase, tuple[str, CancelToken | None]] = {}
        self._closing = False

    @property
    def running(self) -> list[str]:
        """Names of the jobs still running."""
        return [name for name, _ in self._jobs.values()]

    def start(
        self,
        name: str,
        func: Callable[..., Any],
        *args: Any,
        token: CancelToken | None = None,
        on_yield: Callable[[Any], None] | None = None,
        on_return: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        on_finish: Callable[[], None] | None = None,
        **kwargs: Any,
    ) -> WorkerBase | None:
        """Run ``func(*args, **kwargs)`` in the thread pool.

        Parameters
        ----------
        name : str
            What the job is, for error messages ("Loading weights").
        token : CancelToken, optional
            Set when the job should stop (close, cancel); ``func`` should poll it.
        on_yield, on_return, on_finish : callable, optional
            Called in the GUI thread with each yielded value, the return value,
            and when the job ends whatever the outcome.
        on_error : callable, optional
            Called with the exception instead of the hub's ``error`` signal.
        """
        if self._closing:
            return None
        if inspect.isgeneratorfunction(func):
            func = _reporting_failures(func)
        worker = create_worker(func, *args, _start_thread=False, _ignore_errors=True, **kwargs)
        self._jobs[worker] = (name, token)
        # Results queued before a close must not reach widgets that are gone.
        if on_yield is not None and isinstance(worker, GeneratorWorker):
            worker.yielded.connect(lambda value: self._closing or on_yield(value))
        if on_return is not None:
            worker.returned.connect(lambda value: self._closing or on_return(value))
        worker.errored.connect(lambda exc: self._on_worker_errored(name, exc, on_error))
        worker.finished.connect(lambda: self._on_worker_finished(worker, on_finish))
        worker.start()
        return worker

    def _on_worker_errored(
        self, name: str, exc: BaseException, handler: Callable[[BaseException], None] | None
    ) -> None:
        if isinstance(exc, _JobFailed):
            exc = exc.error
        if handler is not None:
            log.info("%s: %s", name, exc)  # expected failures, handled by the caller
            if not self._closing:
                handler(exc)
            return
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        log.error("%s failed:\n%s", name, text)
        if not self._closing:
            self.error.emit(name, str(exc) or type(exc).__name__)

    def _on_worker_finished(self, worker: WorkerBase, on_finish: Callable[[], None] | None) -> None:
        self._jobs.pop(worker, None)
        if on_finish is not None and not self._closing:
            on_finish()

    def cancel(self, worker: WorkerBase | None) -> None:
        """Ask one job to stop at its next step."""
        if worker is None or worker not in self._jobs:
            return
        _, token = self._jobs[worker]
        if token is not None:
            token.set()
        worker.quit()

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Stop every job and wait for the threads; True if all ended in time."""
        self._closing = True
        for worker, (_, token) in list(self._jobs.items()):
            if token is not None:
                token.set()
            worker.quit()
        return QThreadPool.globalInstance().waitForDone(timeout_ms)
