"""FIFOs and device files are refused by name, never opened (issue 14, items 5 and 12)."""

import contextlib
import os
import re

import pytest

from model import CheckpointError, ImageLoadError

FIFO = "is a named pipe (FIFO)"


def test_a_fifo_named_as_an_image_is_refused(tmp_path, fifo, within):
    from model.data.images import load_image

    pipe = fifo(tmp_path / "x.jpg")
    with pytest.raises(ImageLoadError, match=re.escape(f"x.jpg: {FIFO}, not an image file")):
        within(5, lambda: load_image(pipe), pipe)


def test_a_device_is_named_as_one_not_as_an_empty_file():
    from model.data.images import load_image

    with pytest.raises(ImageLoadError, match="/dev/zero: is a character device"):
        load_image("/dev/zero")


def test_classify_prints_good_photos_beside_a_fifo(
    tmp_path, fifo, within, sample_images, tiny_checkpoint, capsys
):
    from inception_gui.cli import main

    folder = tmp_path / "photos"
    pipe = fifo(folder / "x.jpg")
    for src in sample_images:
        (folder / src.name).write_bytes(src.read_bytes())
    args = ["classify", "--weights", str(tiny_checkpoint), "--precision", "fp32", str(folder)]
    assert within(60, lambda: main(args), pipe) == 1
    out = capsys.readouterr().out
    assert f"{pipe}\n   error: {FIFO}, not an image file" in out
    assert all(f"{folder / src.name}\n   1. " in out for src in sample_images)


def test_the_dataset_check_names_a_fifo_in_a_class_folder(tmp_path, fifo, within, make_dataset):
    from model.data.folders import check_dataset

    root = make_dataset(tmp_path / "data", per_class=3)
    pipe = fifo(root / "red" / "9.jpg")
    report = within(30, lambda: check_dataset(root), pipe)
    assert dict(report.unreadable) == {str(pipe): f"{FIFO}, not an image file"}


@pytest.mark.parametrize("name", ["x.pth", "x.safetensors"])
def test_fifo_weights_are_refused_at_once(tmp_path, fifo, within, name):
    from model.weights.loading import load_network

    pipe = fifo(tmp_path / name)
    with pytest.raises(CheckpointError, match=re.escape(f"{name}: {FIFO}, not a weights file")):
        within(5, lambda: load_network(str(pipe)), pipe)


def test_the_cli_refuses_fifo_weights(tmp_path, fifo, within, sample_images, capsys):
    from inception_gui.cli import main

    pipe = fifo(tmp_path / "x.pth")
    args = ["classify", "--weights", str(pipe), str(sample_images[0])]
    assert within(20, lambda: main(args), pipe) == 2
    assert f"{pipe}: {FIFO}, not a weights file" in capsys.readouterr().err


def test_resume_from_a_fifo_state_is_refused(tmp_path, fifo, within):
    from model.training.engine import TrainingError, load_resume_state

    pipe = fifo(tmp_path / "run" / "last.state.pt")
    with pytest.raises(TrainingError, match=re.escape(f"{FIFO}, not a training state file")):
        within(5, lambda: load_resume_state(str(tmp_path / "run")), pipe)


def test_the_window_reports_fifo_weights_and_stays_usable(window, qtbot, tmp_path, fifo):
    pipe = fifo(tmp_path / "x.pth")
    try:
        with qtbot.waitSignal(window.session.failed, timeout=10_000) as failed:
            window.session.load(str(pipe))
        qtbot.waitUntil(lambda: not window.hub.running, timeout=5_000)
    finally:  # a hang: open the other end, so the blocked thread ends with the test
        with contextlib.suppress(OSError):
            os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
    assert failed.args == [f"{pipe}: {FIFO}, not a weights file"]
