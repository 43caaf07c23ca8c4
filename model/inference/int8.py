"""int8 inference: the folded network quantized after training, and the guard that decides.

On CPUs with int8 dot-product units (AVX-512 VNNI, AVX-VNNI, AMX) an int8 network runs a
photo in a fraction of fp32's time. The engine was chosen by measurement
(``bench/bench_inference.py``; figures in the README), on speed, accuracy and install weight:

- ONNX Runtime static quantization (QDQ, per-channel int8 weights, uint8 activations): about
  0.23x torchvision's eager fp32 on a 2-core AMD EPYC with VNNI, quantized in a few seconds,
  and no new dependency: onnxruntime already checks the app's ONNX exports.
- torch's own: FX quantization (``torch.ao.quantization``) ran as fast (0.21x), but torch marks
  that API deprecated and due for removal; its successor, PT2E, is fast only through
  ``torch.compile``, which takes half a minute on a 2-core CPU.
- OpenVINO with NNCF: a 60 MB runtime plus NNCF's dependencies; measured as an anchor only.

The network is exported as it predicts (BatchNorm folded, the average pools after their 1x1
convolutions), every convolution quantized, the pooled features and the classifier kept in
fp32 where the ranking is decided. Calibration uses the person's own images (see
:class:`~model.inference.classifier.Classifier`). The quantized model is cached on disk,
keyed by a hash of the weights, with the agreement its guard measured, so a machine
quantizes a model once.

:func:`agreement` is the guard: ``auto`` runs a format other than fp32 only where it agrees
with fp32 on the top-1 class of at least 99% of held-out images and on at least 4.9 of the
top-5 on average.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from model.errors import PrecisionError
from model.files import atomic_write
from model.network.fastpath import fold_batchnorm
from model.network.inception import Inception3, pool_after_conv
from model.precision import Precision

__all__ = [
    "GUARD_TOP1",
    "GUARD_TOP5",
    "Agreement",
    "Int8Network",
    "agreement",
    "build_int8_network",
    "cached_int8_network",
    "has_int8_units",
    "int8_refusal",
    "weights_digest",
]

GUARD_TOP1 = 0.99  # share of held-out images whose top-1 must equal fp32's
GUARD_TOP5 = 4.9  # mean size of the top-5 overlap with fp32 (scaled for fewer classes)
CACHE_VERSION = 1
_build_lock = threading.Lock()


@dataclass(frozen=True)
class Agreement:
    """How far a format's predictions agree with fp32's on held-out images."""

    top1: float  # share of images with fp32's top-1 class, 0..1
    top5: float  # mean number of fp32's top-5 classes also in this format's top-5
    images: int  # how many held-out images were compared
    k: int = 5  # the top-k compared (fewer for a model with fewer classes)

    @property
    def holds(self) -> bool:
        """The guard: at least 99% top-1 and 4.9 of 5 top-5 (``k``/5 of that for small k)."""
        tolerance = 1e-6  # the means are float32: 4.9 of 5 must not fail by a rounding
        return (
            self.images > 0
            and self.top1 >= GUARD_TOP1 - tolerance
            and self.top5 >= GUARD_TOP5 * self.k / 5 - tolerance
        )

    def text(self) -> str:
        k, n = self.k, self.images
        return f"top-1 {self.top1:.1%}, top-{k} {self.top5:.2f}/{k} on {n} images"


def agreement(reference: torch.Tensor, other: torch.Tensor, k: int = 5) -> Agreement:
    """Compare two ``N x classes`` logit batches: top-1 agreement and mean top-k overlap."""
    k = min(k, reference.shape[1])
    ref_top = reference.float().topk(k, dim=1).indices
    got_top = other.float().topk(k, dim=1).indices
    top1 = (ref_top[:, 0] == got_top[:, 0]).float().mean().item()
    overlap = (ref_top.unsqueeze(2) == got_top.unsqueeze(1)).any(dim=2).sum(dim=1).float()
    return Agreement(top1, overlap.mean().item(), reference.shape[0], k)


def int8_refusal(device: torch.device) -> str | None:
    """Why int8 cannot run on ``device``, or None if it can."""
    if device.type != "cpu":
        return f"int8 runs on the CPU only (ONNX Runtime's CPU engine), not on {device}"
    try:
        import onnxruntime.quantization  # noqa: F401
    except ImportError as exc:
        return f"int8 needs onnxruntime with its quantization tools ({exc})"
    return None


def has_int8_units() -> bool:
    """Whether this CPU has int8 dot-product instructions (VNNI or AMX)."""
    cpu = torch.cpu
    with contextlib.suppress(AttributeError, RuntimeError):
        if cpu._is_vnni_supported() or cpu._is_amx_tile_supported():
            return True
    return False


def weights_digest(network: Inception3) -> str:
    """A hash of the network's weights and layout, for the quantized model's cache file."""
    sha = hashlib.sha256()
    for name, tensor in network.state_dict().items():
        sha.update(name.encode())
        data = tensor.detach().to("cpu").contiguous()
        sha.update(str(tuple(data.shape)).encode())
        sha.update(data.view(-1).view(torch.uint8).numpy().tobytes())
    sha.update(f"{network.variant}|{network.transform_input}".encode())
    return sha.hexdigest()[:32]


def _cache_root() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "inception-gui" / "int8"


def _cache_stem(network: Inception3, crop_size: int) -> str:
    import onnxruntime

    return f"{weights_digest(network)}-{crop_size}px-ort{onnxruntime.__version__}-v{CACHE_VERSION}"


class _Folded(nn.Module):
    """The folded network as it predicts: features, an fp32 mean pool, the classifier."""

    def __init__(self, network: Inception3) -> None:
        super().__init__()
        fused = fold_batchnorm(network).to("cpu", torch.float32)
        fused.drop_aux()
        pool_after_conv(fused)
        self.fc, fused.fc = fused.fc, None
        self.features = fused

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features.forward_features(x).mean(dim=(2, 3)))


class Int8Network:
    """An int8 ONNX Runtime session that predicts like a :class:`FastNetwork`.

    Called with a normalised ``N x 3 x S x S`` batch, it returns fp32 logits.
    """

    precision = Precision.INT8

    def __init__(self, path: Path, guard: Agreement | None = None) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # the console is the person's, not the engine's
        # No busy-waiting between calls: spinning threads would take the cores from torch's
        # own work (decoding, Grad-CAM, the fp32 runs that auto times beside this one).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.path = path
        self.guard = guard
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        x = batch.detach().to("cpu", torch.float32).contiguous().numpy()
        (logits,) = self._session.run(None, {self._input: x})
        return torch.from_numpy(logits)

    def eval(self) -> Int8Network:
        return self


def _guard_file(model_path: Path) -> Path:
    return model_path.with_suffix(".json")


def _model_path(network: Inception3, crop_size: int) -> Path:
    """Where the quantized model of these weights is cached (hashes the weights: 0.1 s)."""
    return _cache_root() / f"{_cache_stem(network, crop_size)}.onnx"


def cached_int8_network(network: Inception3, crop_size: int) -> Int8Network | None:
    """The quantized model already on disk for these weights, or None."""
    if int8_refusal(torch.device("cpu")) is not None:
        return None
    return _open_cached(_model_path(network, crop_size))


def _open_cached(path: Path) -> Int8Network | None:
    if not path.is_file():  # a regular file only: anything else is not ours to open
        return None
    guard = None
    guard_file = _guard_file(path)
    with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
        if guard_file.is_file():
            doc = json.loads(guard_file.read_text(encoding="utf-8"))
            guard = Agreement(**doc["guard"])
    try:
        return Int8Network(path, guard)
    except Exception:  # a damaged cache file costs a new quantization, nothing more
        with contextlib.suppress(OSError):
            path.unlink()
        return None


def remember_guard(model: Int8Network, guard: Agreement) -> None:
    """Store the guard's figures beside the cached quantized model."""
    model.guard = guard
    doc = {"version": CACHE_VERSION, "guard": asdict(guard)}
    with contextlib.suppress(OSError):
        atomic_write(
            _guard_file(model.path),
            lambda tmp: Path(tmp).write_text(json.dumps(doc, indent=1), encoding="utf-8"),
        )


