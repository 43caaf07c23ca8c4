"""Faults during training: refused up front, or one line naming the file (item 9).

A folder that cannot be written is refused before any image is read; a full disk
stops the run and keeps the checkpoint written before; an image deleted or replaced
mid-run is skipped, named once and counted, and the run goes on.
"""

import errno
import os
import shutil

import pytest

from model.training.engine import EpochEnd, ImageSkipped, TrainingDone, TrainingError, train

NO_SPACE = os.strerror(errno.ENOSPC)


def test_a_read_only_out_folder_is_refused_before_the_dataset_check(
    tmp_path, colours, head_config, monkeypatch
):
    from model.training.run_lock import LOCK_NAME

    out = tmp_path / "locked" / "run"
    out.mkdir(parents=True)
    if os.geteuid() != 0:
        out.chmod(0o555)
    else:  # root writes anywhere: the file system says no instead, as a read-only mount would
        real_open = os.open

        def read_only(path, *args, **kwargs):
            if os.fspath(path).endswith(LOCK_NAME):
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fspath(path))
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr(os, "open", read_only)
    events = train(head_config(colours, out, epochs=1))
    with pytest.raises(TrainingError, match=f"cannot write to the run folder '{out}' \\("):
        next(events)  # the first event would be the dataset check's: nothing was read
    out.chmod(0o755)
    assert list(out.iterdir()) == []


def _disk_fills_on_second_write(monkeypatch, which):
    """The second write of ``last`` (safetensors) or of the state (torch.save) finds no space."""
    import safetensors.torch
    import torch
    from safetensors import SafetensorError

    module, name = (safetensors.torch, "save_file") if which == "last" else (torch, "save")
    real, calls = getattr(module, name), []

    def fill(*args, **kwargs):
        calls.append(1)
        if len(calls) < 2:
            return real(*args, **kwargs)
        if which == "last":  # as safetensors words it
            raise SafetensorError(f"Error while serializing: I/O error: {NO_SPACE} (os error 28)")
        try:  # as torch's writer does: the OSError inside, a RuntimeError out
            raise OSError(errno.ENOSPC, NO_SPACE)
        except OSError:
            raise RuntimeError("[enforce fail at inline_container.cc:672] unexpected pos") from None

    monkeypatch.setattr(module, name, fill)


@pytest.mark.parametrize(
    ("which", "name"), [("last", "last.safetensors"), ("state", "last.state.pt")]
)
def test_a_full_disk_stops_the_run_in_one_line_and_keeps_the_earlier_checkpoint(
    tmp_path, colours, backbone, monkeypatch, capsys, which, name
):
    from inception_gui.cli import main
    from model import read_checkpoint

    _disk_fills_on_second_write(monkeypatch, which)
    out = tmp_path / "run"
    args = ["train", str(colours), "--weights", str(backbone), "--input-size", "75"]
    args += ["--batch-size", "4", "--epochs", "3", "--lr", "1e-5", "--out", str(out)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    [line] = [ln for ln in err.splitlines() if ln.startswith("inception-gui: error:")]
    assert f"cannot write '{out / name}' ({NO_SPACE}), so the run stopped at epoch 2" in line
    assert f"the last saved checkpoint, '{out / 'last.safetensors'}', is kept" in line
    kept = read_checkpoint(out / "last.safetensors").training["epoch"]
    assert kept == (1 if which == "last" else 2)  # a state write failing comes after last's
    assert not list(out.glob(".*.tmp"))  # the half-written file is gone


def _copy(colours, tmp_path):
    return shutil.copytree(colours, tmp_path / "data")  # the fixture's folder stays untouched


def test_an_image_replaced_by_garbage_mid_run_is_skipped_named_and_counted(
    tmp_path, colours, head_config
):
    data = _copy(colours, tmp_path)
    victim = data / "green" / "1.png"
    events = []
    for event in train(head_config(data, tmp_path / "run", epochs=3, cache_features=False)):
        events.append(event)
        if isinstance(event, EpochEnd) and event.epoch == 1:
            victim.write_bytes(b"not a picture any more" * 10)
    skipped = [e for e in events if isinstance(e, ImageSkipped)]
    assert [(e.path, e.epoch, e.skipped) for e in skipped] == [(str(victim), 2, 1)]  # said once
    assert "not an image in a supported format" in skipped[0].reason
    done = events[-1]
    assert isinstance(done, TrainingDone) and done.epochs_run == 3 and not done.cancelled
    assert done.unreadable == ((str(victim), skipped[0].reason),)


def test_a_class_folder_deleted_mid_run_is_skipped_and_the_run_goes_on(
    tmp_path, colours, head_config
):
    data = _copy(colours, tmp_path)
    green = sorted(str(p) for p in (data / "green").iterdir())
    events = []
    for event in train(head_config(data, tmp_path / "run", epochs=2)):  # features cached
        events.append(event)
        if len(events) == 1:  # the check has passed; the features are not cached yet
            shutil.rmtree(data / "green")
    skipped = [e for e in events if isinstance(e, ImageSkipped)]
    assert sorted(e.path for e in skipped) == green
    assert {e.reason for e in skipped} == {"no such file"}
    assert [e.skipped for e in skipped] == list(range(1, 7))
    done = events[-1]
    assert done.epochs_run == 2 and len(done.unreadable) == 6
    assert (tmp_path / "run" / "last.safetensors").is_file()


def test_the_cli_names_a_skipped_file_in_one_line_and_counts_it(
    tmp_path, colours, backbone, monkeypatch, capsys
):
    import model.data.folders as folders
    from inception_gui.cli import main
    from model.errors import ImageLoadError

    gone = str(colours / "red" / "2.jpg")
    real = folders.load_image

    def deleted_after_the_check(path, *args, **kwargs):  # the check opens, training loads
        if str(path) == gone:
            raise ImageLoadError(path, "no such file")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(folders, "load_image", deleted_after_the_check)
    args = ["train", str(colours), "--weights", str(backbone), "--input-size", "75"]
    args += ["--batch-size", "4", "--epochs", "1", "--out", str(tmp_path / "run")]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.count(gone) == 1
    assert f"skipped (unreadable since the check): {gone}: no such file\n" in out
    assert "1 file(s) could not be read during the run and were skipped" in out
