"""Every failure of a GUI job reaches the error relay and the tab goes back to idle (item 4)."""

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent


def _failing_generator(error):
    yield "first step"
    raise error


@pytest.mark.parametrize(
    "error",
    [RuntimeError("CUDA out of memory"), ValueError("bad value")],
    ids=["RuntimeError", "ValueError"],
)
def test_a_generator_job_failure_reaches_the_relay_and_finishes(qtbot, error):
    from inception_gui.core.workers import WorkerHub

    hub = WorkerHub()
    finished, yielded = [], []
    with qtbot.waitSignal(hub.error, timeout=5_000) as relayed:
        hub.start(
            "Classifying images",
            _failing_generator,
            error,
            on_yield=yielded.append,
            on_finish=lambda: finished.append(True),
        )
    qtbot.waitUntil(lambda: finished == [True], timeout=5_000)
    assert relayed.args == ["Classifying images", str(error)]
    assert yielded == ["first step"] and hub.running == []
    hub.shutdown()


def test_a_job_error_handler_gets_the_original_exception(qtbot):
    from inception_gui.core.workers import WorkerHub

    hub = WorkerHub()
    error = RuntimeError("mat1 and mat2 shapes cannot be multiplied")
    handled = []
    hub.start("Training", _failing_generator, error, on_error=handled.append)
    qtbot.waitUntil(lambda: handled == [error] and not hub.running, timeout=5_000)
    hub.shutdown()


def _drop(widget, paths):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    widget.dropEvent(event)


def test_a_torch_error_while_classifying_leaves_the_tab_idle(
    window, qtbot, monkeypatch, sample_images
):
    tab = window.classify_tab
    classifier = window.session.classifier()

    def out_of_memory(batch):
        raise RuntimeError("DefaultCPUAllocator: not enough memory: you tried to allocate 35 GB")

    monkeypatch.setattr(classifier, "logits", out_of_memory)
    with qtbot.waitSignal(window.hub.error, timeout=30_000) as relayed:
        _drop(tab, sample_images[:1])
        _drop(tab, sample_images[1:2])  # queued behind the failing batch
    assert relayed.args[0] == "Classifying images" and "35 GB" in relayed.args[1]
    monkeypatch.undo()
    # The queued drop runs once the failed batch has ended, and the tab is idle after it.
    qtbot.waitUntil(lambda: tab.results.rowCount() == 1 and tab._worker is None, timeout=30_000)
    assert tab.results.item(0).source == str(sample_images[1])
    assert not tab.progress.isVisible() and not tab.cancel_button.isVisible()
