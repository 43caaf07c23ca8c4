"""Export from the window: the file is written and checked against PyTorch."""


def test_export_dialog_checks_the_file(window, qtbot, tmp_path, sample_images):
    from inception_gui.export_dialog import ExportDialog

    dialog = ExportDialog(
        window.hub,
        window.session.classifier(),
        "tiny.safetensors",
        [str(p) for p in sample_images[:2]],
        window,
    )
    qtbot.addWidget(dialog)
    assert dialog.path.text().endswith("/tiny.onnx")
    dialog.format.setCurrentIndex(dialog.format.findData("torchscript"))
    assert dialog.path.text().endswith("tiny.pt")  # the file name follows the format
    untrained = ExportDialog(window.hub, None, "untrained (random weights)", [], window)
    qtbot.addWidget(untrained)
    assert untrained.path.text().endswith("/untrained_random_weights.onnx")  # a plain name
    dialog.format.setCurrentIndex(dialog.format.findData("both"))
    dialog.path.setText(str(tmp_path / "tiny.onnx"))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: bool(dialog.checks), timeout=180_000)
    assert {p.rsplit(".", 1)[-1] for p, _ in dialog.checks} == {"onnx", "pt"}
    assert all(check.ok for _, check in dialog.checks)
    assert "matches PyTorch" in dialog.result.toPlainText()
