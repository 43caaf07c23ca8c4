"""The one way the window runs ``model`` work off the GUI thread.

Every job goes through :class:`WorkerHub`, on superqt's thread workers
(``FunctionWorker`` for a call, ``GeneratorWorker`` for a generator that yields
progress). The rules, kept here once instead of in each tab:

- A job may start under a **key**. A newer job under the same key supersedes the
  older one: the older's token is set and whatever it still delivers (values,
  result, error, end) is dropped, so a stale result never reaches a widget.
- **Cancellation** goes through one :class:`CancelToken` per job, which the job
  polls (``model`` functions take ``token.is_set``). A generator job is also
  stopped between yields.
- **Every failure** reaches one place: the caller's ``on_error``, or the hub's
  ``error`` signal. superqt treats a ``RuntimeError`` from a generator as a
  deleted worker and says nothing; torch raises exactly that, so the hub wraps it.
- On **shutdown**, jobs end themselves: a generator is closed in its own thread,
  so its ``finally`` blocks (a training run's cleanup) run there, not whenever
  the garbage collector finds it.
"""

from __future__ import annotations

import inspect
import itertools
import logging
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal
from superqt.utils import GeneratorWorker, WorkerBase, create_worker

from inception_gui.core.tokens import CancelToken

__all__ = ["CancelToken", "Job", "JobFailed", "WorkerHub"]

log = logging.getLogger(__name__)
_ids = itertools.count(1)


class JobFailed(Exception):
    """Carries a generator job's exception past superqt (which swallows RuntimeError)."""

    def __init__(self, original: BaseException) -> None:
        super().__init__(str(original))
        self.original = original


@dataclass(eq=False)
class Job:
    """A started job: its name, key, token, and the superqt worker under it."""

    name: str
    key: str | None
    token: CancelToken
    worker: WorkerBase | None = None
    id: int = field(default_factory=lambda: next(_ids))

    def cancel(self) -> None:
        """Ask the job to stop at its next step; it still reports its end."""
        self.token.set()


def _guarded(func: Callable[..., Any], token: CancelToken) -> Callable[..., Any]:
    """``func`` made safe for superqt: failures re-raised as JobFailed, generators closed here."""
    if inspect.isgeneratorfunction(func):

        def run_generator(*args: Any, **kwargs: Any) -> Iterator[Any]:
            generator = func(*args, **kwargs)
            try:
                for value in generator:
                    yield value
                    if token.is_set():
                        break
            except Exception as exc:
                raise JobFailed(exc) from exc
            finally:
                generator.close()  # the job's own finally blocks, in this thread

        return run_generator

    def run_function(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            raise JobFailed(exc) from exc

    return run_function


class WorkerHub(QObject):
    """Starts background jobs, drops superseded results, relays errors, stops all on close.

    Signals
    -------
    error(str, str)
        A job failed: its name and the message (the traceback goes to the log).
    """

    error = Signal(str, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs: dict[int, Job] = {}  # running jobs, superseded ones included
        self._latest: dict[str, Job] = {}  # the newest job of each key
        self._closing = False

    @property
    def running(self) -> list[str]:
        """Names of the jobs still running."""
        return [job.name for job in self._jobs.values()]

    def is_running(self, key: str) -> bool:
        """Whether the newest job under ``key`` is still running."""
        job = self._latest.get(key)
        return job is not None and job.id in self._jobs

    def start(
        self,
        name: str,
        func: Callable[..., Any],
        *args: Any,
        key: str | None = None,
        token: CancelToken | None = None,
        on_yield: Callable[[Any], None] | None = None,
        on_return: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        on_finish: Callable[[], None] | None = None,
        **kwargs: Any,
    ) -> Job | None:
        """Run ``func(*args, **kwargs)`` in the thread pool; None once the hub is closing.

        Parameters
        ----------
        name : str
            What the job is, for error messages ("Loading weights").
        key : str, optional
            A newer job under the same key supersedes this one (see the module doc).
        token : CancelToken, optional
            The job's cancel token, when ``func`` was handed it; otherwise one is made.
        on_yield, on_return, on_finish : callable, optional
            Called in the GUI thread with each yielded value, the return value,
            and when the job ends whatever the outcome; never for a superseded job.
        on_error : callable, optional
            Called with the exception instead of the hub's ``error`` signal.
        """
        if self._closing:
            return None
        job = Job(name, key, token or CancelToken())
        if key is not None:
            older = self._latest.get(key)
            if older is not None:
                older.cancel()
            self._latest[key] = job
        worker = create_worker(
            _guarded(func, job.token), *args, _start_thread=False, _ignore_errors=True, **kwargs
        )
        job.worker = worker
        self._jobs[job.id] = job
        live = lambda: self._is_live(job)  # noqa: E731
        if on_yield is not None and isinstance(worker, GeneratorWorker):
            worker.yielded.connect(lambda value: live() and on_yield(value))
        if on_return is not None:
            worker.returned.connect(lambda value: live() and on_return(value))
        worker.errored.connect(lambda exc: self._on_worker_errored(job, exc, on_error))
        worker.finished.connect(lambda: self._on_worker_finished(job, on_finish))
        worker.start()
        return job

    def _is_live(self, job: Job) -> bool:
        """Whether ``job``'s news may reach widgets: not closing, not superseded."""
        return not self._closing and (job.key is None or self._latest.get(job.key) is job)

    def _on_worker_errored(
        self, job: Job, exc: BaseException, handler: Callable[[BaseException], None] | None
    ) -> None:
        exc = exc.original if isinstance(exc, JobFailed) else exc
        if handler is not None:
            log.info("%s: %s", job.name, exc)  # expected failures, handled by the caller
            if self._is_live(job):
                handler(exc)
            return
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        log.error("%s failed:\n%s", job.name, text)
        if self._is_live(job):
            self.error.emit(job.name, str(exc) or type(exc).__name__)

    def _on_worker_finished(self, job: Job, on_finish: Callable[[], None] | None) -> None:
        live = self._is_live(job)
        self._jobs.pop(job.id, None)
        if job.key is not None and self._latest.get(job.key) is job:
            del self._latest[job.key]  # nothing left to supersede
        job.worker = None  # its arguments (a classifier, images) are not kept alive
        if on_finish is not None and live:
            on_finish()

    def drop(self, key: str) -> None:
        """Stop the newest job under ``key`` and drop what it would still deliver."""
        job = self._latest.pop(key, None)
        if job is not None:
            job.cancel()

    def cancel(self, job: Job | None) -> None:
        """Ask one job to stop at its next step."""
        if job is not None:
            job.cancel()

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Stop every job and wait for the threads; True if all ended in time.

        Jobs end themselves through their tokens: a generator is closed in its own
        thread, so its ``finally`` blocks run before the pool drains.
        """
        self._closing = True
        for job in list(self._jobs.values()):
            job.cancel()
        return QThreadPool.globalInstance().waitForDone(timeout_ms)
