"""The Classify tab: drops, folders, bad files, CSV export, the untrained banner."""

import csv

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QColor, QDropEvent, QImage
from PySide6.QtWidgets import QApplication


def drop(widget, paths):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    widget.dropEvent(event)
    return event


def wait_idle(qtbot, tab, expected_rows, timeout=60_000):
    qtbot.waitUntil(
        lambda: tab.results.rowCount() == expected_rows and tab._worker is None, timeout=timeout
    )


def test_drop_files_gives_five_labelled_rows_per_image(window, qtbot, sample_images):
    tab = window.classify_tab
    tab.k = 5
    event = drop(tab, sample_images)
    assert event.isAccepted()
    wait_idle(qtbot, tab, len(sample_images))
    names = {"circle", "square", "triangle"}
    for row in range(tab.results.rowCount()):
        item = tab.results.item(row)
        # Three classes in the checkpoint: the top-5 is clamped to the three there are.
        assert len(item.predictions) == 3
        assert {label for label, _, _ in item.predictions} == names
    # The preview shows the selected image's top-k as labelled bars.
    qtbot.waitUntil(lambda: len(tab.bars.rows()) == 3)
    assert all(label in names for label, _ in tab.bars.rows())
    qtbot.waitUntil(tab.picture.has_picture, timeout=10_000)


def test_imagenet_sized_model_gives_five_rows(qtbot, settings, sample_images, tmp_path):
    from inception_gui.main_window import MainWindow

    settings.setValue("weights", "none")  # 1000 classes: five rows per image
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.session.ready, timeout=60_000):
        win.start()
    tab = win.classify_tab
    drop(tab, sample_images[:2])
    wait_idle(qtbot, tab, 2, timeout=120_000)
    for row in range(2):
        preds = tab.results.item(row).predictions
        assert len(preds) == 5 and all(isinstance(label, str) and label for label, _, _ in preds)
    qtbot.waitUntil(lambda: len(tab.bars.rows()) == 5)
    # Untrained weights: the banner says so and offers the two ways out.
    assert win.banner.isVisible() and "Untrained" in win.banner.label.text()
    assert win.banner.button("download").isVisible() and win.banner.button("load").isVisible()
    win.hub.shutdown()


def test_folder_drop_fills_gallery_and_reports_corrupt_file(window, qtbot, sample_images, tmp_path):
    folder = tmp_path / "holiday"
    (folder / "day2").mkdir(parents=True)
    for i, p in enumerate(sample_images):
        (folder / ("day2" if i else "") / p.name).write_bytes(p.read_bytes())
    (folder / "corrupt.jpg").write_bytes(b"\xff\xd8\xff garbage")
    tab = window.classify_tab
    drop(tab, [folder])
    wait_idle(qtbot, tab, len(sample_images) + 1)
    rows = [tab.results.item(r) for r in range(tab.results.rowCount())]
    bad = [r for r in rows if r.error]
    assert len(bad) == 1 and bad[0].source.endswith("corrupt.jpg")
    assert all(r.predictions and r.thumbnail for r in rows if not r.error)
    assert "1 could not be read" in tab.summary.text()


def test_sort_by_confidence_and_export_csv(window, qtbot, sample_images, tmp_path):
    tab = window.classify_tab
    drop(tab, sample_images)
    wait_idle(qtbot, tab, len(sample_images))
    tab.table.sortByColumn(2, Qt.SortOrder.AscendingOrder)
    shown = [tab.proxy.index(r, 2).data(Qt.ItemDataRole.UserRole + 1) for r in range(3)]
    assert shown == sorted(shown)
    out = tmp_path / "preds.csv"
    tab.results.export_csv(out, k=3)
    with open(out, newline="") as f:
        lines = list(csv.DictReader(f))
    assert len(lines) == len(sample_images)
    assert lines[0]["label_1"] in {"circle", "square", "triangle"}
    assert float(lines[0]["probability_1"]) >= float(lines[0]["probability_2"])


def test_paste_an_image_from_the_clipboard(window, qtbot):
    tab = window.classify_tab
    image = QImage(121, 90, QImage.Format.Format_RGB32)
    image.fill(QColor(200, 120, 30))
    QApplication.clipboard().setImage(image)
    tab.paste()
    wait_idle(qtbot, tab, 1)
    item = tab.results.item(0)
    assert item.source == "pasted image 1" and len(item.predictions) == 3
    pasted = tab._pasted["pasted image 1"]
    assert pasted.size == (121, 90) and pasted.convert("RGB").getpixel((120, 89)) == (200, 120, 30)


def test_cancel_keeps_results_so_far(window, qtbot, sample_images):
    tab = window.classify_tab
    drop(tab, sample_images * 8)
    tab.cancel()
    qtbot.waitUntil(lambda: tab._worker is None, timeout=60_000)
    assert tab.results.rowCount() < len(sample_images) * 8


def test_paste_file_paths_as_text(window, qtbot, sample_images):
    tab = window.classify_tab
    QApplication.clipboard().setText("\n".join(str(p) for p in sample_images[:2]))
    tab.paste()
    wait_idle(qtbot, tab, 2)
    assert {tab.results.item(r).source for r in range(2)} == {str(p) for p in sample_images[:2]}
