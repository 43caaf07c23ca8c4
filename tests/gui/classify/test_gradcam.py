"""Why the model said so, in the window: the Grad-CAM overlay."""


def test_grad_cam_overlay_in_the_classify_tab(window, qtbot, sample_images, wait_idle):
    tab = window.classify_tab
    tab.classify([str(sample_images[0])])
    wait_idle(tab, 1)
    qtbot.waitUntil(lambda: tab.cam.layer_combo.count() > 0, timeout=30_000)
    assert tab.cam.layer_combo.currentText() == "Mixed_7c"
    assert tab.cam.class_combo.count() == 3
    tab.cam.enabled.setChecked(True)
    qtbot.waitUntil(lambda: tab._cam_result is not None, timeout=60_000)
    cam = tab._cam_result
    assert cam.layer == "Mixed_7c"
    assert cam.heatmap.shape == (cam.photo.height, cam.photo.width)
    assert cam.heatmap.min() >= 0 and cam.heatmap.max() <= 1
    tab.cam.layer_combo.setCurrentIndex(tab.cam.layer_combo.findText("Mixed_6e"))
    tab.cam.layer_combo.activated.emit(tab.cam.layer_combo.currentIndex())
    qtbot.waitUntil(lambda: tab._cam_result.layer == "Mixed_6e", timeout=60_000)


def test_the_class_combo_shows_its_longest_item_whole(window, qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QFontMetrics
    from PySide6.QtWidgets import QApplication, QStyle, QStyleOptionComboBox

    tab, combo = window.classify_tab, window.classify_tab.cam.class_combo
    tab.cam.set_classes([("tiger shark", 3, 0.52), ("American Staffordshire terrier", 180, 0.314)])
    window.resize(1024, 640)
    tab.preview.parentWidget().setSizes([10_000, 1])  # the preview dragged as narrow as it goes
    QApplication.processEvents()
    qtbot.wait(50)
    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    field = combo.style().subControlRect(
        QStyle.ComplexControl.CC_ComboBox, option, QStyle.SubControl.SC_ComboBoxEditField, combo
    )
    metrics = QFontMetrics(combo.font())
    widest = max(metrics.horizontalAdvance(combo.itemText(i)) for i in range(combo.count()))
    assert field.width() >= widest, (field.width(), widest)

    # A folder's name can be any length: it is cut in the item, whole in its tooltip,
    # and the window keeps its width.
    name = "a class folder with a very long name " * 8
    tab.cam.set_classes([(name, 0, 0.9)])
    QApplication.processEvents()
    assert combo.itemText(0).endswith("… (90.0%)")
    assert combo.itemData(0, Qt.ItemDataRole.ToolTipRole) == name
    assert window.width() == 1024
