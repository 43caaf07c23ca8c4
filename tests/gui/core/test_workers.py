"""The one job mechanism: keys supersede, every failure is relayed, shutdown closes generators."""

import threading
import time

import pytest

from inception_gui.core.workers import WorkerHub


@pytest.fixture
def hub(qtbot):
    hub = WorkerHub()
    yield hub
    hub.shutdown(5_000)


def _slow(value, seconds):
    time.sleep(seconds)
    return value


def test_a_newer_job_under_the_same_key_supersedes_the_older(hub, qtbot):
    got, finished = [], []
    hub.start(
        "old",
        _slow,
        "old",
        0.5,
        key="k",
        on_return=got.append,
        on_finish=lambda: finished.append("old"),
    )
    hub.start(
        "new",
        _slow,
        "new",
        0.05,
        key="k",
        on_return=got.append,
        on_finish=lambda: finished.append("new"),
    )
    qtbot.waitUntil(lambda: not hub.running, timeout=10_000)
    assert got == ["new"]  # the older result, which came last, never arrived
    assert finished == ["new"]


def test_jobs_under_other_keys_all_deliver(hub, qtbot):
    got = []
    for key in ("a", "b", None):
        hub.start(str(key), _slow, key, 0.05, key=key, on_return=got.append)
    qtbot.waitUntil(lambda: not hub.running, timeout=10_000)
    assert sorted(got, key=str) == sorted(["a", "b", None], key=str)


def test_dropping_a_key_discards_the_job_under_way(hub, qtbot):
    got = []
    hub.start("check", _slow, "stale", 0.3, key="check", on_return=got.append)
    hub.drop("check")
    qtbot.waitUntil(lambda: not hub.running, timeout=10_000)
    assert got == []


def _torch_like_failure():
    yield 1
    raise RuntimeError("CUDA out of memory (as torch says it)")


def test_a_runtime_error_in_a_generator_reaches_the_relay_and_the_end(hub, qtbot):
    """superqt takes a generator's RuntimeError for a deleted worker and says nothing."""
    finished = []
    with qtbot.waitSignal(hub.error, timeout=10_000) as relayed:
        hub.start(
            "Classifying images",
            _torch_like_failure,
            on_yield=lambda v: None,
            on_finish=lambda: finished.append(True),
        )
    assert relayed.args == ["Classifying images", "CUDA out of memory (as torch says it)"]
    qtbot.waitUntil(lambda: finished == [True], timeout=10_000)
    assert not hub.running


def test_a_failure_goes_to_the_callers_handler_instead(hub, qtbot):
    errors = []

    def fail():
        raise RuntimeError("no")

    hub.start("job", fail, on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=10_000)
    assert isinstance(errors[0], RuntimeError) and str(errors[0]) == "no"


def test_shutdown_closes_a_generator_in_its_own_thread(qtbot):
    hub = WorkerHub()
    started, cleanup = threading.Event(), {}

    def endless():
        try:
            while True:
                started.set()
                yield 0
                time.sleep(0.01)
        finally:
            cleanup["thread"] = threading.current_thread()

    hub.start("endless", endless, on_yield=lambda v: None)
    assert started.wait(10)
    assert hub.shutdown(10_000)
    assert "thread" in cleanup  # the finally block ran before the pool drained ...
    assert cleanup["thread"] is not threading.main_thread()  # ... in the worker's thread


def test_a_cancelled_job_stops_at_its_next_step(hub, qtbot):
    seen = []

    def counting():
        for i in range(1000):
            yield i
            time.sleep(0.01)

    job = hub.start("count", counting, on_yield=seen.append)
    qtbot.waitUntil(lambda: len(seen) >= 2, timeout=10_000)
    hub.cancel(job)
    qtbot.waitUntil(lambda: not hub.running, timeout=10_000)
    assert len(seen) < 1000
