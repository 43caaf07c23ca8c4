"""A Linux without the X11 libraries Qt needs: one line that says what to install."""

import pytest

from inception_gui.core.display import XCB_LIBRARIES, display_problem

MISSING = {"libxcb-cursor.so.0", "libxkbcommon-x11.so.0"}


def fake_loads(name):
    return name not in MISSING


def test_missing_libraries_are_named_with_their_packages():
    line = display_problem({"DISPLAY": ":0"}, "linux", fake_loads)
    assert "\n" not in line
    assert "libxcb-cursor.so.0, libxkbcommon-x11.so.0" in line
    assert "sudo apt install libxcb-cursor0 libxkbcommon-x11-0" in line
    assert "sudo dnf install xcb-util-cursor libxkbcommon-x11" in line
    assert "inception-gui --help" in line


@pytest.mark.parametrize(
    ("environ", "platform"),
    [
        ({"QT_QPA_PLATFORM": "offscreen"}, "linux"),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux"),
        ({}, "darwin"),
        ({}, "win32"),
    ],
)
def test_nothing_is_said_where_xcb_is_not_used(environ, platform):
    assert display_problem(environ, platform, fake_loads) is None


def test_nothing_is_said_when_every_library_loads():
    assert display_problem({"QT_QPA_PLATFORM": "xcb"}, "linux", lambda _name: True) is None
    assert len(XCB_LIBRARIES) >= 11


def test_the_app_prints_the_line_instead_of_aborting(monkeypatch, capsys):
    from inception_gui import app

    monkeypatch.setattr(app, "display_problem", lambda: "inception-gui: Qt cannot open a window")
    monkeypatch.setattr(app.QApplication, "instance", staticmethod(lambda: None))
    monkeypatch.setattr(app, "create_app", lambda: pytest.fail("the window must not be tried"))
    assert app.main([]) == 1
    assert capsys.readouterr().err.strip() == "inception-gui: Qt cannot open a window"
