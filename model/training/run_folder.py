"""The names of a run folder's files, and whether a folder holds a run: torch-free.

The Train tab asks this before a run starts (to suggest a fresh folder), without loading
torch; :mod:`model.training.run_files` writes the files.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["BEST", "LAST", "STATE", "holds_run"]

LAST = "last.safetensors"  # the checkpoint of the latest finished epoch
BEST = "best.safetensors"  # the checkpoint of the epoch with the best validation accuracy
STATE = "last.state.pt"  # everything else a resumed run needs


def holds_run(out_dir: str | Path) -> bool:
    """Whether ``out_dir`` holds a run's files, which a new run there would replace."""
    out = Path(out_dir).expanduser()
    # os.path.lexists: False, not PermissionError, where a folder on the way cannot be entered
    # (writing there is refused later, with the reason); a dangling link still counts.
    return any(os.path.lexists(out / name) for name in (LAST, STATE))
