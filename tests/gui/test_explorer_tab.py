"""The Explorer tab: the layer tree model, search, variant switch, details."""

from PySide6.QtCore import Qt

from inception_gui.layer_tree_model import NODE_ROLE, LayerFilterProxyModel, LayerTreeModel


def test_layer_tree_model_passes_the_model_tester(qtmodeltester):
    from model import summarize

    model = LayerTreeModel()
    model.set_root(summarize("v3", input_size=75).root)
    qtmodeltester.check(model)
    proxy = LayerFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.set_search("branch7x7")
    qtmodeltester.check(proxy)


def _visible_names(proxy, parent=None):
    from PySide6.QtCore import QModelIndex

    parent = parent or QModelIndex()
    names = []
    for row in range(proxy.rowCount(parent)):
        index = proxy.index(row, 0, parent)
        names.append(proxy.data(index, NODE_ROLE).path)
        names += _visible_names(proxy, index)
    return names


def test_search_filters_rows():
    from model import summarize

    model = LayerTreeModel()
    model.set_root(summarize("v3", input_size=75).root)
    proxy = LayerFilterProxyModel()
    proxy.setSourceModel(model)
    everything = _visible_names(proxy)
    proxy.set_search("mixed_7b")
    shown = _visible_names(proxy)
    assert "Mixed_7b" in shown and "Mixed_6a" not in shown
    assert "Mixed_7b.branch3x3_2a.conv" in shown  # a matching block keeps its layers
    proxy.set_search("InceptionAux")
    assert next(p for p in _visible_names(proxy) if p) == "AuxLogits"
    proxy.set_search("")
    assert _visible_names(proxy) == everything


def test_header_click_ranks_blocks_and_forward_order_comes_first():
    from PySide6.QtCore import QModelIndex

    from model import summarize

    model = LayerTreeModel()
    model.set_root(summarize("v3", input_size=75).root)
    proxy = LayerFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.sort(-1)  # as the tab starts: the network's own order

    def blocks():
        root = proxy.index(0, 0, QModelIndex())
        return [proxy.data(proxy.index(r, 0, root), NODE_ROLE) for r in range(proxy.rowCount(root))]

    assert blocks()[0].name == "Conv2d_1a_3x3"
    proxy.sort(4, Qt.SortOrder.DescendingOrder)  # the "total params" header
    ranked = [node.total_params for node in blocks()]
    assert ranked == sorted(ranked, reverse=True) and blocks()[0].name != "Conv2d_1a_3x3"


def test_variant_switch_updates_totals(window, qtbot):
    tab = window.explorer_tab
    window.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: tab.summary is not None, timeout=60_000)
    assert tab.summary.total_params == 27_161_264
    assert "27,161,264" in tab.totals.text()
    with qtbot.waitSignal(tab.summary_ready, timeout=60_000) as blocker:
        tab.variant_combo.setCurrentIndex(tab.variant_combo.findData("paper"))
    assert blocker.args[0].total_params == 24_826_016
    assert "24,826,016" in tab.totals.text()
    root = tab.tree_model.index(0, 0)
    assert tab.tree_model.data(root.siblingAtColumn(4), Qt.ItemDataRole.DisplayRole) == "24,826,016"


def test_input_size_change_and_block_details(window, qtbot):
    tab = window.explorer_tab
    window.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: tab.summary is not None, timeout=60_000)
    with qtbot.waitSignal(tab.summary_ready, timeout=60_000):
        tab.size_spin.setValue(139)
    assert tab.summary.root.find("Mixed_6e").output_shape == (1, 768, 7, 7)
    tab.search.setText("Mixed_6b")
    index = next(
        tab.proxy.index(r, 0, tab.proxy.index(0, 0))
        for r in range(tab.proxy.rowCount(tab.proxy.index(0, 0)))
        if tab.proxy.index(r, 0, tab.proxy.index(0, 0)).data() == "Mixed_6b"
    )
    tab.tree.setCurrentIndex(index)
    qtbot.waitUntil(lambda: "1x7 then 7x1" in tab.details.toPlainText(), timeout=10_000)
    text = tab.details.toPlainText()
    assert "fewer" in text and "InceptionC" in text
    assert "Mixed_6b" in tab.tree_model.to_csv()


def test_summary_waits_until_the_tab_is_shown(window, qtbot):
    window.tabs.setCurrentWidget(window.classify_tab)
    qtbot.wait(300)
    assert window.explorer_tab.summary is None  # start-up work goes to the model first
    window.tabs.setCurrentWidget(window.explorer_tab)
    qtbot.waitUntil(lambda: window.explorer_tab.summary is not None, timeout=60_000)
