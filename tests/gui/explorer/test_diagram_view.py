"""The Explorer's Diagram view: drawn from the summary, in step with the tree, exported."""

import xml.etree.ElementTree as ET

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QGraphicsSimpleTextItem

from inception_gui.explorer.diagram_view import index_for_path
from inception_gui.explorer.layer_tree_model import NODE_ROLE
from inception_gui.widgets.diagram import BoxItem, DiagramScene, save_drawing


@pytest.fixture
def explorer(qtbot):
    """A tab on its own (no model loaded) at 75 px, once its drawing is on show."""
    from inception_gui.core.workers import WorkerHub
    from inception_gui.explorer.tab import ExplorerTab

    hub = WorkerHub()
    tab = ExplorerTab(hub)
    qtbot.addWidget(tab)
    tab.resize(1200, 700)
    tab.size_spin.setValue(75)
    tab.show()
    qtbot.waitUntil(
        lambda: tab.diagram.diagram is not None and tab.diagram.diagram.input_size == 75,
        timeout=90_000,
    )
    yield tab
    hub.shutdown()


def _select(tab, path):
    tab.tree.setCurrentIndex(index_for_path(tab.proxy, path))


def _current_path(tab):
    return tab.proxy.data(tab.tree.currentIndex().siblingAtColumn(0), NODE_ROLE).path


def _highlighted(scene):
    return [item.path for item in scene.boxes if item.highlighted]


def _texts(scene):
    return {i.text() for i in scene.items() if isinstance(i, QGraphicsSimpleTextItem)}


def test_the_chain_then_a_block_follow_the_tree(explorer, qtbot):
    tab, scene = explorer, explorer.diagram.scene
    d = tab.diagram.diagram
    assert scene.block is None  # the whole network first: one box a stage, and the aux head
    assert [b.path for b in scene.boxes] == [s.path for s in d.stages] + ["AuxLogits"]
    _select(tab, "Conv2d_2a_3x3.conv")
    assert scene.block is None and _highlighted(scene) == ["Conv2d_2a_3x3"]
    _select(tab, "Mixed_6b.branch7x7dbl_3.conv")
    assert scene.block is d.block("Mixed_6b")
    assert _highlighted(scene) == ["Mixed_6b.branch7x7dbl_3"]
    drawn = sorted(item.path for item in scene.boxes if item.module)
    assert drawn == sorted(b.path for b in d.block("Mixed_6b").boxes() if b.module)
    _select(tab, "Mixed_6b")  # the block itself: drawn, no layer highlighted
    assert scene.block is d.block("Mixed_6b") and _highlighted(scene) == []
    _select(tab, "fc")
    chain_texts = _texts(scene)
    tab.size_spin.setValue(139)  # a new input size: a new drawing, with its own shapes
    qtbot.waitUntil(lambda: tab.diagram.diagram.input_size == 139, timeout=90_000)
    assert scene.block is None and _highlighted(scene) == ["fc"]
    assert _texts(scene) != chain_texts and "3×139×139" in _texts(scene)


def _click(qtbot, view, item):
    view.view.ensureVisible(item)
    point = view.view.mapFromScene(item.sceneBoundingRect().center())
    qtbot.mouseClick(view.view.viewport(), Qt.MouseButton.LeftButton, pos=point)


def test_clicking_a_box_selects_its_row_and_hover_shows_the_counts(explorer, qtbot):
    tab, view = explorer, explorer.diagram
    stage = next(i for i in view.scene.boxes if i.path == "Mixed_7b")
    _click(qtbot, view, stage)  # a block in the chain: selected, and drawn as its figure
    assert _current_path(tab) == "Mixed_7b" and view.scene.block.path == "Mixed_7b"
    item = next(i for i in view.scene.boxes if i.path == "Mixed_7b.branch3x3dbl_3b")
    _click(qtbot, view, item)
    assert _current_path(tab) == "Mixed_7b.branch3x3dbl_3b"
    assert item.highlighted and "branch3x3dbl_3b" in tab.details.toPlainText()
    node = tab.summary.root.find("Mixed_7b.branch3x3dbl_3b")
    assert f"parameters {node.total_params:,}" in item.toolTip()
    assert "mult-adds" in item.toolTip() and f"{node.mult_adds:,}" in item.toolTip()
    pool = next(i for i in view.scene.boxes if not i.module)
    _click(qtbot, view, pool)  # a functional pool has no row: its block is selected
    assert _current_path(tab) == "Mixed_7b"
    view.network_button.click()
    assert view.scene.block is None and _highlighted(view.scene) == ["Mixed_7b"]


def test_export_svg_and_png(explorer, tmp_path):
    view = explorer.diagram
    _select(explorer, "Mixed_5b.branch1x1")
    svg, png = tmp_path / "block.svg", tmp_path / "block.png"
    view.export(str(svg))
    view.export(str(png))
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    texts = {"".join(t.itertext()).strip() for t in root.iter() if t.tag.endswith("text")}
    assert {"Filter concat", "Base", "5x5 conv", "3x3 avg pool"} <= texts
    image = QImage(str(png))
    rect = view.scene.sceneRect()
    assert (image.width(), image.height()) == (int(rect.width() * 2), int(rect.height() * 2))
    assert view.scene.boxes and _highlighted(view.scene) == ["Mixed_5b.branch1x1"]  # kept
    with pytest.raises(ValueError, match="svg or .png"):
        save_drawing(view.scene, tmp_path / "block.jpg")


def test_every_block_of_both_variants_draws_its_boxes(qtbot):
    from model.network import network_diagram

    for variant in ("v3", "paper"):
        d = network_diagram(variant, 99)
        scene = DiagramScene()
        for block in d.blocks:
            scene.show_block(block)
            items = [i for i in scene.items() if isinstance(i, BoxItem)]
            assert sorted(i.path for i in items if i.module and i.path) == sorted(
                b.path for b in block.boxes() if b.module
            )
            # Base and concatenation span every column; each branch sits between them.
            base = next(i for i in items if not i.path and i.rect().top() == 0)
            assert all(i.rect().right() <= base.rect().right() + 1 for i in items)
