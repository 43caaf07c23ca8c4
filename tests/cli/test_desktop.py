"""The desktop launcher: installed for the current user, pointing at this interpreter."""

import configparser
import sys

from inception_gui.cli import main


def test_install_and_uninstall_desktop_launcher(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert main(["install-desktop"]) == 0
    entry = tmp_path / "applications" / "inception-gui.desktop"
    icon = tmp_path / "icons" / "hicolor" / "scalable" / "apps" / "inception-gui.svg"
    assert entry.is_file() and icon.is_file()
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(entry)
    section = parser["Desktop Entry"]
    assert section["Exec"].startswith(sys.executable) and section["Exec"].endswith("%F")
    assert section["Icon"] == "inception-gui"
    assert "image/jpeg" in section["MimeType"] and section["Type"] == "Application"
    # Image types only: inode/directory would offer the app for every folder.
    assert all(t.startswith("image/") for t in section["MimeType"].strip(";").split(";"))
    assert main(["install-desktop", "--uninstall"]) == 0
    assert not entry.exists() and not icon.exists()
    assert "installed" in capsys.readouterr().out
