"""Outside names stay text: no markup, no spreadsheet formulas, no terminal escapes (item 11)."""

import csv
import shutil

import pytest

FORMULAS = ['=HYPERLINK("http://x","y")', "@SUM(1+1)", "+1+1", "-1+1", "\tx", "\rx"]


def test_csv_cells_that_a_spreadsheet_would_run_are_prefixed(tmp_path):
    from inception_gui.classify.jobs import ClassifiedImage, write_predictions_csv

    items = [
        ClassifiedImage(name, ((name, 0, 0.9), ("cat", 1, 0.1)), None, None, None)
        for name in FORMULAS
    ]
    items.append(ClassifiedImage("=bad.png", (), "=cmd|' /C calc'!A0", None, None))
    path = tmp_path / "out.csv"
    write_predictions_csv(path, items, k=2)
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))[1:]
    for row, name in zip(rows, FORMULAS):
        assert row[0] == row[2] == "'" + name
        assert row[5] == "cat"  # ordinary names are left alone
    assert rows[-1][:2] == ["'=bad.png", "'=cmd|' /C calc'!A0"]


def test_the_classify_cli_prints_escapes_and_newlines_escaped(
    tmp_path, tiny_checkpoint, sample_images, capsys
):
    from inception_gui.cli import main
    from model import read_checkpoint, save_checkpoint

    ckpt = read_checkpoint(tiny_checkpoint)
    names = ("\x1b]0;pwned\x07", "two\nlines", "plain")
    weights = save_checkpoint(
        type(ckpt)(**{**ckpt.__dict__, "class_names": names}), tmp_path / "w.safetensors"
    )
    photo = tmp_path / "photo\x1b[31mred\n.png"
    shutil.copy(sample_images[1], photo)
    assert main(["classify", "--weights", str(weights), "--precision", "fp32", str(photo)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b]0;pwned\\x07" in out and "two\\nlines" in out
    assert "photo\\x1b[31mred\\n.png\n" in out
    assert len(out.splitlines()) == 4  # the path and three ranks, nothing forged


@pytest.mark.parametrize("name", ["<img src=x><u>U.safetensors"])
def test_the_top_bar_shows_a_weights_name_as_text(window, qtbot, tmp_path, tiny_checkpoint, name):
    odd = tmp_path / name
    shutil.copy(tiny_checkpoint, odd)
    with qtbot.waitSignal(window.session.ready, timeout=60_000):
        window.session.load(str(odd))
    text = window.weights_label.text()
    assert "&lt;img src=x&gt;&lt;u&gt;U.safetensors" in text and "<img" not in text


NAME = "<img src=x><u>U"


def _shown(label):
    """What a label draws: its text as written, or the text of its markup when read as rich."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QTextDocument

    text, kind = label.text(), label.textFormat()
    if kind == Qt.TextFormat.PlainText or (
        kind == Qt.TextFormat.AutoText and not Qt.mightBeRichText(text)
    ):
        return text
    doc = QTextDocument()
    doc.setHtml(text)
    return doc.toPlainText()


def test_every_label_that_shows_an_outside_name_shows_it_as_written(
    window, qtbot, tmp_path, tiny_checkpoint, sample_images
):
    from PySide6.QtGui import QTextDocument
    from PySide6.QtWidgets import QMessageBox

    from inception_gui.menus import about_text
    from inception_gui.widgets.formatting import as_written
    from model import read_checkpoint, save_checkpoint

    ckpt = read_checkpoint(tiny_checkpoint)
    named = type(ckpt)(**{**ckpt.__dict__, "class_names": (NAME, "square", "triangle")})
    weights = save_checkpoint(named, tmp_path / f"{NAME}.safetensors")
    with qtbot.waitSignal(window.session.ready, timeout=60_000):
        window.session.load(str(weights))
    assert f"{NAME}.safetensors" in _shown(window.weights_label)
    assert f"Ready: {NAME}.safetensors" in _shown(window.status_label)
    about = QTextDocument()
    about.setHtml(about_text(window))
    assert f"Using: {NAME}.safetensors" in about.toPlainText()

    photo = tmp_path / f"{NAME}.png"
    shutil.copy(sample_images[1], photo)
    tab = window.classify_tab
    tab.classify([str(photo)])
    qtbot.waitUntil(lambda: tab.results.rowCount() == 1 and tab._worker is None, timeout=60_000)
    tab.table.selectRow(0)
    qtbot.waitUntil(lambda: _shown(tab.preview.caption).startswith(str(photo)), timeout=10_000)
    tab.picture.set_picture(None, f"{photo}: the file is truncated")  # a preview that failed
    assert _shown(tab.picture) == f"{photo}: the file is truncated"

    window.show_status(f"Saved 1 rows to {photo}")
    assert _shown(window.status_label) == f"Saved 1 rows to {photo}"
    window.train_tab._cannot_start(f"'{tmp_path / NAME}' already holds a training run")
    assert NAME in _shown(window.train_tab.progress_label)
    window.explorer_tab.features.show_message(f"No feature maps: {photo}: unreadable")
    assert _shown(window.explorer_tab.features.header) == f"No feature maps: {photo}: unreadable"
    window._report("Weights", f"{photo}: not a weights file")  # the error relay's box
    [box] = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    assert _shown(box) == f"{photo}: not a weights file"
    box.close()
    # Message boxes and input dialogs guess the format: their text goes through as_written.
    for text in (NAME, f"Move {NAME}.png from '{NAME}' to:", "a & b < c\n\nnext <b>line</b>"):
        doc = QTextDocument()
        doc.setHtml(as_written(text))
        assert doc.toPlainText() == text
