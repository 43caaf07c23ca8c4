"""Files the app writes get the permissions a plain open() would give them (issue 14, smaller)."""

import os
import stat


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_a_checkpoint_is_written_0644_not_0600(tmp_path):
    import torch

    from model import Checkpoint, Preprocess, save_checkpoint

    path = save_checkpoint(
        Checkpoint({"x": torch.zeros(1)}, "v3", ("a",), Preprocess.for_size(96)),
        tmp_path / "w.safetensors",
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~_umask()
