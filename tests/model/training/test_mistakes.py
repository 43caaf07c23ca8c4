"""Mistakes review: a confusion-matrix cell's images, their top-5, revealing a file."""

import pytest
from PIL import Image

from model import cell_samples, load_classifier, reveal_in_file_manager_command, top5_for

VAL_SAMPLES = (  # as TrainingDone.val_samples: (path, true, predicted, loss)
    ("/data/cat/1.jpg", 0, 0, 0.10),
    ("/data/cat/2.jpg", 0, 1, 2.30),
    ("/data/cat/3.jpg", 0, 1, 0.90),
    ("/data/dog/4.jpg", 1, 0, 1.70),
    ("/data/dog/5.jpg", 1, 1, 0.20),
    ("/data/cat/6.jpg", 0, 1, 2.30),
)


def _confusion(samples, n=2):
    matrix = [[0] * n for _ in range(n)]
    for _path, true, predicted, _loss in samples:
        matrix[true][predicted] += 1
    return matrix


def test_cell_lists_exactly_its_images_by_loss():
    cell = cell_samples(VAL_SAMPLES, true_index=0, predicted_index=1)
    assert [s.path for s in cell] == ["/data/cat/2.jpg", "/data/cat/6.jpg", "/data/cat/3.jpg"]
    assert cell[0] == ("/data/cat/2.jpg", 0, 1, 2.30)  # a plain tuple too
    matrix = _confusion(VAL_SAMPLES)
    for true in range(2):
        for predicted in range(2):
            members = cell_samples(VAL_SAMPLES, true, predicted)
            assert len(members) == matrix[true][predicted]
            assert all(s.true_index == true and s.predicted_index == predicted for s in members)
    assert cell_samples(VAL_SAMPLES, 1, 5) == []


def test_top5_for_reports_moved_files(tiny_checkpoint, sample_images, tmp_path):
    clf = load_classifier(tiny_checkpoint, device="cpu", precision="fp32")
    gone = tmp_path / "moved.jpg"
    results = top5_for(clf, [sample_images[0], gone])
    assert len(results) == 2 and results[0].ok and len(results[0]) == 3  # 3 classes only
    assert not results[1].ok and "no such file" in results[1].error
    assert not gone.exists()


@pytest.mark.parametrize(
    ("platform", "expected"),
    [
        ("linux", ["xdg-open", "/photos/cats"]),
        ("darwin", ["open", "-R", "/photos/cats/a b.jpg"]),
        ("win32", ["explorer", "/select,", "/photos/cats/a b.jpg"]),
    ],
)
def test_reveal_command_per_platform(platform, expected):
    assert reveal_in_file_manager_command("/photos/cats/a b.jpg", platform) == expected


def test_reveal_command_is_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Image.new("RGB", (4, 4)).save(tmp_path / "x.png")
    assert reveal_in_file_manager_command("x.png", "linux") == ["xdg-open", str(tmp_path)]
