"""Moving files to fix labels: logged, never overwriting, and undone bit for bit."""

import hashlib
import os

import pytest

from model.data.curate import CurationError, exclude, excluded_folder, move_to_class, moves, undo


def _tree(root):
    """Every file under ``root`` with its content's hash and mode: what 'bit for bit' means."""
    out = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                out[os.path.relpath(path, root)] = (
                    hashlib.sha256(handle.read()).hexdigest(),
                    os.stat(path).st_mode,
                )
    return out


@pytest.fixture
def dataset(tmp_path, make_dataset):
    return make_dataset(tmp_path / "photos", per_class=4)


def test_move_exclude_and_undo_restore_the_folder_exactly(dataset, tmp_path):
    run = tmp_path / "run"
    before = _tree(dataset)
    moved = move_to_class(dataset / "blue" / "1.png", dataset, "red", run)
    assert moved.target == str(dataset / "red" / "1-2.png")  # red/1.png is red's own
    assert not (dataset / "blue" / "1.png").exists()
    out = exclude(dataset / "green" / "2.jpg", dataset, run)
    assert out.target == str(excluded_folder(dataset) / "green" / "2.jpg")
    assert excluded_folder(dataset).parent.name == "_excluded"  # beside the dataset
    assert not str(out.target).startswith(str(dataset) + os.sep)  # training never sees it
    assert [m.action for m in moves(run)] == ["move", "exclude"]
    assert moved.sha256 == before["blue/1.png"][0]
    assert undo(run).id == 2 and undo(run).id == 1  # latest first
    assert _tree(dataset) == before
    assert all(m.undone for m in moves(run))
    with pytest.raises(CurationError, match="no such move"):
        undo(run)


def test_nothing_is_ever_overwritten(dataset, tmp_path):
    before = _tree(dataset)
    first = move_to_class(dataset / "blue" / "1.png", dataset, "red", tmp_path / "run")
    second = move_to_class(dataset / "green" / "1.png", dataset, "red", tmp_path / "run")
    assert first.target.endswith("red/1-2.png") and second.target.endswith("red/1-3.png")
    after = _tree(dataset)
    assert after["red/1.png"] == before["red/1.png"]  # the file already there is untouched
    assert after["red/1-2.png"] == before["blue/1.png"]
    assert after["red/1-3.png"] == before["green/1.png"]


def test_an_undo_refuses_a_file_changed_since_its_move(dataset, tmp_path):
    run = tmp_path / "run"
    move = move_to_class(dataset / "blue" / "0.jpg", dataset, "green", run)
    with open(move.target, "ab") as handle:
        handle.write(b"edited")
    with pytest.raises(CurationError, match="changed or gone"):
        undo(run)
    assert not (dataset / "blue" / "0.jpg").exists()  # nothing was put back over


def test_only_real_class_folders_and_files_inside_the_dataset(dataset, tmp_path):
    run = tmp_path / "run"
    with pytest.raises(CurationError, match="no class folder"):
        move_to_class(dataset / "blue" / "0.jpg", dataset, "../elsewhere", run)
    stranger = tmp_path / "stranger.jpg"
    stranger.write_bytes(b"x")
    with pytest.raises(CurationError, match="not inside the dataset"):
        exclude(stranger, dataset, run)
    assert moves(run) == []