def build_int8_network(
    network: Inception3, crop_size: int, calibration: torch.Tensor
) -> Int8Network:
    """Quantize ``network`` to int8, calibrated on ``calibration`` (``N x 3 x S x S``).

    Exports the folded network to ONNX, quantizes every convolution (per-channel int8
    weights, uint8 activations, ranges from the calibration images) and keeps the
    classifier in fp32. The result is cached; an existing cached model is returned as is.

    Raises
    ------
    PrecisionError
        int8 cannot run here, or there are no calibration images.
    """
    refusal = int8_refusal(torch.device("cpu"))
    if refusal:
        raise PrecisionError(refusal)
    if calibration.ndim != 4 or calibration.shape[0] == 0:
        raise PrecisionError("int8 needs a few of your images to calibrate on; none were given")
    with _build_lock:
        target = _model_path(network, crop_size)
        found = _open_cached(target)
        if found is not None:
            return found
        root = target.parent
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=root, prefix=".quantizing-") as work:
            _quantize(network, crop_size, calibration, Path(work), target)
        return Int8Network(target)


def _quantize(
    network: Inception3, crop_size: int, calibration: torch.Tensor, work: Path, target: Path
) -> None:
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    folded = _Folded(network).eval()
    example = torch.zeros(1, 3, crop_size, crop_size)
    plain, prepared, quantized = work / "fp32.onnx", work / "prepared.onnx", work / "int8.onnx"
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # exporter chatter about its internals
        program = torch.onnx.export(
            folded,
            (example,),
            dynamo=True,
            input_names=["input"],
            output_names=["logits"],
            dynamic_shapes={"x": {0: torch.export.Dim("batch", min=1, max=65536)}},
            verbose=False,
        )
        program.save(str(plain), external_data=False)
    quant_pre_process(str(plain), str(prepared), skip_symbolic_shape=True)

    batches = [
        {"input": calibration[i : i + 1].to(torch.float32).numpy()}
        for i in range(calibration.shape[0])
    ]

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._next = iter(batches)

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self._next, None)

    quantize_static(
        str(prepared),
        str(quantized),
        Reader(),
        quant_format=QuantFormat.QDQ,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        per_channel=True,
        op_types_to_quantize=["Conv"],  # the classifier stays in fp32
    )
    atomic_write(target, lambda tmp: Path(tmp).write_bytes(quantized.read_bytes()))
