"""The two layouts of the network and the smallest input they take: one torch-free definition.

The GUI's menus, the CLI's choices and the training configuration read these without
loading torch; :mod:`model.network.inception` builds the layouts.
"""

from __future__ import annotations

import enum

__all__ = ["MIN_INPUT_SIZE", "VARIANT_NAMES", "Variant"]

MIN_INPUT_SIZE = 75  # the smallest side the stem and both grid reductions accept


class Variant(str, enum.Enum):
    """Which layout of Inception v3 to build."""

    V3 = "v3"  # the released network (torchvision's Inception3)
    PAPER = "paper"  # the seed document's layout of the paper's table 1

    @classmethod
    def parse(cls, value: str | Variant) -> Variant:
        """Return the variant named by ``value``, with a clear error for anything else."""
        try:
            return cls(value)
        except ValueError:
            names = ", ".join(v.value for v in cls)
            raise ValueError(f"unknown variant {value!r}; choose one of: {names}") from None


VARIANT_NAMES = tuple(v.value for v in Variant)  # "v3", "paper"
