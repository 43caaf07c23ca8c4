"""Image loading: every format and mode people have, and clear errors for the rest."""

import io

import numpy as np
import pytest
from PIL import Image

from model import ImageLoadError, iter_image_files, load_image


def _save(img, path, fmt, **kw):
    img.save(path, fmt, **kw)
    return path


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "BMP", "GIF", "TIFF"])
def test_formats_load_as_rgb(tmp_path, fmt):
    img = Image.new("RGB", (40, 30), (200, 30, 30))
    path = _save(img, tmp_path / f"x.{fmt.lower()}", fmt)
    out = load_image(path)
    assert out.mode == "RGB" and out.size == (40, 30)
    r, g, b = out.getpixel((20, 15))
    assert r > 150 and g < 80 and b < 80


@pytest.mark.parametrize("mode", ["L", "LA", "P", "RGBA", "CMYK", "I;16", "I", "F", "1"])
def test_modes_convert_to_rgb(tmp_path, mode):
    base = Image.new("RGB", (16, 16), (0, 128, 255))
    if mode == "I;16":
        img = Image.fromarray(np.full((16, 16), 40000, dtype=np.uint16))
    elif mode in ("I", "F"):
        img = Image.fromarray(
            np.linspace(0, 1000, 256)
            .reshape(16, 16)
            .astype(np.int32 if mode == "I" else np.float32)
        )
    else:
        img = base.convert(mode)
    fmt = "TIFF" if mode in ("CMYK", "I;16", "I", "F") else "PNG"
    path = _save(img, tmp_path / f"m.{fmt.lower()}", fmt)
    out = load_image(path)
    assert out.mode == "RGB" and out.size == (16, 16)
    if mode == "I;16":
        assert out.getpixel((0, 0)) == (156, 156, 156)  # 40000 / 257


def test_transparency_composites_over_white(tmp_path):
    img = Image.new("RGBA", (8, 8), (255, 0, 0, 0))
    out = load_image(_save(img, tmp_path / "clear.png", "PNG"))
    assert out.getpixel((4, 4)) == (255, 255, 255)


def test_gif_first_frame(tmp_path):
    frames = [Image.new("RGB", (10, 10), c) for c in [(255, 0, 0), (0, 0, 255)]]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    r, _, b = load_image(path).getpixel((5, 5))
    assert r > 200 and b < 50


def test_exif_orientation_is_applied(tmp_path):
    img = Image.new("RGB", (60, 20), (10, 200, 10))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    path = tmp_path / "rotated.jpg"
    img.save(path, "JPEG", exif=exif.tobytes())
    assert load_image(path).size == (20, 60)


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(ImageLoadError, match="empty") as info:
        load_image(path)
    assert info.value.path == str(path)


def test_truncated_file(tmp_path):
    buf = io.BytesIO()
    Image.effect_noise((200, 200), 50).convert("RGB").save(buf, "JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(ImageLoadError, match="truncated"):
        load_image(path)


def test_non_image_and_missing(tmp_path):
    text = tmp_path / "notes.jpg"
    text.write_text("not a picture")
    with pytest.raises(ImageLoadError, match="not an image"):
        load_image(text)
    with pytest.raises(ImageLoadError, match="no such file"):
        load_image(tmp_path / "gone.png")
    with pytest.raises(ImageLoadError, match="folder"):
        load_image(tmp_path)


def test_decompression_bomb_guard_stays_on(tmp_path, monkeypatch):
    path = _save(Image.new("RGB", (300, 300)), tmp_path / "big.png", "PNG")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100 * 100 // 2)
    with pytest.raises(ImageLoadError, match="decompression bomb"):
        load_image(path)


def test_folder_scan_is_recursive_sorted_and_skips_hidden(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / ".hidden").mkdir()
    for rel in ["a.jpg", "b/c.PNG", "b/readme.txt", ".hidden/x.jpg", ".dot.jpg"]:
        (tmp_path / rel).write_bytes(b"x")
    found = [p.relative_to(tmp_path).as_posix() for p in iter_image_files([tmp_path])]
    assert found == ["a.jpg", "b/c.PNG"]
    # A file named directly is passed through whatever its suffix, so its error shows.
    assert list(iter_image_files([tmp_path / "b/readme.txt"])) == [tmp_path / "b/readme.txt"]
