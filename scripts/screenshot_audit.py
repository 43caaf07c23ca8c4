"""Make the README's screenshot of the Suspicious labels view: docs/audit.png.

Real data with real features: four classes of scikit-learn's bundled handwritten digits
(8x8 scans, scaled up), a few of them moved into the wrong class folder as a person's
slips would and one saved twice, and an ImageNet-trained backbone as the feature extractor
(``../shared/tools/pretrained_backbone.py`` makes one offline). The dialog is the app's
own (``inception_gui.train.audit_dialog.AuditDialog``), run on that folder as the Train
tab runs it after a head-only run, whose checkpoint has the same backbone; it is
captured with Qt's ``grab()`` once the ranking is in. Under a minute on two cores.

    python ../shared/tools/pretrained_backbone.py /tmp/backbone.pth
    xvfb-run -a .venv/bin/python scripts/screenshot_audit.py --backbone /tmp/backbone.pth

docs/audit.png was made so, in a real X session (Xvfb); without a display the script runs
offscreen. ``--out`` picks another folder.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import QEventLoop, QTimer

from inception_gui.app import create_app
from inception_gui.core.workers import WorkerHub
from inception_gui.train.audit_dialog import AuditDialog

NAMES = ("zero", "one", "two", "three")  # the digits kept, by folder name


def make_digits(root: Path, per_class: int, swaps: int) -> list[Path]:
    """Digits 0-3 as 64 px PNGs, a folder a class; ``swaps`` moved to a wrong one, one copied."""
    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    seen = dict.fromkeys(range(len(NAMES)), 0)
    for i, (image, label) in enumerate(zip(digits.images, digits.target)):
        if label >= len(NAMES) or seen[label] >= per_class:
            continue
        seen[label] += 1
        pixels = (255 - image / 16 * 255).round().astype(np.uint8)  # ink on paper
        picture = Image.fromarray(pixels).resize((64, 64), Image.Resampling.BICUBIC)
        (root / NAMES[label]).mkdir(parents=True, exist_ok=True)
        picture.save(root / NAMES[label] / f"scan_{i:04d}.png")
    rng = random.Random(3)
    moved = []
    for path in rng.sample(sorted(root.glob("*/*.png")), swaps):
        other = rng.choice([n for n in NAMES if n != path.parent.name])
        moved.append(Path(shutil.move(path, root / other / path.name)))
    kept = sorted(root.glob("two/*.png"))[0]  # and a scan saved twice, for the near-copies
    shutil.copy(kept, kept.with_name(f"{kept.stem} (copy).png"))
    return moved


def wait(condition, timeout_s: float) -> bool:
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
    parser.add_argument("--backbone", required=True, help="an ImageNet-trained Inception v3 file")
    parser.add_argument("--out", default="docs", help="folder for audit.png")
    parser.add_argument("--per-class", type=int, default=50)
    parser.add_argument("--swaps", type=int, default=6)
    parser.add_argument("--input-size", type=int, default=139)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="inception-audit-"))
    data = work / "digits"
    moved = make_digits(data, args.per_class, args.swaps)
    run = work / "digits-run"
    run.mkdir()

    app = create_app()
    hub = WorkerHub()
    done = SimpleNamespace(
        out_dir=str(run),
        class_names=NAMES,
        best_checkpoint=args.backbone,
        last_checkpoint=args.backbone,
    )
    config = SimpleNamespace(data_dir=str(data), val_dir=None, input_size=args.input_size)
    dialog = AuditDialog(hub, done, config)
    dialog.resize(980, 640)
    dialog.show()
    if not wait(lambda: dialog.report is not None, 900):
        raise SystemExit(f"no audit report: {dialog.note.text()}")
    dialog.table.selectRow(0)
    app.processEvents()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    dialog.grab().save(str(out / "audit.png"))
    ranked = [Path(s.path) for s in dialog.report.suspects]
    found = len(set(ranked[: len(moved)]) & set(moved))
    print(f"wrote {out / 'audit.png'}: {found} of the {len(moved)} moved scans rank first")
    dialog.close()
    hub.shutdown(10_000)
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
