"""Export you can trust: ONNX and TorchScript files, checked against PyTorch after writing.

Both formats take an ``N x 3 x S x S`` batch normalised as the model's
preprocessing says (``transform_input``, if set, is inside the graph) and
return ``N x num_classes`` logits. The batch size is free; the side is the
crop size. Both carry the same metadata as strings: ``class_names`` and
``preprocess`` (JSON), ``variant``, ``transform_input``, ``input_size``.

ONNX is written by torch's own exporter, the ``torch.export``-based one
(``dynamo=True``, opset 18, needs onnxscript): torch's default since 2.9; the
older TorchScript-based exporter is deprecated and due for removal. It takes
5-15 s on a 2-core CPU for a 299 px network. TorchScript is written with
``torch.jit.trace`` (``torch.jit.script`` cannot compile the blocks'
``getattr`` loops); torch marks TorchScript deprecated too, but it remains
the format C++ and mobile runtimes load without Python.

:func:`verify_export` runs the file (onnxruntime for ONNX, ``torch.jit.load``
for TorchScript) on sample images and compares the logits with the fp32
PyTorch network on the CPU.
"""

from __future__ import annotations

import copy
import json
import os
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from model.files import atomic_write, refuse_read_only
from model.inference.features import ImageInput, prepare_image
from model.inference.locks import network_lock
from model.network.inception import Inception3

__all__ = [
    "ExportCheck",
    "export_metadata",
    "export_model",
    "export_onnx",
    "export_targets",
    "export_torchscript",
    "read_export_metadata",
    "sample_images",
    "verify_export",
]

ONNX_OPSET = 18  # the lowest opset the torch.export-based exporter writes
TORCHSCRIPT_META = "inception_gui.json"  # the _extra_files entry holding the metadata
ONNX_SUFFIXES = frozenset({".onnx"})
TORCHSCRIPT_SUFFIXES = frozenset({".pt", ".pth", ".ts", ".torchscript"})


def _reference(model, info=None) -> tuple[Inception3, object]:
    """A CPU fp32 eval copy of the network, and its WeightsInfo.

    ``model`` is a :class:`model.Classifier` or an :class:`Inception3` (then
    ``info`` is required). The copy leaves the caller's network where it is
    and lets exports and checks run without holding its lock.
    """
    if isinstance(model, Inception3):
        if info is None:
            raise ValueError("pass info= (the WeightsInfo) with a bare network")
        network = model
    else:
        network, info = model.network, model.info
    with network_lock(network):
        reference = copy.deepcopy(network)
    reference = reference.to("cpu", torch.float32).eval()
    if reference.AuxLogits is not None:
        reference.drop_aux()  # inference never uses it; exporting it would only add weights
    return reference, info


def export_metadata(info) -> dict[str, str]:
    """What an exported file says about itself (all values strings, as ONNX requires)."""
    return {
        "class_names": json.dumps(list(info.class_names)),
        "preprocess": json.dumps(info.preprocess.to_dict()),
        "variant": info.variant.value,
        "transform_input": json.dumps(bool(info.transform_input)),
        "input_size": str(info.preprocess.crop_size),
        "input": "N x 3 x S x S float32 RGB, resized, centre-cropped and normalised per preprocess",
        "output": "N x num_classes logits (apply softmax for probabilities)",
        "producer": "inception-gui",
    }


def _example(info) -> torch.Tensor:
    side = info.preprocess.crop_size
    return torch.zeros(2, 3, side, side)  # 2, not 1: a batch of 1 would be specialised


def check_opset(opset: int) -> int:
    """``opset`` if this exporter can write it (18 to the installed onnx's newest); else ValueError.

    Below 18 torch's exporter fails, prints a converter traceback and quietly
    writes opset 18 instead, which the person did not ask for.
    """
    from onnx.defs import onnx_opset_version

    newest = onnx_opset_version()
    if isinstance(opset, bool) or not isinstance(opset, int) or not ONNX_OPSET <= opset <= newest:
        raise ValueError(f"ONNX opset must be from {ONNX_OPSET} to {newest}, not {opset!r}")
    return opset


