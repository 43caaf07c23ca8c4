"""Near-copies on request in the Train tab: a leak across the split is named (issue 15)."""

import shutil

from PIL import Image, ImageDraw


def _picture(rgb, i):
    """Image ``i`` of a class: its colour, a white patch moved by 6i px, so each differs."""
    img = Image.new("RGB", (64, 64), rgb)
    ImageDraw.Draw(img).rectangle((6 * i, 4, 6 * i + 12, 20), fill=(255, 255, 255))
    return img


def test_check_for_near_copies_names_the_leak(window, qtbot, tmp_path, make_dataset, backbone_file):
    data = make_dataset(tmp_path / "data", per_class=5, draw=_picture, formats=("png",))
    val = tmp_path / "val"
    for name, rgb in {"blue": (30, 40, 220), "green": (30, 200, 40), "red": (220, 30, 30)}.items():
        (val / name).mkdir(parents=True)
        for i in (7, 8):  # pictures of their own
            _picture(rgb, i).save(val / name / f"{i}.png")
    shutil.copy(data / "green" / "3.png", val / "green" / "copied.png")  # a leak
    tab = window.train_tab
    form = tab.settings
    form.start_file = str(backbone_file)  # as if chosen in "A weights file…"
    form.start_from.setCurrentIndex(form.start_from.findData("file"))
    form.input_size.setValue(75)
    assert not tab.copies.button.isEnabled()  # nothing checked yet
    tab.folder_edit.setText(str(data))
    tab.val_edit.setText(str(val))
    tab.out_edit.setText(str(tmp_path / "run"))
    tab.check_folder()
    qtbot.waitUntil(tab.copies.button.isEnabled, timeout=30_000)
    assert tab.copies.result.isHidden()  # the dataset check computes no features

    tab.copies.button.click()
    qtbot.waitUntil(lambda: "near-cop" in tab.copies.result.toPlainText(), timeout=120_000)
    text = tab.copies.result.toPlainText()
    # The copy comes first (1.000); the random test backbone finds its neighbours alike too.
    assert "between training and validation" in text, text
    first_pair = next(line for line in text.splitlines() if " = " in line)
    assert first_pair == "green/3.png = val/green/copied.png (1.000)", text
    assert tab.copies.button.isEnabled()

    tab.check_folder()  # a new check: the pairs found for the old one are not shown with it
    qtbot.waitUntil(lambda: tab.copies.result.isHidden(), timeout=30_000)

    # Random weights' features would call everything a copy: without ImageNet, it says so.
    form.start_from.setCurrentIndex(form.start_from.findData("none"))
    qtbot.waitUntil(tab.copies.button.isEnabled, timeout=30_000)
    tab.copies.button.click()
    assert "download the ImageNet weights" in tab.copies.result.toPlainText()
