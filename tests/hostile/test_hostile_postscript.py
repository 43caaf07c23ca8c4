"""PostScript named as an image is refused before any decoder sees it (issue 14, item 1)."""

import re

import pytest

from model.data.images import ImageLoadError

UNSUPPORTED = "not an image in a supported format"


def test_load_image_refuses_postscript_named_jpg(postscript, decoder_spy):
    from model.data.images import load_image

    with pytest.raises(ImageLoadError, match=UNSUPPORTED) as caught:
        load_image(postscript())
    assert caught.value.path.endswith("x.jpg")
    assert decoder_spy == {"eps_open": 0, "ghostscript": 0, "open_without_formats": 0}


def test_every_reader_refuses_postscript(postscript, decoder_spy):
    """The dataset check, feature caching/explain, GUI drops and previews: none opens it."""
    from inception_gui.classify.jobs import preview_job
    from inception_gui.core.pictures import pictures
    from model import Preprocess
    from model.data.folders import probe_image
    from model.inference.features import prepare_image

    path = postscript()
    assert UNSUPPORTED in probe_image(path)
    with pytest.raises(ImageLoadError, match=UNSUPPORTED):
        prepare_image(Preprocess.for_size(96), path)
    assert pictures(path, 64) == (None, None)
    with pytest.raises(ImageLoadError, match=UNSUPPORTED):
        preview_job(path)
    assert decoder_spy == {"eps_open": 0, "ghostscript": 0, "open_without_formats": 0}


def test_classify_prints_good_photos_beside_postscript(
    tmp_path, postscript, decoder_spy, sample_images, tiny_checkpoint, capsys
):
    from inception_gui.cli import main

    folder = tmp_path / "photos"
    bad = postscript(folder)
    for src in sample_images:
        (folder / src.name).write_bytes(src.read_bytes())
    assert (
        main(["classify", "--weights", str(tiny_checkpoint), "--precision", "fp32", str(folder)])
        == 1
    )
    out = capsys.readouterr().out
    assert f"{bad}\n   error: {UNSUPPORTED}" in out
    for src in sample_images:
        assert re.search(rf"{re.escape(str(folder / src.name))}\n   1\. \w+", out)
    assert decoder_spy == {"eps_open": 0, "ghostscript": 0, "open_without_formats": 0}


def test_dataset_check_counts_postscript_as_unreadable(
    tmp_path, postscript, make_dataset, decoder_spy
):
    from model.data.folders import check_dataset

    root = make_dataset(tmp_path / "data", per_class=3)
    bad = postscript(root / "red", "evil.png")
    report = check_dataset(root)
    assert UNSUPPORTED in dict(report.unreadable)[str(bad)]
    assert sum(report.train_counts.values()) + sum(report.val_counts.values()) == 9
    assert decoder_spy["eps_open"] == decoder_spy["ghostscript"] == 0


def test_the_file_dialogs_offer_exactly_the_loaders_suffixes():
    from inception_gui.widgets.common import image_filter
    from model.data.images import IMAGE_FORMATS, IMAGE_SUFFIXES

    images, everything = image_filter().split(";;")
    offered = re.fullmatch(r"Images \((.*)\)", images).group(1).split()
    assert sorted(offered) == sorted(f"*{s}" for s in IMAGE_SUFFIXES)
    assert everything == "All files (*)"
    # Every suffix names a format Pillow registers under it, so the list cannot drift either.
    from PIL import Image

    registered = Image.registered_extensions()
    for fmt, suffixes in IMAGE_FORMATS.items():
        for suffix in suffixes:
            assert registered[suffix] == fmt


def test_the_classify_tab_open_dialog_uses_that_filter(window):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QFileDialog

    from inception_gui.widgets.common import image_filter

    seen = []

    def look_and_close():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QFileDialog):
            QTimer.singleShot(50, look_and_close)
            return
        seen.append(";;".join(dialog.nameFilters()))
        dialog.reject()

    QTimer.singleShot(0, look_and_close)
    window.classify_tab._on_open_clicked()
    assert seen == [image_filter()]


def test_no_image_open_without_formats_in_the_source():
    """A static guard beside the runtime spy: ``Image.open(`` only inside open_image."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    calls = [
        f"{path.relative_to(root)}:{n}"
        for package in ("model", "inception_gui")
        for path in sorted((root / package).rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "Image.open(" in line
        and "formats=" not in line
        and not line.lstrip().startswith(("#", '"""', "``"))
    ]
    assert calls == []
