"""The Train tab's recipe settings: sensible defaults, tooltips, advanced ones folded away."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QLabel,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from inception_gui.widgets.common import WEIGHTS_FILTER, precision_combo
from model.precision import TRAINING_PRECISIONS
from model.training.config import TRAIN_FROM
from model.training.recipes import recipe_for

__all__ = ["TrainSettings"]

_FLIP_HINT = (
    "Mirror images at random. Leave it off for text, digits and other classes that a "
    "mirror changes (a mirrored 'b' is a 'd')"
)

START_FROM = (("ImageNet weights", "imagenet"), ("A weights file…", "file"), ("Scratch", "none"))
_TRAIN_FROM_TEXT = {
    "head": "Head only (fastest)",
    "mixed_7": "From Mixed_7 (last blocks)",
    "mixed_6": "From Mixed_6",
    "all": "Everything",
}
TRAIN_FROM_CHOICES = tuple((_TRAIN_FROM_TEXT[key], key) for key in TRAIN_FROM)


def _choices(items) -> QComboBox:
    """A combo box of ``(text, key)`` pairs; ``currentData()`` gives the key."""
    combo = QComboBox()
    for text, key in items:
        combo.addItem(text, key)
    return combo


# Below this many training images in a class, fine-tuning pretrained layers measured no
# better than head only (bench/bench_recipes.py and the README's *Training quality*).
SMALL_CLASS = 50


class TrainSettings(QWidget):
    """Starting point, what to train, and the recipe, as ``TrainConfig`` keyword arguments."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.start_from = _choices(START_FROM)
        self.start_from.setToolTip("Pretrained ImageNet weights learn fastest from few images")
        self.start_file = ""
        self.loaded_weights: str | None = None  # the window's model, when it can be a start
        self._start_chosen = False  # the person picked a start: no default overrides it
        self.start_from.activated.connect(self._on_start_from_activated)
        self.start_from.currentIndexChanged.connect(self._on_start_from_changed)
        self.train_from = _choices(TRAIN_FROM_CHOICES)
        self.train_from.setToolTip(
            "Which layers learn. Head only caches the frozen network's features once, "
            "so epochs after the first take seconds."
        )
        self.train_from.currentIndexChanged.connect(self._update_dependent)
        self.preset = _choices(
            (("Recommended (measured)", "recommended"), ("Paper (Szegedy et al. 2015)", "paper"))
        )
        self.preset.setToolTip(
            "Recommended: the settings measured best for this starting point on real data. "
            "Paper: the seed's ImageNet recipe (RMSProp 0.045, 8% crops, flips)."
        )
        self.recipe_note = QLabel()
        self.recipe_note.setWordWrap(True)
        self.recipe_note.setTextFormat(Qt.TextFormat.PlainText)
        # Wrapped text gets a height guessed for a narrower column: keep it under its combo.
        self.recipe_note.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.smallest_class: int | None = None  # training images of the checked folder's smallest
        self.epochs = QSpinBox(minimum=1, maximum=500, value=10)
        # BatchNorm layers learn from the statistics of a batch: two images at least.
        self.batch_size = QSpinBox(minimum=2, maximum=512, value=32)
        self.batch_size.setToolTip("Images per step; the paper used 32")
        self.input_size = QSpinBox(minimum=75, maximum=599, value=299)
        self.input_size.setSuffix(" px")
        self.input_size.setToolTip("Side of the network's input; smaller trains faster")
        basic = QFormLayout()
        basic.addRow("Start from", self.start_from)
        basic.addRow("Train", self.train_from)
        basic.addRow("Recipe", self.preset)
        basic.addRow("", self.recipe_note)
        basic.addRow("Epochs", self.epochs)
        basic.addRow("Batch size", self.batch_size)
        basic.addRow("Input size", self.input_size)

        self.advanced_toggle = QToolButton(text="Advanced ▸", checkable=True)
        self.advanced_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.advanced = QGroupBox()
        self.advanced_toggle.toggled.connect(self._on_advanced_toggled)
        self.advanced.hide()
        self.optimizer = _choices(
            (
                ("RMSProp (paper: decay 0.9, ε 1.0)", "rmsprop"),
                ("AdamW", "adamw"),
                ("SGD with momentum", "sgd"),
            )
        )
        self.lr = QDoubleSpinBox(decimals=5, minimum=0.0, maximum=1.0, singleStep=0.001)
        self.lr.setSpecialValueText("the recipe's")
        self.schedule = _choices(
            (
                ("Exponential (0.94 every 2 epochs)", "exponential"),
                ("Cosine", "cosine"),
                ("Constant", "constant"),
            )
        )
        self.label_smoothing = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=0.5, singleStep=0.05)
        self.label_smoothing.setValue(0.1)
        self.label_smoothing.setToolTip("The paper's label-smoothing regularizer (ε = 0.1)")
        self.use_aux = QCheckBox("Auxiliary head (loss weight 0.4)")
        self.use_aux.setChecked(True)
        self.grad_clip = QDoubleSpinBox(decimals=1, minimum=0.0, maximum=100.0, value=2.0)
        self.grad_clip.setSpecialValueText("off")
        self.grad_clip.setToolTip("Clip the gradient norm (the paper used 2.0)")
        self.crop = QCheckBox("Random crops (keep the object: 35% of the image or more)")
        self.crop.setChecked(False)
        self.flip = QCheckBox("Horizontal flip")
        self.flip.setChecked(False)
        self.flip.setToolTip(_FLIP_HINT)
        self.cache = QCheckBox("Cache features (head only)")
        self.cache.setChecked(True)
        self.cache.setToolTip(
            "Run the frozen network once over centre crops and train the head on the "
            "saved features: epochs after the first take seconds, but without augmentation"
        )
        self.cache.toggled.connect(self._update_dependent)
        # The recipe's values go into the fields; the person may change any of them after.
        self.preset.currentIndexChanged.connect(self.apply_recipe)
        self.train_from.currentIndexChanged.connect(self.apply_recipe)
        self.start_from.currentIndexChanged.connect(self.apply_recipe)
        self.precision = precision_combo(
            "Auto: times a training step in each format this device runs, at this run's size, "
            "and keeps fp32 unless another is at least 5% faster",
            TRAINING_PRECISIONS,
        )
        self.early_stop = QSpinBox(minimum=0, maximum=100, value=0)
        self.early_stop.setSpecialValueText("off")
        self.early_stop.setToolTip(
            "Stop when validation loss has not improved for this many epochs"
        )
        adv = QFormLayout(self.advanced)
        adv.addRow("Optimizer", self.optimizer)
        adv.addRow("Learning rate", self.lr)
        adv.addRow("Schedule", self.schedule)
        adv.addRow("Label smoothing", self.label_smoothing)
        adv.addRow("", self.use_aux)
        adv.addRow("Gradient clipping", self.grad_clip)
        adv.addRow("Augmentation", self.crop)
        adv.addRow("", self.flip)
        adv.addRow("", self.cache)
        adv.addRow("Precision", self.precision)
        adv.addRow("Early stopping", self.early_stop)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(basic)
        outer.addWidget(self.advanced_toggle)
        outer.addWidget(self.advanced)
        self.apply_recipe()
        self._update_dependent()

    def chosen_recipe(self):
        """The named recipe for the form's preset and starting point."""
        start = self.start_from.currentData()
        weights = "none" if start == "none" else "pretrained"
        return recipe_for(self.preset.currentData(), self.train_from.currentData(), weights)

    def apply_recipe(self, *_args) -> None:
        """Fill the recipe's fields with the chosen recipe's values, and name it."""
        r = self.chosen_recipe()
        self.epochs.setValue(r.epochs)
        self.optimizer.setCurrentIndex(self.optimizer.findData(r.optimizer))
        self.lr.setValue(r.lr)
        self.schedule.setCurrentIndex(self.schedule.findData(r.schedule))
        self.label_smoothing.setValue(r.label_smoothing)
        self.use_aux.setChecked(r.use_aux)
        self.grad_clip.setValue(r.grad_clip)
        self.crop.setChecked(r.random_resized_crop)
        self.flip.setChecked(r.hflip)
        self.show_recipe_note()

    def set_smallest_class(self, images: int | None) -> None:
        """The checked folder's smallest class (training images), for the recipe's note."""
        self.smallest_class = images
        self.show_recipe_note()

    def show_recipe_note(self) -> None:
        """Name the chosen recipe with its evidence, and warn when the folder is too small."""
        r = self.chosen_recipe()
        note = f"{r.name}: {r.evidence}."
        n = self.smallest_class
        if r.head_first and n is not None and n < SMALL_CLASS:
            note += (
                f"\nYour smallest class has {n} training images. At 24 a class, fine-tuning's "
                "epochs measured below head only (0.80 against 0.93-0.97); at 60 and 144 they "
                "were level with it or ahead. Head only is faster; if fine-tuning does no "
                "better, the run keeps the new head it fits first (epoch 0) as its best."
            )
        self.recipe_note.setText(note)

    def recipe(self) -> dict[str, Any]:
        """The form as ``TrainConfig`` keyword arguments (all but the folders)."""
        start = self.start_from.currentData()
        weights = {"file": self.start_file, "loaded": self.loaded_weights}.get(start, start)
        return {
            "weights": weights,
            "train_from": self.train_from.currentData(),
            "preset": self.preset.currentData(),
            "epochs": self.epochs.value(),
            "batch_size": self.batch_size.value(),
            "optimizer": self.optimizer.currentData(),
            "lr": self.lr.value() or None,
            "schedule": self.schedule.currentData(),
            "label_smoothing": self.label_smoothing.value(),
            "use_aux": self.use_aux.isChecked(),
            "grad_clip": self.grad_clip.value(),
            "input_size": self.input_size.value(),
            "random_resized_crop": self.crop.isChecked(),
            "hflip": self.flip.isChecked(),
            "cache_features": self.cache.isChecked(),
            "precision": self.precision.currentData(),
            "early_stopping_patience": self.early_stop.value() or None,
        }

    def set_loaded_model(self, weights: str, name: str, trained: bool, imagenet: bool) -> None:
        """Offer the model the window has loaded as a starting point.

        Parameters
        ----------
        weights, name : str
            What was loaded (a path, "imagenet" or "none") and its display name.
        trained : bool
            False for random weights, which are no start worth offering.
        imagenet : bool
            Whether the ImageNet weights are on disk. When they are not, the loaded
            model becomes the default, unless the person has chosen a start.
        """
        index = self.start_from.findData("loaded")
        if not trained or weights in ("imagenet", "none"):  # nothing that ImageNet is not
            self.loaded_weights = None
            if index >= 0:
                self.start_from.removeItem(index)
            return
        self.loaded_weights = weights
        text = f"The model loaded now ({name})"
        if index < 0:
            self.start_from.insertItem(0, text, "loaded")
            index = 0
        self.start_from.setItemText(index, text)
        self.start_from.setItemData(index, weights, Qt.ItemDataRole.ToolTipRole)
        if not imagenet and not self._start_chosen:
            self.start_from.setCurrentIndex(index)

    def _remembered(self) -> tuple[dict, dict, dict]:
        combos = {
            "train_from": self.train_from,
            "optimizer": self.optimizer,
            "schedule": self.schedule,
            "precision": self.precision,
        }
        spins = {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "input_size": self.input_size,
            "lr": self.lr,
            "label_smoothing": self.label_smoothing,
            "grad_clip": self.grad_clip,
            "early_stop": self.early_stop,
        }
        checks = {
            "use_aux": self.use_aux,
            "crop": self.crop,
            "flip": self.flip,
            "cache": self.cache,
        }
        return combos, spins, checks

    def saved_values(self) -> dict[str, Any]:
        """The recipe to remember between launches (the starting point depends on the model)."""
        combos, spins, checks = self._remembered()
        values: dict[str, Any] = {k: c.currentData() for k, c in combos.items()}
        values.update({k: s.value() for k, s in spins.items()})
        values.update({k: c.isChecked() for k, c in checks.items()})
        return values

    def restore_values(self, values: dict[str, Any]) -> None:
        """Set what :meth:`saved_values` gave (as strings, from a settings file); skip the rest."""
        combos, spins, checks = self._remembered()
        for key, combo in combos.items():
            index = combo.findData(values.get(key))
            if index >= 0:
                combo.setCurrentIndex(index)
        for key, spin in spins.items():
            with contextlib.suppress(KeyError, TypeError, ValueError):  # absent or not a number
                spin.setValue(type(spin.value())(float(values[key])))
        for key, box in checks.items():
            if key in values:
                box.setChecked(str(values[key]).lower() in ("true", "1"))

    def _on_start_from_activated(self, _index: int) -> None:
        self._start_chosen = True
        if self.start_from.currentData() != "file":
            return
        path, _ = QFileDialog.getOpenFileName(self, "Start from weights", "", WEIGHTS_FILTER)
        if path:
            self.start_file = path
            self.start_from.setItemText(self.start_from.currentIndex(), Path(path).name)
        else:
            self.start_from.setCurrentIndex(0)

    def _on_start_from_changed(self, _index: int) -> None:
        # Random features teach a head nothing: from scratch, everything learns.
        if self.start_from.currentData() == "none" and self.train_from.currentData() == "head":
            self.train_from.setCurrentIndex(self.train_from.findData("all"))

    def _update_dependent(self, *_args) -> None:
        """Grey out the settings that the chosen layers make moot, and say why."""
        head = self.train_from.currentData() == "head"
        cached = head and self.cache.isChecked()
        self.cache.setEnabled(head)
        hints = {
            self.crop: "Random crops that keep at least 35% of the image, so the object stays",
            self.flip: _FLIP_HINT,
        }
        for box, hint in hints.items():
            box.setEnabled(not cached)
            box.setToolTip(
                "Cached features are centre crops: untick 'Cache features' to augment"
                if cached
                else hint
            )
        reads_mixed_6 = self.train_from.currentData() in ("mixed_6", "all")
        self.use_aux.setEnabled(reads_mixed_6)
        self.use_aux.setToolTip(
            "The auxiliary head reads Mixed_6e, so it trains only when Mixed_6 learns"
            if not reads_mixed_6
            else "Trains an extra classifier on Mixed_6e; its loss is added at weight 0.4"
        )

    def _on_advanced_toggled(self, shown: bool) -> None:
        self.advanced.setVisible(shown)
        self.advanced_toggle.setText("Advanced ▾" if shown else "Advanced ▸")
