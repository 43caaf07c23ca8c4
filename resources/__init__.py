"""The app's icon and launcher, shipped in the wheel as ``inception_gui.resources``.

pyproject.toml maps this folder to that package name (``package-dir``); the code finds the
files through :func:`inception_gui.core.resources.resource` only.
"""
