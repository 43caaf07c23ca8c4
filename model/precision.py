"""One definition of the number formats the network runs in, for predicting and training.

Torch-free at import: the GUI and the CLI list the choices and parse a person's choice
without loading torch. Asking what a choice means on a device (:func:`resolve_precision`)
imports torch then.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from model.errors import PrecisionError

if TYPE_CHECKING:
    import torch

__all__ = [
    "PRECISION_NAMES",
    "TRAINING_PRECISIONS",
    "Precision",
    "PrecisionError",
    "resolve_precision",
]


class Precision(str, enum.Enum):
    """The number format the convolutions run in."""

    AUTO = "auto"  # the fastest correct one for the device
    FP32 = "fp32"  # full precision: the reference
    BF16 = "bf16"  # CPUs with AVX-512/AMX bf16, CUDA GPUs from Ampere on
    FP16 = "fp16"  # CUDA GPUs (tensor cores)
    INT8 = "int8"  # predicting only, on CPUs with VNNI/AMX: quantized (model.inference.int8)

    @classmethod
    def parse(cls, value: str | Precision) -> Precision:
        """Return the precision named by ``value``, with a clear error for anything else."""
        try:
            return cls(str(value.value if isinstance(value, cls) else value).strip().lower())
        except ValueError:
            names = ", ".join(p.value for p in cls)
            raise PrecisionError(f"unknown precision {value!r}; choose one of: {names}") from None

    @property
    def dtype(self) -> torch.dtype:
        """The torch dtype of this precision (fp32 for AUTO); imports torch."""
        import torch  # this module stays torch-free until a dtype is asked for

        # int8 is a separately quantized network; the fast float path around it is fp32
        return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.value, torch.float32)


def _cpu_has_fast(dtype: torch.dtype) -> bool:
    """Whether this CPU has instructions for ``dtype`` (oneDNN emulates it otherwise, slowly)."""
    import torch

    cpu = torch.cpu
    try:  # private probes (torch's own tests use them); absent means "no"
        if dtype == torch.bfloat16:
            return bool(cpu._is_avx512_bf16_supported() or cpu._is_amx_tile_supported())
        return bool(cpu._is_amx_fp16_supported() and torch.ops.mkldnn._is_mkldnn_fp16_supported())
    except (AttributeError, RuntimeError):
        return False


def resolve_precision(precision: str | Precision, device: torch.device) -> Precision:
    """Turn a requested precision into the one that runs on ``device``.

    ``auto`` gives bf16 on a CPU whose oneDNN build runs bf16 natively
    (AVX-512 bf16 or AMX), fp16 on CUDA (tensor cores on every GPU since
    Volta, and a 10-bit mantissa where bf16 has 7), fp32 elsewhere.

    Raises
    ------
    PrecisionError
        An unknown name, fp16 or bf16 on a device without it: fp16 on a CPU
        without AVX-512 FP16/AMX-FP16 would run 10-50x slower than fp32, so
        it is refused rather than quietly slow.
    """
    import torch

    wanted = Precision.parse(precision)
    kind = device.type
    if wanted is Precision.AUTO:
        if kind == "cuda":
            return Precision.FP16
        if kind == "cpu" and _cpu_has_fast(torch.bfloat16):
            return Precision.BF16
        return Precision.FP32
    if wanted is Precision.FP16 and kind == "cpu" and not _cpu_has_fast(torch.float16):
        raise PrecisionError(
            "fp16 needs a GPU or a CPU with AVX-512 FP16/AMX-FP16, which this one lacks; "
            "use bf16 or fp32 on this CPU (or auto)"
        )
    if wanted is Precision.BF16 and kind == "cuda":
        index = device.index if device.index is not None else 0
        if not torch.cuda.is_bf16_supported() or torch.cuda.get_device_capability(index)[0] < 8:
            raise PrecisionError(f"{device} has no bf16 support; use fp16 or fp32 there")
    if wanted is Precision.INT8 and kind != "cpu":
        raise PrecisionError(f"int8 runs on the CPU only here, not on {device}; use fp16 or fp32")
    if wanted is not Precision.FP32 and kind == "mps":
        raise PrecisionError("only fp32 is supported on MPS here")
    return wanted


PRECISION_NAMES = tuple(p.value for p in Precision)  # "auto", "fp32", "bf16", "fp16", "int8"
TRAINING_PRECISIONS = tuple(n for n in PRECISION_NAMES if n != "int8")  # int8 only predicts
