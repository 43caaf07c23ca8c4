"""``inception-gui diagram``: SVG and PNG files of the network and of one block."""

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

from PySide6.QtGui import QImage

import model
from inception_gui.cli import main


def _texts(path):
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    return {"".join(t.itertext()).strip() for t in root.iter() if t.tag.endswith("text")}


def test_a_block_to_svg_at_a_small_size(tmp_path, capsys):
    out = tmp_path / "mixed_6b.svg"
    assert main(["diagram", "--out", str(out), "--input-size", "99", "--block", "Mixed_6b"]) == 0
    assert "Mixed_6b" in capsys.readouterr().out
    texts = _texts(out)
    # Figure 6: the 1x7 and 7x1 factorization, on the grid the summary measures at 99 px.
    _, c, h, w = model.summarize("v3", 99).root.find("Mixed_6b").output_shape
    assert h < 17 and {"Filter concat", "Base", "1x7 conv", "7x1 conv", f"{c}×{h}×{w}"} <= texts
    assert not any("17×17" in t for t in texts)


def test_a_checkpoint_is_drawn_with_its_own_head_to_png(tiny_checkpoint, tmp_path):
    out = tmp_path / "net.png"
    assert main(["diagram", "--out", str(out), "--weights", str(tiny_checkpoint)]) == 0
    image = QImage(str(out))
    assert image.width() > 600 and image.height() > 2 * image.width()  # a tall chain
    svg = tmp_path / "net.svg"
    assert main(["diagram", "--out", str(svg), "--weights", str(tiny_checkpoint)]) == 0
    texts = _texts(svg)
    # Its three classes and its 96 px input (the checkpoint's own), not ImageNet's.
    assert {"linear · 2048 → 3", "3×96×96"} <= texts
    assert any("→ 3 classes" in t for t in texts)  # its auxiliary head too


def test_bad_requests_are_usage_errors(tmp_path, capsys):
    assert main(["diagram", "--out", str(tmp_path / "x.jpg")]) == 2
    assert ".svg or .png" in capsys.readouterr().err
    out = str(tmp_path / "x.svg")
    assert main(["diagram", "--out", out, "--input-size", "75", "--block", "Mixed_9z"]) == 2
    err = capsys.readouterr().err
    assert "Mixed_9z" in err and "Mixed_7c" in err
    missing = str(tmp_path / "missing.safetensors")
    assert main(["diagram", "--out", out, "--weights", missing]) == 2
    assert "missing.safetensors" in capsys.readouterr().err
    assert not (tmp_path / "x.svg").exists()


def test_parsing_the_command_line_imports_no_qt():
    code = (
        "import json, sys; from inception_gui.cli.main import build_parser; "
        "build_parser().parse_args(['diagram', '--out', 'x.svg']); "
        "print(json.dumps(any(m.startswith('PySide6') for m in sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout.strip()) is False
