"""Classifying images: the public entry point that scripts and the GUI share."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple, overload

import torch
from PIL import Image

from model.device import resolve_device
from model.images import ImageLoadError, load_image, to_rgb
from model.network import Inception3, Variant
from model.weights import WeightsInfo, load_network

__all__ = ["Classifier", "ImageResult", "Prediction", "load_classifier"]

ImageInput = str | os.PathLike[str] | Image.Image


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
    """

    def __init__(self, network: Inception3, info: WeightsInfo, device: torch.device) -> None:
        network.drop_aux()  # inference never uses the aux head
        self.network = network.eval().to(device)
        self.info = info
        self.device = device
        self._transform = info.preprocess.transform

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.info.class_names

    def to(self, device: str | torch.device) -> Classifier:
        """Move the network to another device (``"cpu"``, ``"cuda:0"``...)."""
        self.device = resolve_device(device)
        self.network.to(self.device)
        return self

    def _load(self, item: ImageInput, position: int) -> tuple[str, torch.Tensor]:
        if isinstance(item, Image.Image):
            return f"<image {position}>", self._transform(to_rgb(item))
        return str(item), self._transform(load_image(item))

    @torch.inference_mode()
    def logits(self, batch: torch.Tensor) -> torch.Tensor:
        """Raw logits for a preprocessed ``N x 3 x H x W`` batch (float32, on the CPU)."""
        return self.network(batch.to(self.device)).float().cpu()

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
        """
        pending: list[tuple[int, str, torch.Tensor | None, str | None]] = []

        def flush() -> Iterator[ImageResult]:
            tensors = [t for _, _, t, _ in pending if t is not None]
            tops = iter(self._topk(self.logits(torch.stack(tensors)), k)) if tensors else iter(())
            for _, source, tensor, error in pending:
                if tensor is None:
                    yield ImageResult(source, error=error)
                else:
                    yield ImageResult(source, next(tops))
            pending.clear()

        for position, item in enumerate(images):
            if cancel and cancel():
                return
            try:
                source, tensor = self._load(item, position)
                pending.append((position, source, tensor, None))
            except ImageLoadError as exc:
                pending.append((position, exc.path, None, exc.reason))
            if len(pending) >= batch_size:
                yield from flush()
        if pending:
            yield from flush()

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
    **load_options
        ``progress``, ``cancel``, ``download``: see :func:`model.weights.load_network`.
    """
    target = resolve_device(device)  # fail on a missing device before loading anything
    network, info = load_network(weights, variant, **load_options)
    return Classifier(network, info, target)