def export_onnx(model, path: str | os.PathLike[str], *, info=None, opset: int = ONNX_OPSET) -> Path:
    """Write the model as ONNX with a dynamic batch dimension, atomically.

    Parameters
    ----------
    model : model.Classifier or Inception3
        What to export; its fp32 reference network is copied to the CPU.
    path : str or PathLike
        The ``.onnx`` file to write.
    info : WeightsInfo, optional
        Required with a bare network: class names and preprocessing.
    opset : int
        ONNX opset, 18 or later.

    Returns
    -------
    pathlib.Path
        ``path``. Input ``input`` (N x 3 x S x S), output ``logits``.
    """
    check_opset(opset)
    network, info = _reference(model, info)
    batch = torch.export.Dim("batch", min=1, max=65536)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # exporter chatter about its internals
        program = torch.onnx.export(
            network,
            (_example(info),),
            dynamo=True,
            input_names=["input"],
            output_names=["logits"],
            opset_version=opset,
            dynamic_shapes={"x": {0: batch}},
            verbose=False,
        )
    program.model.metadata_props.update(export_metadata(info))
    atomic_write(path, lambda tmp: program.save(tmp, external_data=False))
    return Path(path)


def export_torchscript(model, path: str | os.PathLike[str], *, info=None) -> Path:
    """Write the model as a traced TorchScript module, atomically.

    The metadata is stored as ``_extra_files["inception_gui.json"]``; see
    :func:`read_export_metadata`. Parameters as for :func:`export_onnx`.
    """
    network, info = _reference(model, info)
    extra = {TORCHSCRIPT_META: json.dumps(export_metadata(info))}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit's deprecation notice
        # The network has no data-dependent control flow, so a trace is the whole
        # function; check_trace would only run it twice more.
        traced = torch.jit.trace(network, _example(info), check_trace=False)
        atomic_write(path, lambda tmp: torch.jit.save(traced, tmp, _extra_files=extra))
    return Path(path)


def export_targets(out: str | os.PathLike[str], fmt: str) -> list[tuple[str, Path]]:
    """The (format, file) pairs an export writes: ``fmt`` is onnx, torchscript or both.

    A missing suffix gets the format's own; ``both`` writes ``.onnx`` and ``.pt``
    beside each other. A suffix that names another format is refused (ValueError).
    """
    path = Path(out)
    if fmt == "both":
        targets = [("onnx", path.with_suffix(".onnx")), ("torchscript", path.with_suffix(".pt"))]
        for _, target in targets:
            refuse_read_only(target)
        return targets
    if fmt not in ("onnx", "torchscript"):
        raise ValueError(f"unknown export format {fmt!r}; choose onnx, torchscript or both")
    suffixes, default = (ONNX_SUFFIXES, ".onnx") if fmt == "onnx" else (TORCHSCRIPT_SUFFIXES, ".pt")
    if not path.suffix:
        path = path.with_suffix(default)
    elif path.suffix.lower() not in suffixes:
        name = "an ONNX" if fmt == "onnx" else "a TorchScript"
        raise ValueError(f"{path}: {name} file should end in {' or '.join(sorted(suffixes))}")
    refuse_read_only(path)  # now, not after minutes of exporting
    return [(fmt, path)]


def export_model(model, fmt: str, path: str | os.PathLike[str], *, opset: int = ONNX_OPSET) -> Path:
    """:func:`export_onnx` or :func:`export_torchscript`, by ``fmt``."""
    if fmt == "onnx":
        return export_onnx(model, path, opset=opset)
    return export_torchscript(model, path)


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in ONNX_SUFFIXES:
        return "onnx"
    if suffix in TORCHSCRIPT_SUFFIXES:
        return "torchscript"
    raise ValueError(f"{path}: unknown export format (expected .onnx or .pt)")


def read_export_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """The metadata an exported ``.onnx`` or ``.pt`` file carries (empty if none)."""
    path = Path(path)
    if _format(path) == "onnx":
        import onnx

        model = onnx.load(str(path), load_external_data=False)
        return {p.key: p.value for p in model.metadata_props}
    with zipfile.ZipFile(path) as archive:  # TorchScript files are zip archives
        entry = next((n for n in archive.namelist() if n.endswith(f"/{TORCHSCRIPT_META}")), None)
        return json.loads(archive.read(entry)) if entry else {}


