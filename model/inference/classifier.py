"""Classifying images: the public entry point that scripts and the GUI share.

Predictions run on the fast path of :mod:`model.network.fastpath` (folded BatchNorm,
channels-last, bf16/fp16 where the device has it); ``Classifier.network``
stays the plain fp32 network for anything that needs hooks or gradients.
Folders are decoded in a small thread pool ahead of inference: Pillow
releases the GIL while it decodes, so the next batch decodes while this one
runs through the network.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import NamedTuple, overload

import torch
from PIL import Image

from model.data.images import ImageLoadError, check_image_size, load_image, to_rgb
from model.device import resolve_device
from model.inference.guard import (
    INT8_IMAGES_NEEDED,
    SESSION_IMAGES_NEEDED,
    check_candidates,
    folder_images,
    int8_network,
    session_images,
    tuning_enabled,
)
from model.inference.int8 import cached_int8_network
from model.inference.locks import network_lock
from model.inference.tuning import AutoChoice, measure_inference
from model.network.fastpath import Precision, build_fast_network, resolve_precision
from model.network.inception import Inception3, Variant
from model.weights.loading import WeightsInfo, load_network

__all__ = ["Classifier", "ImageResult", "Prediction", "load_classifier"]

ImageInput = str | os.PathLike[str] | Image.Image
_Loaded = tuple[str, torch.Tensor | None, str | None]  # source, tensor, or why not

# Decoding threads for a folder: two keep a 2-core CPU busy beside inference
# without starving it; more only add memory for images waiting their turn.
DECODE_WORKERS = 2


class Prediction(NamedTuple):
    """One class of a top-k: its label, its index in the classifier, its probability."""

    label: str
    index: int
    probability: float


@dataclass(frozen=True)
class ImageResult(Sequence[Prediction]):
    """The top-k for one input, or why there is none.

    Behaves as the list of its predictions (empty when ``error`` is set), so
    ``results[0][0].label`` is the first image's top-1 label.
    """

    source: str  # the path, or "<image N>" for an in-memory image
    predictions: tuple[Prediction, ...] = ()  # best first
    error: str | None = None  # why the image could not be classified

    @property
    def ok(self) -> bool:
        return self.error is None

    @overload
    def __getitem__(self, i: int) -> Prediction: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[Prediction]: ...
    def __getitem__(self, i):
        return self.predictions[i]

    def __len__(self) -> int:
        return len(self.predictions)


class Classifier:
    """A loaded network on a device, ready to classify images.

    Build one with :func:`load_classifier`.

    Attributes
    ----------
    info : WeightsInfo
        What the weights are: source, class names, preprocessing.
    device : torch.device
        Where the network runs.
    network : Inception3
        The reference network: fp32, eval mode, BatchNorm intact, on
        ``device``. Predictions do not use it, so forward hooks and gradients
        on it (e.g. on ``network.Mixed_7c``) see exactly what was loaded.
        After changing its weights, call :meth:`set_precision` to rebuild the
        fast path from them.
    """

    def __init__(
        self,
        network: Inception3,
        info: WeightsInfo,
        device: torch.device,
        precision: str | Precision = Precision.AUTO,
    ) -> None:
        network.drop_aux()  # inference never uses the aux head
        self._requested = Precision.parse(precision)
        resolved = self._starting_precision(self._requested, device)  # fail before any work
        self.network = network.eval().to(device)
        self.info = info
        self.device = device
        self._transform = info.preprocess.transform
        # The session's photos, kept to calibrate int8 and to check auto's choice on.
        self._recent: deque[torch.Tensor] = deque(maxlen=2 * SESSION_IMAGES_NEEDED)
        self._recent_lock = threading.Lock()
        self._checked_on_photos = False
        self._fast = self._build(network, device, resolved)
        self.auto_choice: AutoChoice | None = None  # auto's figures, once measured
        self._tuning: threading.Thread | None = None
        # Called (in the measuring thread) when a later check on the session's photos has
        # settled auto's choice anew; the first measurement is awaited with wait_for_tuning.
        self.on_rechecked: Callable[[AutoChoice], None] | None = None
        if self._requested is Precision.AUTO:
            self._start_tuning()

    @staticmethod
    def _starting_precision(wanted: Precision, device: torch.device) -> Precision:
        """What to run in at once: ``auto`` starts in fp32 and switches once it has measured."""
        return Precision.FP32 if wanted is Precision.AUTO else resolve_precision(wanted, device)

    def _start_tuning(self, recheck: bool = False) -> None:
        device = self.device
        thread = threading.Thread(
            target=self._tune, args=(device, recheck), name="precision-tuning", daemon=True
        )
        self._tuning = thread
        thread.start()

    def _build(self, network: Inception3, device: torch.device, precision: Precision):
        """The network that predicts in ``precision`` (int8: quantized, cached on disk)."""
        crop = self.info.preprocess.crop_size
        if precision is Precision.INT8:
            return int8_network(network, crop, self._own_images(INT8_IMAGES_NEEDED))
        return build_fast_network(network, device, precision, crop)

    def _own_images(self, needed: int = SESSION_IMAGES_NEEDED):
        """(calibration, held-out) images of this model's kind, or None (see guard.py)."""
        found = None
        if self.info.training:
            found = folder_images(self.info.training, self._load_tensor)
        if found is None:
            with self._recent_lock:
                found = session_images(list(self._recent), needed)
        return found

    def add_photos(self, images: Iterable[ImageInput]) -> int:
        """Keep up to 32 of ``images`` as this session's photos (int8's calibration, the guard's
        check); unreadable ones are skipped. Returns how many are kept now."""
        wanted = self._recent.maxlen or 0
        for position, item in enumerate(itertools.islice(images, wanted)):
            tensor = self._load(item, position)[1]
            if tensor is not None:
                with self._recent_lock:
                    self._recent.append(tensor.to(torch.float16))
        return len(self._recent)

    def has_int8_model(self) -> bool:
        """Whether an int8 model of these weights is already cached on this machine."""
        return cached_int8_network(self.network, self.info.preprocess.crop_size) is not None

    def _load_tensor(self, path: str) -> torch.Tensor | None:
        return self._load(path, 0)[1]

    def _remember(self, tensors: Sequence[torch.Tensor]) -> None:
        """Keep the session's latest photos; check auto's choice on them once there are enough."""
        with self._recent_lock:
            self._recent.extend(t.detach().to("cpu", torch.float16) for t in tensors)
            enough = len(self._recent) >= SESSION_IMAGES_NEEDED
        idle = self._tuning is None or not self._tuning.is_alive()
        if (
            enough
            and idle
            and not self._checked_on_photos
            and self._requested is Precision.AUTO
            and tuning_enabled()
        ):
            self._checked_on_photos = True
            self._start_tuning(recheck=True)

    def _tune(self, device: torch.device, recheck: bool = False) -> None:
        """Measure the candidates (or read the cache), check them, switch if one beats fp32."""
        crop = self.info.preprocess.crop_size
        try:
            with self.network_lock():
                choice = measure_inference(self.network, device, crop)
                own = self._own_images() if tuning_enabled() else None
                fast = None
                if own is not None:
                    self._checked_on_photos = True
                    choice, fast = check_candidates(self.network, device, crop, choice, own)
                if fast is None and choice.chosen != self.precision:
                    fast = build_fast_network(self.network, device, Precision(choice.chosen), crop)
        except Exception as exc:  # measuring must never break predicting: stay in fp32
            self.auto_choice = AutoChoice(
                "fp32", f"fp32 kept: measuring failed ({exc})", (), "", False
            )
            return
        # Still wanted? A move or an explicit choice since then makes these figures moot.
        if self._requested is Precision.AUTO and self.device == device:
            if fast is not None:
                self._fast = fast  # one assignment: a running batch finishes in the old one
            self.auto_choice = choice
            if recheck and self.on_rechecked is not None:
                self.on_rechecked(choice)

    def wait_for_tuning(self, timeout: float | None = None) -> AutoChoice | None:
        """Wait for ``auto``'s measurement (None if not ``auto``, or not done in time)."""
        if self._tuning is not None:
            self._tuning.join(timeout)
        return self.auto_choice

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.info.class_names

    @property
    def precision(self) -> str:
        """The precision predictions run in on this device: ``"fp32"``, ``"bf16"`` or ``"fp16"``."""
        return self._fast.precision.value

    @property
    def requested_precision(self) -> str:
        """What was asked for (``"auto"`` included); re-resolved by :meth:`to`."""
        return self._requested.value

    def set_precision(self, precision: str | Precision) -> Classifier:
        """Predict in ``"auto"``, ``"fp32"``, ``"bf16"`` or ``"fp16"`` from now on.

        Rebuilds the fast network from :attr:`network` (a second or so for
        299 px). A batch already running finishes in the old precision.

        Raises
        ------
        PrecisionError
            (a ``ValueError``) for an unknown name or one the device cannot
            run, e.g. fp16 on a CPU; the classifier is then unchanged.
        """
        return self._rebuild(self.device, Precision.parse(precision))

    def network_lock(self) -> threading.RLock:
        """The lock that Grad-CAM, feature maps, export and moves hold while using the network."""
        return network_lock(self.network)

    def to(
        self, device: str | torch.device, precision: str | Precision | None = None
    ) -> Classifier:
        """Move to another device (``"cpu"``, ``"cuda:0"``...), re-resolving the precision.

        ``precision`` changes it at the same time; by default the requested
        one is kept (``auto`` then picks anew for the device). Raises
        :class:`PrecisionError` before moving anything if the device cannot
        run the precision (fp16 requested, moving to a CPU).
        """
        wanted = self._requested if precision is None else Precision.parse(precision)
        return self._rebuild(resolve_device(device), wanted)

    def _rebuild(self, device: torch.device, wanted: Precision) -> Classifier:
        resolved = self._starting_precision(wanted, device)
        fast = self._build(self.network, device, resolved)  # before moving: may refuse
        self.network.to(device)
        # One assignment swaps paths, so a batch in another thread sees old or new, whole.
        self._fast, self.device, self._requested = fast, device, wanted
        self.auto_choice = None
        if wanted is Precision.AUTO:
            self._start_tuning()
        return self

    def _load(self, item: ImageInput, position: int) -> _Loaded:
        """Decode and preprocess one input (runs in the decoding threads)."""
        try:
            if isinstance(item, Image.Image):
                check_image_size(f"<image {position}>", item.size)
                return f"<image {position}>", self._transform(to_rgb(item)), None
            image = load_image(item, target_size=self.info.preprocess.resize_size)
            return str(item), self._transform(image), None
        except ImageLoadError as exc:
            return exc.path, None, exc.reason

    def logits(self, batch: torch.Tensor) -> torch.Tensor:
        """Raw logits for a preprocessed ``N x 3 x H x W`` batch (float32, on the CPU).

        These come from the fast path, in :attr:`precision`; for the fp32
        reference, call :attr:`network` directly.
        """
        return self._fast(batch).cpu()

    def _topk(self, logits: torch.Tensor, k: int) -> list[tuple[Prediction, ...]]:
        probs = logits.softmax(dim=1)
        k = min(k, probs.shape[1])
        values, indices = probs.topk(k, dim=1)
        names = self.info.class_names
        return [
            tuple(Prediction(names[i], i, float(p)) for p, i in zip(row_p.tolist(), row_i.tolist()))
            for row_p, row_i in zip(values, indices)
        ]

    def iter_predict(
        self,
        images: Iterable[ImageInput],
        k: int = 5,
        batch_size: int = 8,
        cancel: Callable[[], bool] | None = None,
    ) -> Iterator[ImageResult]:
        """Yield one :class:`ImageResult` per input, in order, a batch at a time.

        An unreadable input yields a result with ``error`` set; the rest go on.
        ``cancel`` is polled between images; returning True ends the iteration.
        Inputs are decoded ahead in a few threads while earlier batches run
        through the network; a single input is decoded in the calling thread.
        """
        pending: list[_Loaded] = []

        def flush() -> Iterator[ImageResult]:
            tensors = [t for _, t, _ in pending if t is not None]
            if tensors:
                self._remember(tensors)
            tops = iter(self._topk(self.logits(torch.stack(tensors)), k)) if tensors else iter(())
            for source, tensor, error in pending:
                yield (
                    ImageResult(source, error=error)
                    if tensor is None
                    else ImageResult(source, next(tops))
                )
            pending.clear()

        for loaded in self._decoded(images, ahead=2 * max(1, batch_size)):
            if cancel and cancel():
                return
            pending.append(loaded())
            if len(pending) >= batch_size:
                yield from flush()
        if pending:
            yield from flush()

    def _decoded(self, images: Iterable[ImageInput], ahead: int) -> Iterator[Callable[[], _Loaded]]:
        """Each input's decode as a call that returns it, in order, up to ``ahead`` in flight."""
        if isinstance(images, Sequence) and len(images) <= 1:
            # One photo: a thread pool would only add its start-up to the latency.
            for position, item in enumerate(images):
                yield lambda item=item, position=position: self._load(item, position)
            return
        inputs = enumerate(images)
        with ThreadPoolExecutor(DECODE_WORKERS, thread_name_prefix="decode") as pool:
            queue: deque[Future[_Loaded]] = deque(
                pool.submit(self._load, item, pos) for pos, item in itertools.islice(inputs, ahead)
            )
            try:
                while queue:
                    yield queue.popleft().result
                    for pos, item in itertools.islice(inputs, 1):
                        queue.append(pool.submit(self._load, item, pos))
            finally:  # cancelled or abandoned: drop what has not started
                for future in queue:
                    future.cancel()

    def predict(self, images: ImageInput | Iterable[ImageInput], k: int = 5) -> list[ImageResult]:
        """Top-``k`` for each image: paths or PIL images, one result per input.

        Parameters
        ----------
        images : path, PIL image, or an iterable of them
            What to classify.
        k : int
            How many classes per image.

        Returns
        -------
        list of ImageResult
            One per input, in order; each is a sequence of ``(label, index,
            probability)`` or carries ``error``.
        """
        if isinstance(images, str | os.PathLike | Image.Image):
            images = [images]
        return list(self.iter_predict(images, k=k))


