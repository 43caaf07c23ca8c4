"""Widgets shared by the tabs: prediction bars, pictures, banners, charts, formatting."""
