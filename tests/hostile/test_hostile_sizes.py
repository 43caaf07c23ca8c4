"""Strips of 100000 x 1 pixels are refused per file; the good images go on (item 6)."""

import pytest
from PIL import Image

from model import ImageLoadError

STRIP = "too thin a strip to classify"


@pytest.fixture
def strips(tmp_path):
    """A 100000 x 1 and a 1 x 100000 PNG (a few hundred bytes each)."""
    paths = []
    for size in ((100_000, 1), (1, 100_000)):
        path = tmp_path / "photos" / f"strip_{size[0]}x{size[1]}.png"
        path.parent.mkdir(exist_ok=True)
        Image.new("RGB", size, (200, 30, 30)).save(path)
        paths.append(path)
    return paths


def test_load_image_refuses_a_strip_by_size(strips):
    from model.data.images import load_image

    for path in strips:
        with pytest.raises(ImageLoadError, match=f"{path.name}: is .* pixels: .*{STRIP}"):
            load_image(path, target_size=342)


def test_a_100_to_1_image_is_still_read(tmp_path):
    from model.data.images import load_image

    path = tmp_path / "panorama.png"
    Image.new("RGB", (1000, 10)).save(path)
    assert load_image(path).size == (1000, 10)


def test_classify_prints_the_good_images_beside_strips(
    strips, sample_images, tiny_checkpoint, capsys
):
    from inception_gui.cli import main

    folder = strips[0].parent
    for src in sample_images:
        (folder / src.name).write_bytes(src.read_bytes())
    args = ["classify", "--weights", str(tiny_checkpoint), "--precision", "fp32", str(folder)]
    assert main(args) == 1
    out = capsys.readouterr().out
    for path in strips:
        assert f"{path}\n   error: is " in out and STRIP in out
    assert all(f"{folder / src.name}\n   1. " in out for src in sample_images)


def test_a_pasted_strip_is_refused_too(tiny_checkpoint):
    from model import load_classifier

    clf = load_classifier(str(tiny_checkpoint), precision="fp32")
    strip, good = clf.predict([Image.new("RGB", (100_000, 1)), Image.new("RGB", (120, 90))])
    assert not strip.ok and STRIP in strip.error and good.ok


def test_the_dataset_check_and_gui_thumbnails_refuse_strips(strips, make_dataset, tmp_path):
    from inception_gui.core.pictures import pictures
    from model.data.folders import check_dataset

    root = make_dataset(tmp_path / "data", per_class=3)
    (root / "red" / "strip.png").write_bytes(strips[0].read_bytes())
    report = check_dataset(root)
    assert [p for p, _ in report.unreadable] == [str(root / "red" / "strip.png")]
    assert STRIP in report.unreadable[0][1]
    assert pictures(strips[1], 64) == (None, None)
