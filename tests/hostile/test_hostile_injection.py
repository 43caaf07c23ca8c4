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
