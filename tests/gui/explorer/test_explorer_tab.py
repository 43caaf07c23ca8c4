"""The Explorer tab: the layer tree model, search, variant switch, details."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from inception_gui.explorer.layer_tree_model import NODE_ROLE, LayerFilterProxyModel, LayerTreeModel


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


# ImageNet's v3 has 27,161,264 parameters; the tiny checkpoint's two classifiers (fc on 2048
# features, the aux head's on 768) have 3 outputs instead of 1000, each with its bias.
TINY_V3_PARAMS = 27_161_264 - 997 * (2048 + 1) - 997 * (768 + 1)
TINY_PAPER_PARAMS = 24_826_016 - 997 * (2048 + 1) - 997 * (1024 + 1)  # paper's aux: 1024


def test_variant_switch_updates_totals(window, qtbot):
    tab = window.explorer_tab
    window.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: tab.summary is not None, timeout=60_000)
    assert tab.summary.total_params == TINY_V3_PARAMS
    assert f"{TINY_V3_PARAMS:,}" in tab.totals.text()
    with qtbot.waitSignal(tab.summary_ready, timeout=60_000) as blocker:
        tab.variant_combo.setCurrentIndex(tab.variant_combo.findData("paper"))
    assert blocker.args[0].total_params == TINY_PAPER_PARAMS
    assert f"{TINY_PAPER_PARAMS:,}" in tab.totals.text()
    root = tab.tree_model.index(0, 0)
    total = tab.tree_model.data(root.siblingAtColumn(4), Qt.ItemDataRole.DisplayRole)
    assert total == f"{TINY_PAPER_PARAMS:,}"


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


# The loaded model -------------------------------------------------------------------------
def _fc_width(summary) -> int:
    return summary.root.find("fc").details["out_features"]


def test_explorer_follows_the_loaded_model(window, qtbot, tmp_path):
    import torch

    from model import Checkpoint, Preprocess, build_network, save_checkpoint

    tab = window.explorer_tab
    window.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: tab.summary is not None, timeout=60_000)
    # The window loaded the tiny checkpoint: v3, 3 classes, 96 px (not ImageNet's 1000 at 299).
    assert (tab.summary.variant, tab.summary.input_size, _fc_width(tab.summary)) == ("v3", 96, 3)
    assert tab.size_spin.value() == 96
    label = tab.model_label.text()
    assert "tiny.safetensors" in label and "3 classes" in label and "96 px" in label
    assert "back to the loaded model" not in label
    assert tab.summary.root.find("AuxLogits") is not None  # the tiny model has its aux head

    # Exploring another size keeps the loaded model's classes, and says it is not the model.
    with qtbot.waitSignal(tab.summary_ready, timeout=60_000):
        tab.size_spin.setValue(107)
    assert (tab.summary.input_size, _fc_width(tab.summary)) == (107, 3)
    assert "back to the loaded model" in tab.model_label.text()
    # A device move announces the same model again: what is being explored stays.
    window.session.ready.emit(window.session.state)
    assert tab.size_spin.value() == 107
    with qtbot.waitSignal(tab.summary_ready, timeout=60_000):
        tab.model_label.linkActivated.emit("loaded")
    assert (tab.summary.input_size, _fc_width(tab.summary)) == (96, 3)

    # Another model is loaded: the Explorer switches variant, classes and size with it.
    torch.manual_seed(1)
    path = tmp_path / "paper5.safetensors"
    save_checkpoint(
        Checkpoint(
            # Saved without the auxiliary head, as head-only runs are.
            state=build_network("paper", num_classes=5, aux_logits=False).state_dict(),
            variant="paper",
            class_names=tuple("abcde"),
            preprocess=Preprocess.for_size(80),
        ),
        path,
    )
    window.load_weights(str(path))
    qtbot.waitUntil(
        lambda: tab.summary is not None and tab.summary.variant == "paper", timeout=120_000
    )
    assert (tab.summary.input_size, _fc_width(tab.summary)) == (80, 5)
    assert tab.variant_combo.currentData() == "paper" and tab.size_spin.value() == 80
    assert "paper5.safetensors" in tab.model_label.text() and "5 classes" in tab.model_label.text()
    assert tab.summary.root.find("AuxLogits") is None  # the tree is the model's: no aux head
    assert "no auxiliary head" in tab.model_label.text()


def test_a_failed_export_goes_to_the_error_relay(window, qtbot, monkeypatch):
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    tab = window.explorer_tab
    window.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: tab.summary is not None, timeout=60_000)
    target = "/proc/nope/x.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (target, ""))
    tab.export_button.click()
    title, message = window.last_error
    assert title == "Export layer table" and target in message
    boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    assert any(target in b.text() for b in boxes)  # a message box, not only the status bar


# A tab on its own (no model loaded), at a small input size ----------------------------------
@pytest.fixture
def explorer(qtbot):
    from inception_gui.core.workers import WorkerHub
    from inception_gui.explorer.tab import ExplorerTab

    hub = WorkerHub()
    tab = ExplorerTab(hub)
    qtbot.addWidget(tab)
    with qtbot.waitSignal(tab.summary_ready, timeout=60_000):
        tab.size_spin.setValue(75)
        tab.show()
    yield tab
    hub.shutdown()


def _proxy_index(tab, path):
    return _proxy_path(tab.proxy, path)


def test_filter_waits_for_typing_to_pause_and_columns_fit(explorer, qtbot, monkeypatch):
    from PySide6.QtWidgets import QHeaderView

    from inception_gui.explorer.layer_tree_model import COLUMNS, display_text

    tab = explorer
    passes = []
    set_search = tab.proxy.set_search
    monkeypatch.setattr(
        tab.proxy, "set_search", lambda text: (passes.append(text), set_search(text))
    )
    everything = len(_visible_names(tab.proxy))
    qtbot.keyClicks(tab.search, "Mixed_6")
    assert passes == [] and len(_visible_names(tab.proxy)) == everything  # not per keystroke
    qtbot.waitUntil(lambda: passes == ["Mixed_6"], timeout=5_000)
    shown = _visible_names(tab.proxy)
    assert {"Mixed_6a", "Mixed_6e", "Mixed_6b.branch7x7_2.conv"} <= set(shown)
    assert "Mixed_5b" not in shown
    assert tab.tree.isExpanded(_proxy_index(tab, "Mixed_6b.branch7x7_2"))
    # Cleared: every block again, closed.
    tab.search.clear()
    qtbot.waitUntil(lambda: len(_visible_names(tab.proxy)) == everything, timeout=5_000)
    assert not tab.tree.isExpanded(_proxy_index(tab, "Mixed_6b"))
    assert tab.tree.isExpanded(_proxy_index(tab, ""))
    # Columns are sized once to their widest text; expanding never re-measures the rows.
    header, metrics = tab.tree.header(), tab.tree.fontMetrics()
    for col in range(1, len(COLUMNS)):
        assert header.sectionResizeMode(col) != QHeaderView.ResizeMode.ResizeToContents
        widest = max(
            metrics.horizontalAdvance(display_text(n, col)) for n in tab.summary.root.walk()
        )
        assert header.sectionSize(col) >= widest


def test_type_filter_matches_the_type_not_every_type_containing_it():
    from model import summarize

    model = LayerTreeModel()
    model.set_root(summarize("v3", input_size=75).root)
    proxy = LayerFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.set_search("Conv2d")
    shown = _visible_names(proxy)
    assert "Mixed_5b.branch1x1.conv" in shown  # the plain convolutions
    assert "Mixed_5b.branch1x1.bn" not in shown  # not the BasicConv2d blocks' BatchNorms
    # The BasicConv2d row around a match is shown greyed, as the way to it; the match is not.
    grey = QApplication.palette().brush(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
    block, conv = (
        _proxy_path(proxy, "Mixed_5b.branch1x1"),
        _proxy_path(proxy, "Mixed_5b.branch1x1.conv"),
    )
    assert proxy.data(block, Qt.ItemDataRole.ForegroundRole) == grey
    assert proxy.data(conv, Qt.ItemDataRole.ForegroundRole) != grey
    proxy.set_search("inception")  # a type's start: every Inception block, not the stem
    tops = {p.split(".")[0] for p in _visible_names(proxy) if p}
    assert tops == {
        f"Mixed_{s}" for s in ("5b", "5c", "5d", "6a", "6b", "6c", "6d", "6e", "7a", "7b", "7c")
    } | {"AuxLogits"}


def _proxy_path(proxy, path, parent=None):
    from PySide6.QtCore import QModelIndex

    parent = parent or QModelIndex()
    for row in range(proxy.rowCount(parent)):
        index = proxy.index(row, 0, parent)
        if proxy.data(index, NODE_ROLE).path == path:
            return index
        found = _proxy_path(proxy, path, index)
        if found is not None:
            return found
    return None


def test_a_convolution_block_shows_its_convolution_and_batchnorm(explorer, qtbot):
    tab = explorer
    tab.tree.setCurrentIndex(_proxy_index(tab, "Conv2d_1a_3x3"))
    lines = tab.details.toPlainText().splitlines()  # the table reads name, value, name...
    fields = dict(zip(lines[1::2], lines[2::2], strict=False))
    assert fields["Type"] == "BasicConv2d"
    assert (fields["Kernel"], fields["Stride"], fields["Padding"]) == ("3 x 3", "2 x 2", "0 x 0")
    assert fields["Channels"] == "3 → 32"
    assert fields["BatchNorm"].startswith("32 channels")


def test_the_top_row_names_the_network_once_and_says_which_mult_adds(explorer):
    from inception_gui.explorer.layer_tree_model import format_mult_adds

    tab, summary = explorer, explorer.summary
    root = tab.tree_model.index(0, 0)
    name = tab.tree_model.data(root, Qt.ItemDataRole.DisplayRole)
    kind = tab.tree_model.data(root.siblingAtColumn(1), Qt.ItemDataRole.DisplayRole)
    assert (name, kind) == ("v3 network", "Inception3")
    shown = tab.tree_model.data(root.siblingAtColumn(6), Qt.ItemDataRole.DisplayRole)
    assert shown == format_mult_adds(summary.mult_adds)  # the aux head's included in the row
    tip = tab.tree_model.data(root.siblingAtColumn(6), Qt.ItemDataRole.ToolTipRole)
    assert "auxiliary head" in tip and f"{summary.inference_mult_adds:,}" in tip
    totals = tab.totals.text()
    assert f"<b>{shown}</b> in training, with the auxiliary head (the top row)" in totals
    assert f"{format_mult_adds(summary.inference_mult_adds)}</b> at inference" in totals
    assert tab.tree_model.to_csv().splitlines()[1].startswith("v3 network,0,Inception3")
