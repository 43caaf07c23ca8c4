"""The window's own figures: start-up and event-loop stalls (absolute targets).

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_gui.py [--launches 5]

1. Start-up, median of N launches of ``python main.py photo.jpg`` in fresh processes:
   time until the window is shown (target 1 s) and until the photo's first prediction is
   on screen (target 4 s), with weights already on disk. ImageNet weights cannot be
   downloaded here, so a v3 state dict of the same shape and size (torchvision format,
   1000 classes) stands in for the cached file; loading and inference cost the same.
2. Longest stall of the Qt event loop, measured by a 5 ms timer, while a folder of 64
   JPEGs (1-12 MP) is classified and while training runs (target 100 ms).
3. Start-up without the ImageNet weights (an empty torch home, a person's first launch):
   median time until the status bar says "Ready" with the untrained fallback (target 4 s).
   ``--fallback-only`` measures this alone.

Writes bench/results/gui.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DRIVER = textwrap.dedent(
    """
    import sys, time
    from PySide6.QtCore import QSettings, QTimer
    from inception_gui import app as app_module
    from inception_gui.main_window import MainWindow

    settings_path, weights, photo = sys.argv[1:4]
    marks = {}
    init = MainWindow.__init__
    def patched_init(self, settings=None):
        s = QSettings(settings_path, QSettings.Format.IniFormat)
        s.setValue("weights", weights)
        init(self, s)
        def on_row(*_):
            marks.setdefault("prediction", time.time())
            QTimer.singleShot(0, self.close)
        self.classify_tab.results.rowsInserted.connect(on_row)
    MainWindow.__init__ = patched_init
    show = MainWindow.showEvent
    def patched_show(self, event):
        marks.setdefault("shown", time.time())
        show(self, event)
    MainWindow.showEvent = patched_show
    app_module.main([photo])
    print("MARKS", marks["shown"], marks["prediction"])
    """
)


FALLBACK_DRIVER = textwrap.dedent(
    """
    import sys, time
    from PySide6.QtCore import QSettings, QTimer
    from inception_gui import app as app_module
    from inception_gui.main_window import MainWindow

    settings_path = sys.argv[1]
    marks = {}
    init = MainWindow.__init__
    def patched_init(self, settings=None):
        init(self, QSettings(settings_path, QSettings.Format.IniFormat))
        def on_ready(state):
            if self.status_label.text().startswith("Ready"):
                marks.setdefault("ready", time.time())
                marks["weights"] = state.weights
                QTimer.singleShot(0, self.close)
        self.session.ready.connect(on_ready)
    MainWindow.__init__ = patched_init
    app_module.main([])
    print("MARKS", marks["ready"], marks["weights"])
    """
)


def measure_fallback(launches: int, work: Path) -> list[float]:
    """Seconds from launch to "Ready" on untrained weights, with no ImageNet file on disk."""
    ready = []
    env = {**os.environ, "TORCH_HOME": str(work / "empty-torch-home")}
    for i in range(launches):
        start = time.time()
        done = subprocess.run(
            [sys.executable, "-c", FALLBACK_DRIVER, str(work / f"f{i}.ini")],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=300,
        )
        line = next((ln for ln in done.stdout.splitlines() if ln.startswith("MARKS")), None)
        if line is None or line.split()[2] != "none":
            raise RuntimeError(done.stdout + done.stderr)
        ready.append(float(line.split()[1]) - start)
    return ready


def make_photos(folder: Path, count: int = 64) -> list[Path]:
    import random

    from PIL import Image, ImageDraw

    rng = random.Random(0)
    sizes = [(1280, 960), (2048, 1536), (3000, 2000), (4032, 3024)]
    paths = []
    for i in range(count):
        w, h = sizes[i % len(sizes)]
        img = Image.linear_gradient("L").resize((w, h)).convert("RGB")
        d = ImageDraw.Draw(img)
        for _ in range(6):
            x, y = rng.randrange(w), rng.randrange(h)
            d.ellipse((x, y, x + w // 5, y + h // 5), fill=tuple(rng.randrange(256) for _ in "rgb"))
        path = folder / f"photo_{i:02d}.jpg"
        img.save(path, quality=90)
        paths.append(path)
    return paths


def measure_launches(weights: Path, photo: Path, launches: int, work: Path) -> dict:
    shown, predicted = [], []
    for i in range(launches):
        start = time.time()
        done = subprocess.run(
            [sys.executable, "-c", DRIVER, str(work / f"s{i}.ini"), str(weights), str(photo)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=300,
        )
        line = next((ln for ln in done.stdout.splitlines() if ln.startswith("MARKS")), None)
        if line is None:
            raise RuntimeError(done.stdout + done.stderr)
        t_shown, t_pred = map(float, line.split()[1:])
        shown.append(t_shown - start)
        predicted.append(t_pred - start)
    return {"window_shown_s": shown, "first_prediction_s": predicted}


def measure_stalls(
    weights: Path, photos: list[Path], train_dir: Path, work: Path, train_size: int = 128
) -> dict:
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QSettings, QTimer

    from inception_gui.app import create_app
    from inception_gui.main_window import MainWindow

    app = create_app()
    settings = QSettings(str(work / "stall.ini"), QSettings.Format.IniFormat)
    settings.setValue("weights", str(weights))
    window = MainWindow(settings)
    window.show()
    window.start()
    clock, gaps = QElapsedTimer(), []
    probe = QTimer(interval=5)

    def tick() -> None:
        gaps.append(clock.restart())

    probe.timeout.connect(tick)

    def run_until(condition) -> float:
        loop = QEventLoop()
        check = QTimer(interval=20)
        check.timeout.connect(lambda: condition() and loop.quit())
        gaps.clear()
        clock.start()
        probe.start()
        check.start()
        loop.exec()
        probe.stop()
        check.stop()
        return float(max(gaps[1:] or [0]))

    run_until(lambda: window.session.state is not None)
    tab = window.classify_tab
    tab.classify([str(photos[0].parent)])
    classify_stall = run_until(
        lambda: tab.results.rowCount() == len(photos) and tab._worker is None
    )
    train = window.train_tab
    train.folder_edit.setText(str(train_dir))
    train.out_edit.setText(str(work / "run"))
    train.check_folder()
    run_until(lambda: train.start_button.isEnabled())
    train.settings.start_from.setCurrentIndex(train.settings.start_from.findData("none"))
    train.settings.train_from.setCurrentIndex(train.settings.train_from.findData("all"))
    train.settings.epochs.setValue(2)
    train.settings.batch_size.setValue(8)
    train.settings.input_size.setValue(train_size)
    train.start()
    train_stall = run_until(lambda: not train.running)
    window.close()
    app.processEvents()
    return {"classify_max_stall_ms": classify_stall, "train_max_stall_ms": train_stall}


def _measure(work: Path, launches_wanted: int, train_size: int) -> tuple[dict, dict]:
    """Stand-in weights, photos and a training folder in ``work``; then both measurements."""
    import torch
    from PIL import Image

    from model import build_network

    weights = work / "inception_v3_stand_in.pth"
    torch.save(build_network("v3").state_dict(), weights)
    (work / "photos").mkdir()
    photos = make_photos(work / "photos")
    train_dir = work / "train"
    for name, colour in (("red", (220, 40, 40)), ("blue", (40, 40, 220))):
        (train_dir / name).mkdir(parents=True)
        for i in range(24):
            Image.new("RGB", (160, 120), tuple(max(0, c - 5 * i) for c in colour)).save(
                train_dir / name / f"{i}.png"
            )
    launches = measure_launches(weights, photos[3], launches_wanted, work)  # 4032 x 3024
    stalls = measure_stalls(weights, photos, train_dir, work, train_size)
    return launches, stalls


def main() -> int:
    parser = argparse.ArgumentParser(description="start-up time and event-loop stalls")
    parser.add_argument("--launches", type=int, default=5)
    parser.add_argument(
        "--train-size", type=int, default=128, help="input size of the training run (128)"
    )
    parser.add_argument(
        "--fallback-only", action="store_true", help="only the start-up without ImageNet weights"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-gui-") as tmp:
        fallback = measure_fallback(args.launches, Path(tmp))
        if args.fallback_only:
            print(f"ready on untrained weights (no ImageNet file): {fallback} s; target 4 s")
            print(f"median {statistics.median(fallback):.2f} s")
            return 0
        launches, stalls = _measure(Path(tmp), args.launches, args.train_size)
    rows = [
        ("ready without ImageNet weights", statistics.median(fallback), "s", 4.0),
        ("window shown", statistics.median(launches["window_shown_s"]), "s", 1.0),
        (
            "first prediction (12 MP JPEG)",
            statistics.median(launches["first_prediction_s"]),
            "s",
            4.0,
        ),
        ("longest stall, classifying 64 JPEGs", stalls["classify_max_stall_ms"], "ms", 100.0),
        (
            f"longest stall, training at {args.train_size} px",
            stalls["train_max_stall_ms"],
            "ms",
            100.0,
        ),
    ]
    print(f"{'figure':<40} {'measured':>10} {'target':>10}  met")
    for name, value, unit, target in rows:
        print(f"{name:<40} {value:>8.2f} {unit:<2} {target:>7.1f} {unit:<2}  {value <= target}")
    spread = {k: [round(min(v), 3), round(max(v), 3)] for k, v in launches.items()}
    print(f"launch spread (min, max over {args.launches}): {spread}")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    doc = {
        "launches": launches,
        "fallback_ready_s": fallback,
        "stalls": stalls,
        "rows": [dict(zip(("name", "value", "unit", "target"), r)) for r in rows],
    }
    (out / "gui.json").write_text(json.dumps(doc, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
