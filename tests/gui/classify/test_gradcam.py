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
