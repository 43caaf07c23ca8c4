"""Make the README's screenshots: docs/classify.png, docs/explorer.png, docs/train.png.

Runs the real application window (offscreen, captured with Qt's ``grab()``):
it cuts a small data set of patches from five real photographs bundled with
scikit-image (the ``bench`` extra), trains the network on it from the Train tab
with the recommended from-scratch recipe, presses "Use this model", classifies
patches from the photographs' unseen bottom parts in the Classify tab, and opens
a block in the Explorer. Takes a few minutes on two cores.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshots.py [--out docs]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from PIL import Image
from PySide6.QtCore import QEventLoop, QSettings, QTimer

from inception_gui.app import create_app
from inception_gui.main_window import MainWindow

# Real photographs bundled with scikit-image (the "textures" of bench/bench_recipes.py):
# the model learns which photograph a patch was cut from. Training patches come from the top
# of each photograph and the "new pictures" from its bottom, so none of their pixels was
# trained on.
PHOTOS = {
    "brick": "brick",
    "grass": "grass",
    "gravel": "gravel",
    "stars": "hubble_deep_field",
    "tissue": "immunohistochemistry",
}


def photographs() -> dict[str, np.ndarray]:
    try:
        import skimage.data
    except ImportError:
        raise SystemExit(
            'the screenshots use photographs from scikit-image: pip install -e ".[bench]"'
        ) from None
    return {name: getattr(skimage.data, fn)() for name, fn in PHOTOS.items()}


def cut(photo: np.ndarray, rng, top: float, bottom: float, side: int) -> Image.Image:
    """A random side x side patch from the band of rows between top and bottom (fractions)."""
    h, w = photo.shape[:2]
    y = int(rng.integers(int(top * h), int(bottom * h) - side))
    x = int(rng.integers(0, w - side))
    return Image.fromarray(photo[y : y + side, x : x + side]).convert("RGB")


def make_data(root: Path, per_class: int = 40, size: int = 96) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    train = root / "textures"
    photos = root / "new pictures"
    photos.mkdir(parents=True)
    for name, photo in photographs().items():
        (train / name).mkdir(parents=True)
        for i in range(per_class):
            cut(photo, rng, 0.0, 0.62, size).save(train / name / f"{name}_{i:03d}.png")
        for i in range(2):
            cut(photo, rng, 0.67, 1.0, size * 3 // 2).save(photos / f"{name}_{i}.jpg", quality=92)
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
    tab.out_edit.setText(str(work / "textures-demo"))  # as the tab names runs: the dataset first
    wait(lambda: tab.start_button.isEnabled())
    tab.settings.start_from.setCurrentIndex(tab.settings.start_from.findData("none"))
    tab.settings.train_from.setCurrentIndex(tab.settings.train_from.findData("all"))
    tab.settings.epochs.setValue(args.epochs)
    tab.settings.batch_size.setValue(16)
    tab.settings.input_size.setValue(96)
    tab.start()
    if not wait(lambda: not tab.running, 1800):  # a busy machine: never grab a run mid-way
        raise SystemExit("training did not finish in 30 minutes; no screenshot taken")
    window.grab().save(str(out / "train.png"))

    tab.use_button.click()
    wait(lambda: window.session.state is not None and window.session.state.trained)
    window.classify_tab.classify([str(photos)])
    wait(
        lambda: window.classify_tab.results.rowCount() == 11 and window.classify_tab._worker is None
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
    # The Diagram pane draws in a worker: grab it drawn, showing the selected block.
    wait(lambda: explorer.diagram._drawn is not None, 120)
    wait(lambda: False, 1)
    window.grab().save(str(out / "explorer.png"))
    window.close()
    app.processEvents()
    shutil.rmtree(work, ignore_errors=True)  # the patches and the run (about 0.5 GB)
    print(
        "wrote",
        *(str(out / n) for n in ("classify.png", "gradcam.png", "explorer.png", "train.png")),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
