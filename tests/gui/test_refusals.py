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


def test_show_in_folder_without_a_file_manager_says_so(window, qtbot, tmp_path, monkeypatch):
    from types import SimpleNamespace

    from inception_gui.train import mistakes_dialog

    photo = tmp_path / "cat.png"
    photo.write_bytes(b"not looked at")
    missing = str(tmp_path / "no-such-xdg-open")
    monkeypatch.setattr(
        mistakes_dialog.mistakes, "reveal_in_file_manager_command", lambda p: [missing, str(p)]
    )
    done = SimpleNamespace(
        class_names=("cat", "dog"),
        val_samples=[(str(photo), 0, 1, 2.5)],
        best_checkpoint=None,
        last_checkpoint=None,
    )
    dialog = mistakes_dialog.MistakesDialog(window.hub, done, 0, 1, window)
    qtbot.addWidget(dialog)
    dialog.reveal_button.click()
    assert window.last_error is not None
    title, message = window.last_error
    assert title == "Show in folder"
    assert "no-such-xdg-open is not installed" in message and str(photo) in message
