"""What a layer sees, and the variants side by side, in the Explorer."""

from PySide6.QtCore import QModelIndex


def test_feature_maps_have_the_layers_shape(window, qtbot, sample_images):
    from model import summarize

    explorer = window.explorer_tab
    window.resize(1280, 800)  # the width the tiles were once cut off at
    window.tabs.setCurrentWidget(explorer)
    explorer.side_tabs.setCurrentWidget(explorer.features)
    qtbot.waitUntil(lambda: explorer.summary is not None, timeout=60_000)
    explorer.set_image(str(sample_images[0]))
    root = explorer.proxy.index(0, 0, QModelIndex())
    index = next(
        explorer.proxy.index(r, 0, root)
        for r in range(explorer.proxy.rowCount(root))
        if explorer.proxy.index(r, 0, root).data() == "Mixed_6b"
    )
    explorer.tree.setCurrentIndex(index)
    qtbot.waitUntil(lambda: explorer.features.shown is not None, timeout=60_000)
    maps = explorer.features.shown
    size = window.session.state.input_size
    expected = summarize("v3", size).root.find("Mixed_6b").output_shape[1:]
    assert maps.shape == expected and maps.input_size == size
    assert len(maps.channels) == 16
    assert maps.channels[0].mean >= maps.channels[-1].mean
    qtbot.wait(50)  # the grid lays its tiles out
    grid = explorer.features
    assert grid.horizontalScrollBar().maximum() == 0  # every column in view
    assert grid.header.width() <= grid.viewport().width()


def test_variant_comparison_dialog(window, qtbot):
    from inception_gui.explorer.compare_dialog import CompareDialog

    dialog = CompareDialog(window.hub, 107, {}, window)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.comparison is not None, timeout=60_000)
    names = [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())]
    assert "Mixed_5b" in names and "Mixed_7c" in names
    assert "71%" in dialog.claims.toPlainText() and "28%" in dialog.claims.toPlainText()


def _feature_maps(count=16, layer="Mixed_6b.branch7x7dbl_3.conv"):
    import numpy as np

    from model.inference.features import ChannelMap, FeatureMaps

    rng = np.random.default_rng(0)
    channels = tuple(
        ChannelMap(i, 1.0 - i / count, 2.0, 0.5, rng.random((17, 17), dtype=np.float32))
        for i in range(count)
    )
    return FeatureMaps(layer=layer, input_size=299, shape=(768, 17, 17), channels=channels)


def test_feature_grid_reflows_to_the_width(qtbot):
    from inception_gui.explorer.feature_grid import FeatureGrid

    grid = FeatureGrid()
    qtbot.addWidget(grid)
    grid.show_maps(_feature_maps())
    one_line = grid.header.fontMetrics().height()
    for tiles in (2, 3, 5):
        grid.resize(tiles * (grid.tile_width + 12) + 40, 500)
        grid.show()
        qtbot.waitUntil(lambda t=tiles: grid.columns == t, timeout=2_000)
        qtbot.wait(20)  # the scroll area lays its widget out
        assert grid.horizontalScrollBar().maximum() == 0  # nothing cut off at the side
        assert grid.header.width() <= grid.viewport().width()  # the heading wraps instead
        assert [grid.tile_position(i) for i in range(tiles + 1)] == [
            *((0, c) for c in range(tiles)),
            (1, 0),
        ]
        if tiles == 2:
            assert grid.header.height() >= 2 * one_line  # the whole heading, on several lines
