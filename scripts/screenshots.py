"""Make the README's screenshots: docs/classify.png, docs/explorer.png, docs/train.png.

Runs the real application window (offscreen, captured with Qt's ``grab()``):
it draws a small data set of shapes, fine-tunes the network on it from the
Train tab, presses "Use this model", classifies some new drawings in the
Classify tab, and opens a block in the Explorer. Takes a few minutes on two cores.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshots.py [--out docs]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image, ImageDraw
from PySide6.QtCore import QEventLoop, QSettings, QTimer

from inception_gui.app import create_app
from inception_gui.main_window import MainWindow

# Three kinds of drawn "fruit": colour and shape tell them apart.
SHAPES = ("lemon", "lime", "tomato")
FRUIT = {
    "lemon": ((235, 205, 40), 1.35),
    "lime": ((95, 170, 45), 1.0),
    "tomato": ((210, 45, 35), 0.85),
}


def draw_shape(kind: str, rng: random.Random, size: int = 160) -> Image.Image:
    """One fruit-like blob of random size, place and shade, on a random light background."""
    bg = tuple(rng.randint(200, 255) for _ in range(3))
    img = Image.new("RGB", (size, size), bg)
    d = ImageDraw.Draw(img)
    (red, green, blue), aspect = FRUIT[kind]
    r = rng.randint(size // 6, size // 3)
    rx, ry = int(r * aspect), int(r / aspect)
    cx, cy = rng.randint(rx, size - rx), rng.randint(ry, size - ry)
    shade = rng.randint(-25, 25)
    fill = tuple(max(0, min(255, c + shade)) for c in (red, green, blue))
    d.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=fill)
    d.ellipse((cx - rx // 3, cy - ry // 2, cx, cy - ry // 4), fill=(255, 255, 230))  # a shine
    return img


def make_data(root: Path, per_class: int = 40) -> tuple[Path, Path]:
    rng = random.Random(0)
    train = root / "shapes"
    photos = root / "new drawings"
    for kind in SHAPES:
        (train / kind).mkdir(parents=True)
        for i in range(per_class):
            draw_shape(kind, rng).save(train / kind / f"{kind}_{i:03d}.png")
    photos.mkdir()
    for i in range(9):
        draw_shape(SHAPES[i % 3], rng, 240).save(photos / f"drawing_{i}.jpg", quality=92)
    (photos / "notes.jpg").write_text("not a picture")
    return train, photos


def wait(condition, timeout_s: float = 600) -> bool:
    loop = QEventLoop()
    timer = QTimer(interval=100)
    timer.timeout.connect(lambda: condition() and loop.quit())
    timer.start()
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    timer.stop()
    return bool(condition())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs", help="folder for the PNG files")
    parser.add_argument("--epochs", type=int, default=6)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="inception-shots-"))
    train_dir, photos = make_data(work)

    app = create_app()
    settings = QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("weights", "none")
    window = MainWindow(settings)
    window.resize(1280, 820)
    window.show()
    window.start()
    wait(lambda: window.session.state is not None)

    tab = window.train_tab
    window.tabs.setCurrentWidget(tab)
    tab.set_folder(str(train_dir))
    tab.out_edit.setText(str(work / "shapes-demo"))  # as the tab names runs: the dataset first
    wait(lambda: tab.start_button.isEnabled())
    tab.settings.start_from.setCurrentIndex(tab.settings.start_from.findData("none"))
    tab.settings.train_from.setCurrentIndex(tab.settings.train_from.findData("all"))
    tab.settings.epochs.setValue(args.epochs)
    tab.settings.batch_size.setValue(16)
    tab.settings.input_size.setValue(96)
    tab.settings.optimizer.setCurrentIndex(tab.settings.optimizer.findData("adamw"))
    tab.start()
    if not wait(lambda: not tab.running, 1800):  # a busy machine: never grab a run mid-way
        raise SystemExit("training did not finish in 30 minutes; no screenshot taken")
    window.grab().save(str(out / "train.png"))

    tab.use_button.click()
    wait(lambda: window.session.state is not None and window.session.state.trained)
    window.classify_tab.classify([str(photos)])
    wait(
        lambda: window.classify_tab.results.rowCount() == 10 and window.classify_tab._worker is None
    )
    window.classify_tab.table.selectRow(1)
    wait(lambda: window.classify_tab.picture.has_picture(), 20)
    app.processEvents()
    window.grab().save(str(out / "classify.png"))
    cam = window.classify_tab.cam
    # At 96 px, Mixed_7c is a 1 x 1 grid; Mixed_5d's 9 x 9 shows where the evidence lies.
    cam.layer_combo.setCurrentIndex(cam.layer_combo.findText("Mixed_5d"))
    cam.enabled.setChecked(True)
    wait(lambda: window.classify_tab._cam_result is not None, 60)
    wait(lambda: False, 2)  # let the overlay arrive
    window.grab().save(str(out / "gradcam.png"))

    explorer = window.explorer_tab
    window.tabs.setCurrentWidget(explorer)
    wait(lambda: explorer.summary is not None)
    root = explorer.proxy.index(0, 0)
    for row in range(explorer.proxy.rowCount(root)):
        index = explorer.proxy.index(row, 0, root)
        if index.data() == "Mixed_6b":  # the whole network, with one block opened
            explorer.tree.setCurrentIndex(index)
            explorer.tree.expand(index)
    wait(lambda: "fewer" in explorer.details.toPlainText(), 20)
    window.grab().save(str(out / "explorer.png"))
    window.close()
    app.processEvents()
    shutil.rmtree(work, ignore_errors=True)  # the drawings and the run (about 0.5 GB)
    print(
        "wrote",
        *(str(out / n) for n in ("classify.png", "gradcam.png", "explorer.png", "train.png")),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
