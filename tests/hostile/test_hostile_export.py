"""Export: read-only files kept, links written through, a bad opset refused (items 3, 10)."""

import os
from pathlib import Path

import pytest


def test_atomic_write_refuses_a_read_only_file(tmp_path):
    from model.files import atomic_write

    target = tmp_path / "model.onnx"
    target.write_text("the person's own file")
    target.chmod(0o444)
    with pytest.raises(PermissionError, match="read-only") as caught:
        atomic_write(target, lambda tmp: Path(tmp).write_text("new"))
    assert caught.value.filename == str(target)
    assert target.read_text() == "the person's own file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]


def test_atomic_write_writes_through_a_symlink(tmp_path):
    from model.files import atomic_write

    real = tmp_path / "real" / "model.onnx"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "link.onnx"
    link.symlink_to(real)
    atomic_write(link, lambda tmp: Path(tmp).write_text("new"))
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "new"


def test_the_export_cli_refuses_a_read_only_file_before_exporting(
    tmp_path, tiny_checkpoint, capsys
):
    from inception_gui.cli import main

    target = tmp_path / "model.onnx"
    target.write_text("keep me")
    target.chmod(0o444)
    assert main(["export", "--weights", str(tiny_checkpoint), "--out", str(target)]) == 2
    err = capsys.readouterr().err
    assert f"{target}: the file is read-only" in err and "Traceback" not in err
    assert target.read_text() == "keep me"


@pytest.mark.parametrize("opset", ["1", "17", "999"])
def test_the_export_cli_refuses_an_opset_it_cannot_write(tmp_path, tiny_checkpoint, capsys, opset):
    from inception_gui.cli import main

    out = tmp_path / "model.onnx"
    args = ["export", "--weights", str(tiny_checkpoint), "--out", str(out), "--opset", opset]
    assert main(args) == 2
    captured = capsys.readouterr()
    assert "ONNX opset must be from 18 to " in captured.err and f"not {opset}" in captured.err
    assert "ok" not in captured.out and not out.exists()
