"""install-desktop with a home it cannot write: one line naming the folder (item 10)."""

import errno
import os

import pytest

from inception_gui.cli import main

READ_ONLY = os.strerror(errno.EROFS)


def _read_only(monkeypatch, name):
    """``os.<name>`` fails as on a read-only file system (root writes through any mode bits)."""

    def refuse(path, *args, **kwargs):
        raise OSError(errno.EROFS, READ_ONLY, os.fspath(path))

    monkeypatch.setattr(os, name, refuse)


@pytest.mark.parametrize("home", ["read-only", "a file"])
def test_install_desktop_in_a_home_it_cannot_write_says_so_in_one_line(
    tmp_path, monkeypatch, capsys, home
):
    data = tmp_path / "share"
    if home == "a file":
        data.write_text("not a folder")
        reason = os.strerror(errno.ENOTDIR)
    else:
        _read_only(monkeypatch, "mkdir")
        reason = READ_ONLY
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    assert main(["install-desktop"]) == 2
    captured = capsys.readouterr()
    assert captured.err == (
        f"inception-gui: error: cannot install the launcher: '{data / 'applications'}': {reason}\n"
    )
    assert captured.out == ""


def test_uninstall_desktop_that_cannot_remove_says_so_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert main(["install-desktop"]) == 0
    capsys.readouterr()
    _read_only(monkeypatch, "unlink")
    assert main(["install-desktop", "--uninstall"]) == 2
    entry = tmp_path / "applications" / "inception-gui.desktop"
    assert capsys.readouterr().err == (
        f"inception-gui: error: cannot remove the launcher: '{entry}': {READ_ONLY}\n"
    )
    assert entry.is_file()
