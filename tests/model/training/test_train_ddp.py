"""Two CPU processes under torchrun (gloo): every rank ends with the same weights, rank 0 writes."""

import os
import socket
import subprocess
import sys

import pytest
from PIL import Image

from model import load_network


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("start", ["scratch", "fine-tune"])
def test_torchrun_two_processes_agree(start, tmp_path, make_dataset, backbone_file):
    """From scratch with the aux head; or fine-tuning Mixed_7 from a file, whose recipe fits
    the new head on everyone's cached features first (each process must end with the same)."""
    data = make_dataset(
        tmp_path / "data",
        {"dark": (20, 20, 20), "light": (230, 230, 230)},
        per_class=6,
        draw=lambda colour, i: Image.new("RGB", (40 + 4 * i, 48), colour),
        formats=("png",),
    )
    out, digests = tmp_path / "out", tmp_path / "digests"
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
        "--master-addr", "127.0.0.1", "--master-port", str(_free_port()),
        "-m", "inception_gui.cli", "train", str(data), "--out", str(out),
        "--input-size", "75", "--batch-size", "2", "--epochs", "1", "--json",
    ]  # fmt: skip
    if start == "scratch":
        cmd += ["--weights", "none", "--train-from", "all", "--aux"]
    else:
        cmd += ["--weights", str(backbone_file), "--train-from", "mixed_7", "--head-first", "20"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "INCEPTION_GUI_DIGEST_DIR": str(digests)}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=180)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    ranks = sorted(p.name for p in digests.iterdir())
    assert ranks == ["rank0.sha256", "rank1.sha256"]
    assert (digests / "rank0.sha256").read_text() == (digests / "rank1.sha256").read_text()
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert sum('"event": "TrainingDone"' in ln for ln in lines) == 1  # rank 1 prints nothing
    net, info = load_network(out / "last.safetensors")
    assert info.class_names == ("dark", "light") and info.training["processes"] == 2
    if start == "scratch":
        assert net.AuxLogits is not None  # trained from all, with the auxiliary head


def test_processes_take_disjoint_shards_that_cover_the_data():
    from model.training.distributed import World

    for epoch in (1, 2):
        shards = [World(rank=r, size=3).share(12, epoch, True, seed=0) for r in range(3)]
        assert sorted(i for shard in shards for i in shard) == list(range(12))  # each once
    one = World().share(12, 1, True, seed=0)
    assert sorted(one) == list(range(12)) and one != World().share(12, 2, True, seed=0)
    assert World().share(5, 1, False, seed=0) == [0, 1, 2, 3, 4]
