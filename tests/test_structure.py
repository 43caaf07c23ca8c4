"""The house rules that no contract in pyproject can check: torch-free rooms, the package list,
and a wheel that carries its resources."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]

# Modules the GUI and the CLI import before the window shows: none may pull in torch.
TORCH_FREE = [
    "model",
    "model.errors",
    "model.precision",
    "model.files",
    "model.network",
    "model.network.variants",
    "model.weights",
    "model.data",
    "model.inference",
    "model.training",
    "model.training.config",
    "model.training.events",
    "model.training.records",
    "model.training.run_folder",
    "inception_gui.cli.main",
    "inception_gui.main_window",
]


def _imported_after(module: str) -> dict:
    code = (
        f"import importlib, json, sys; importlib.import_module({module!r}); "
        "print(json.dumps({m: m in sys.modules for m in ('torch', 'torchvision')}))"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("module", TORCH_FREE)
def test_importing_leaves_torch_unimported(module):
    assert _imported_after(module) == {"torch": False, "torchvision": False}


def test_the_lazy_front_gives_the_real_objects():
    import model
    from model.training.engine import train
    from model.weights.loading import load_network

    assert model.train is train
    assert model.load_network is load_network
    assert set(model.__all__) <= set(dir(model))
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        _ = model.nothing_here


def test_every_name_the_fronts_export_resolves():
    import importlib

    for package in (
        "model",
        "model.network",
        "model.weights",
        "model.data",
        "model.inference",
        "model.training",
    ):
        front = importlib.import_module(package)
        for name in front.__all__:
            assert getattr(front, name) is not None, f"{package}.{name}"


def test_the_package_list_matches_the_packages_on_disk():
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    on_disk = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for top in ("model", "inception_gui")
        for p in (ROOT / top).rglob("__init__.py")
    }
    assert listed == on_disk | {"inception_gui.resources"}


def test_the_wheel_carries_its_resources_and_installs_the_launcher(tmp_path):
    """Built and installed as pip would for a user (not editable), install-desktop works."""
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheels),
        ],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    target = tmp_path / "site"
    (wheel,) = wheels.glob("*.whl")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    assert (target / "inception_gui" / "resources" / "inception-gui.svg").is_file()
    xdg = tmp_path / "xdg"
    env = {**os.environ, "PYTHONPATH": str(target), "XDG_DATA_HOME": str(xdg)}
    where = subprocess.run(
        [sys.executable, "-c", "import inception_gui; print(inception_gui.__file__)"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(target)  # the wheel, not this checkout
    run = subprocess.run(
        [sys.executable, "-m", "inception_gui.cli", "install-desktop"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    desktop = xdg / "applications" / "inception-gui.desktop"
    assert desktop.is_file()
    assert "Exec=" in desktop.read_text()
    assert list(xdg.rglob("inception-gui.svg"))
