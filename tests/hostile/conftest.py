"""Hostile files and faults (issue 14): files the tests make, and spies that count what ran."""

import pytest
from PySide6.QtCore import QSettings

# A 3-line PostScript program: under Ghostscript it deletes the victim file. Pillow hands
# any file starting with %!PS to Ghostscript, whatever its name.
POSTSCRIPT = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n(/tmp/victim.txt) deletefile\n"


@pytest.fixture
def postscript(tmp_path):
    """``postscript(folder, name="x.jpg")``: write the PostScript program under an image name."""

    def make(folder=tmp_path, name="x.jpg"):
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        path.write_bytes(POSTSCRIPT)
        return path

    return make


@pytest.fixture
def decoder_spy(monkeypatch):
    """Counts each start of Pillow's PostScript reader and each Ghostscript run.

    Also counts every ``Image.open`` call that does not limit ``formats``: each one
    is a way for a file's first bytes to pick any decoder Pillow has.
    """
    from PIL import EpsImagePlugin, Image

    counts = {"eps_open": 0, "ghostscript": 0, "open_without_formats": 0}
    real_open, real_eps_open = Image.open, EpsImagePlugin.EpsImageFile._open

    def eps_open(self):
        counts["eps_open"] += 1
        return real_eps_open(self)

    def ghostscript(*args, **kwargs):
        counts["ghostscript"] += 1
        raise OSError("Ghostscript stand-in: a test must never get here")

    def image_open(fp, mode="r", formats=None):
        counts["open_without_formats"] += formats is None
        return real_open(fp, mode, formats)

    monkeypatch.setattr(EpsImagePlugin.EpsImageFile, "_open", eps_open)
    monkeypatch.setattr(EpsImagePlugin, "Ghostscript", ghostscript)
    monkeypatch.setattr(Image, "open", image_open)
    return counts


@pytest.fixture
def settings(tmp_path):
    """QSettings in a throwaway INI file, so no test reads or writes the person's settings."""
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, settings, tiny_checkpoint):
    """The main window on the tiny checkpoint, as in tests/gui."""
    from inception_gui.main_window import MainWindow

    settings.setValue("weights", str(tiny_checkpoint))
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.session.ready, timeout=60_000):
        win.start()
    yield win
    win.hub.shutdown()


@pytest.fixture
def fifo(tmp_path):
    """``fifo(path)``: make a named pipe there; no writer ever comes, so an open of it blocks."""
    import os

    def make(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(path)
        return path

    return make


@pytest.fixture
def within():
    """``within(seconds, call, *unblock)``: ``call()``'s result, or a failure if it hangs.

    A call still running after ``seconds`` fails the test; each FIFO in ``unblock`` is
    then opened for writing and closed, so the blocked reader sees an end of file and
    the thread ends instead of outliving the test.
    """
    import contextlib
    import os
    import threading

    def run(seconds, call, *unblock):
        outcome = {}

        def target():
            try:
                outcome["value"] = call()
            except BaseException as exc:  # handed to the test below
                outcome["error"] = exc

        thread = threading.Thread(target=target, daemon=True)
        thread.start()
        thread.join(seconds)
        if thread.is_alive():
            for path in unblock:
                with contextlib.suppress(OSError):
                    os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
            thread.join(10)
            pytest.fail(f"hung for more than {seconds} s")
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("value")

    return run


@pytest.fixture(scope="session")
def backbone(tmp_path_factory, calibrate_batchnorm):
    """A random v3 at 75 px whose BatchNorm statistics were measured (as in test_train.py)."""
    import torch

    from model import Checkpoint, Preprocess, build_network, save_checkpoint

    torch.manual_seed(0)
    net = build_network("v3", num_classes=3)
    calibrate_batchnorm(net, torch.rand(16, 3, 75, 75) * 4 - 2)
    path = tmp_path_factory.mktemp("backbone") / "backbone.safetensors"
    save_checkpoint(
        Checkpoint(net.state_dict(), "v3", ("a", "b", "c"), Preprocess.for_size(75)), path
    )
    return path


@pytest.fixture(scope="session")
def colours(tmp_path_factory, make_dataset):
    """Blue, green and red: six small pictures each."""
    return make_dataset(tmp_path_factory.mktemp("colours"), per_class=6)


@pytest.fixture
def head_config(backbone):
    """``head_config(data, out, **changes)``: a quick head-only run at 75 px."""
    from model.training.engine import TrainConfig

    def make(data, out, **changes):
        options = dict(
            weights=str(backbone),
            train_from="head",
            input_size=75,
            batch_size=4,
            epochs=2,
            val_fraction=0.25,
            lr=1e-5,
        )
        options.update(changes)
        return TrainConfig(str(data), str(out), **options)

    return make


@pytest.fixture
def unenterable(monkeypatch):
    """``unenterable(folder)``: make ``folder`` mode 000, so nothing in it can be reached.

    Root passes through mode bits, so where they do not stop this process, ``os.stat``,
    ``os.scandir``, ``os.listdir`` and ``os.open`` are made to refuse what mode 000 refuses
    (the folder's contents; listing or opening the folder itself) with the same error.
    """
    import errno
    import os

    locked = []

    def make(folder):
        folder.chmod(0)
        locked.append(folder)
        try:
            os.scandir(folder).close()
        except PermissionError:
            return folder  # the bits apply: the real thing
        inside = str(folder) + os.sep

        def refusing(real, itself):
            def call(path=".", *args, **kwargs):
                name = "" if isinstance(path, int) else os.fspath(path)
                if (itself and name == str(folder)) or name.startswith(inside):
                    raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), name)
                return real(path, *args, **kwargs)

            return call

        monkeypatch.setattr(os, "stat", refusing(os.stat, itself=False))
        for name in ("scandir", "listdir", "open"):
            monkeypatch.setattr(os, name, refusing(getattr(os, name), itself=True))
        return folder

    yield make
    for folder in locked:
        folder.chmod(0o755)
