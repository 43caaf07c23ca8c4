"""The Explorer says which image its maps are of, and what its filter left."""

import itertools

from PySide6.QtCore import QModelIndex


def _select(explorer, name):
    root = explorer.proxy.index(0, 0, QModelIndex())
    index = next(
        explorer.proxy.index(r, 0, root)
        for r in range(explorer.proxy.rowCount(root))
        if explorer.proxy.index(r, 0, root).data() == name
    )
    explorer.tree.setCurrentIndex(index)


def test_maps_name_their_image_and_go_with_a_hidden_layer(window, qtbot, sample_images):
    explorer = window.explorer_tab
    window.tabs.setCurrentWidget(explorer)
    explorer.side_tabs.setCurrentWidget(explorer.features)
    qtbot.waitUntil(lambda: explorer.summary is not None, timeout=60_000)
    explorer.set_image(str(sample_images[0]))
    _select(explorer, "Mixed_5b")
    qtbot.waitUntil(lambda: explorer.features.shown is not None, timeout=60_000)
    assert sample_images[0].name in explorer.features.header.text()
    # A filter that hides the layer takes its maps away too.
    explorer.search.setText("Mixed_7")
    qtbot.waitUntil(lambda: explorer.proxy.search == "mixed_7", timeout=5_000)
    qtbot.wait(50)
    assert "Mixed_5b" not in explorer.features.header.text()
    # A filter that matches nothing says so.
    explorer.search.setText("no such layer")
    qtbot.waitUntil(lambda: explorer.no_match.isVisible(), timeout=5_000)
    assert "No layer matches 'no such layer'" in explorer.no_match.text()
    explorer.search.clear()
    qtbot.waitUntil(lambda: not explorer.no_match.isVisible(), timeout=5_000)


def test_compare_pairs_stages_and_ends_with_the_totals(window, qtbot):
    from inception_gui.explorer.compare_dialog import CompareDialog

    dialog = CompareDialog(window.hub, 107, {}, window)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.comparison is not None, timeout=120_000)
    table = dialog.table
    rows = [[table.item(r, c).text() for c in range(7)] for r in range(table.rowCount())]
    # No two neighbouring rows hold one variant each: such stages share a row.
    half = ["v3" if row[4] == "—" else "paper" if row[1] == "—" else "" for row in rows]
    assert not any({a, b} == {"v3", "paper"} for a, b in itertools.pairwise(half))
    v3, paper = dialog.comparison.summaries["v3"], dialog.comparison.summaries["paper"]
    assert rows[-1][0] == "Whole network"
    assert rows[-1][2] == f"{v3.total_params:,}" and rows[-1][5] == f"{paper.total_params:,}"
