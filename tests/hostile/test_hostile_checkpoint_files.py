"""Damaged and foreign weights files: one line naming the file and the reason (issue 13, item 14).

torch and safetensors word their failures for their own developers: miniz's paragraph
about a central directory for a truncated .pth, "pop from empty list" for a file that
starts with ``.``, "header too large" for a .pth named .safetensors.
"""

import io
import zipfile

import pytest
import torch

from model.weights.checkpoint import CheckpointError
from model.weights.loading import load_network


def _saved(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def _zip(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


PTH = _saved({"fc.weight": torch.zeros(10, 2048), "fc.bias": torch.zeros(10)})

CASES = [
    ("cut.pth", PTH[: len(PTH) // 2], "is cut short, or is not a PyTorch checkpoint"),
    ("stop.pth", b".", "is not a PyTorch checkpoint (not a pickle of tensors)"),
    ("stack.pth", b"}s.", "is not a PyTorch checkpoint (not a pickle of tensors)"),
    ("notes.pth", b"some notes\n", "is not a PyTorch checkpoint (not a pickle of tensors)"),
    ("album.pth", _zip("photo.txt", b"hi"), "is a zip archive, but not a PyTorch checkpoint"),
    ("empty.pth", b"", "is empty (0 bytes)"),
    ("empty.safetensors", b"", "is empty (0 bytes)"),
    ("tiny.safetensors", b"\x05\x00", "is cut short, or is not a safetensors file"),
    ("renamed.safetensors", PTH, "is not a safetensors file (no safetensors header"),
    ("garbled.safetensors", b"\x0a" + bytes(7) + b"not json!!", "its header is damaged"),
]


@pytest.mark.parametrize(("name", "content", "reason"), CASES, ids=[c[0] for c in CASES])
def test_a_damaged_weights_file_is_named_with_one_readable_reason(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CheckpointError) as info:
        load_network(path)
    message = str(info.value)
    assert message == f"{path}: {info.value.reason}"
    assert reason in info.value.reason
    assert "\n" not in message and len(info.value.reason) < 100
    for jargon in ("miniz", "central directory", "pop from", "deserializing", "weights_only"):
        assert jargon not in message


def test_a_cut_short_project_checkpoint_says_so(tmp_path, tiny_checkpoint):
    content = tiny_checkpoint.read_bytes()
    path = tmp_path / "best.safetensors"
    path.write_bytes(content[: len(content) * 2 // 3])
    with pytest.raises(CheckpointError, match=r"best\.safetensors: is cut short \(its header"):
        load_network(path)