@dataclass(frozen=True)
class ExportCheck:
    """How an exported file's logits compare with PyTorch's on the same images."""

    max_abs_diff: float  # largest |exported - pytorch| over all logits (nan if it did not run)
    top1_agreement: float  # share of images with the same top-1 class, 0..1
    n_images: int  # images compared
    ok: bool  # within tolerance and every top-1 the same
    message: str  # one sentence for people, with the numbers
    format: str = ""  # "onnx" or "torchscript"
    allowed_diff: float = 0.0  # the largest max_abs_diff that counts as a match


def sample_images(count: int = 4, size: tuple[int, int] = (320, 240)) -> list[Image.Image]:
    """A few deterministic synthetic photos (gradients and shapes) for export checks."""
    rng = np.random.default_rng(1234)
    images = []
    for _ in range(count):
        base = rng.integers(0, 256, size=(2, 2, 3)).astype(np.uint8)
        img = Image.fromarray(base).resize(size, Image.Resampling.BILINEAR)
        draw = ImageDraw.Draw(img)
        for _shape in range(3):
            x0, y0 = (int(v) for v in rng.integers(0, min(size) // 2, size=2))
            x1, y1 = (
                x0 + int(rng.integers(20, size[0] // 2)),
                y0 + int(rng.integers(20, size[1] // 2)),
            )
            fill = tuple(int(v) for v in rng.integers(0, 256, size=3))
            (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x0, y0, x1, y1), fill=fill)
        images.append(img)
    return images


def _run_exported(path: Path, fmt: str, batch: torch.Tensor) -> np.ndarray:
    if fmt == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        return np.asarray(session.run(None, {name: batch.numpy()})[0], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        module = torch.jit.load(str(path), map_location="cpu")
    with torch.inference_mode():
        return module(batch).float().numpy()


def verify_export(
    path: str | os.PathLike[str],
    classifier,
    images: Sequence[ImageInput] | None = None,
    *,
    info=None,
    atol: float = 1e-3,
    rtol: float = 1e-4,
) -> ExportCheck:
    """Run an exported file on ``images`` and compare it with the PyTorch network.

    Parameters
    ----------
    path : str or PathLike
        A ``.onnx`` (run with onnxruntime) or ``.pt`` (``torch.jit.load``) file.
    classifier : model.Classifier or Inception3
        The reference; its fp32 network runs on the CPU (``info`` needed for a
        bare network).
    images : sequence of paths or PIL images, optional
        Preprocessed as for predictions; :func:`sample_images` by default.
    atol, rtol : float
        A match needs ``max_abs_diff <= atol + rtol * max|logit|`` (float32
        reordering noise grows with the logits' size) and the same top-1 for
        every image.

    Returns
    -------
    ExportCheck
        ``ok=False`` with the numbers for a file that does not match, or
        with the reason for one that does not load or run; never raises for
        those.

    Raises
    ------
    ImageLoadError
        One of ``images`` cannot be read.
    """
    path = Path(path)
    network, info = _reference(classifier, info)
    pictures = images or sample_images()
    batch = torch.cat([prepare_image(info.preprocess, image).tensor for image in pictures])
    with torch.inference_mode():
        expected = network(batch).float().numpy()
    try:
        fmt = _format(path)
        got = _run_exported(path, fmt, batch)
    except Exception as exc:  # any failure to load or run is what the check reports
        return ExportCheck(
            float("nan"), 0.0, len(batch), False, f"{path.name} did not run: {exc}", ""
        )
    return _compare(path.name, fmt, got, expected, atol, rtol)


def _compare(
    name: str, fmt: str, got: np.ndarray, expected: np.ndarray, atol: float, rtol: float
) -> ExportCheck:
    n = len(expected)
    if got.shape != expected.shape:
        text = f"{name} gives logits of shape {got.shape}, PyTorch {expected.shape}"
        return ExportCheck(float("nan"), 0.0, n, False, text, fmt)
    diff = float(np.abs(got - expected).max())
    allowed = atol + rtol * float(np.abs(expected).max())
    agreement = float((got.argmax(axis=1) == expected.argmax(axis=1)).mean())
    ok = diff <= allowed and agreement == 1.0
    verdict = "matches PyTorch" if ok else "does NOT match PyTorch"
    text = (
        f"{name} {verdict} on {n} images: max |logit difference| {diff:.3g} "
        f"(allowed {allowed:.3g}), top-1 agreement {agreement:.0%}"
    )
    return ExportCheck(diff, agreement, n, ok, text, fmt, allowed)
