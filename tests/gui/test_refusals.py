"""What the window says after something is refused or fails: the truth, and only while true."""

import pytest


def test_a_refused_precision_reverts_in_its_combo(window, qtbot):
    import torch

    if torch.cuda.is_available():
        pytest.skip("fp16 runs on CUDA; this is about a CPU that refuses it")
    combo = window.precision_combo
    before = combo.currentData()
    combo.setCurrentIndex(combo.findData("fp16"))
    with qtbot.waitSignal(window.session.ready, timeout=60_000):
        combo.activated.emit(combo.currentIndex())
    assert combo.currentData() == before == window.session.precision