def load_classifier(
    weights: str | os.PathLike[str] = "imagenet",
    variant: Variant | str | None = None,
    device: str | torch.device = "auto",
    precision: str | Precision = "auto",
    **load_options,
) -> Classifier:
    """Load weights into Inception v3 and return a :class:`Classifier`.

    Parameters
    ----------
    weights : str or PathLike
        ``"imagenet"``, ``"none"`` (random, untrained), or a ``.pth`` /
        ``.safetensors`` file.
    variant : {"v3", "paper"}, optional
        The layout; for a file, what it must hold (default: whatever it holds).
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``.
    precision : {"auto", "fp32", "bf16", "fp16"}
        What the predictions compute in. ``auto`` starts in fp32 and, in a
        background thread, times the candidates this device runs (see
        :mod:`model.inference.tuning`), switching only to one that beats fp32 by
        5%; :attr:`Classifier.auto_choice` then holds the figures. Where bf16 is
        chosen on a CPU that computes it natively, it agrees with fp32 on the
        top-1 of at least 99% of images (tests/model/network/test_fastpath.py).
    **load_options
        ``progress``, ``cancel``, ``download``: see :func:`model.weights.loading.load_network`.

    Raises
    ------
    PrecisionError
        (a ``ValueError``) an unknown precision, or one the device lacks
        (fp16 on a CPU), raised before the weights are read.
    """
    target = resolve_device(device)  # fail on a missing device before loading anything
    resolve_precision(precision, target)  # and on a precision it cannot run
    network, info = load_network(weights, variant, **load_options)
    return Classifier(network, info, target, precision)
