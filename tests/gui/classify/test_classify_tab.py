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


def test_drop_files_gives_five_labelled_rows_per_image(window, qtbot, sample_images, wait_idle):
    tab = window.classify_tab
    tab.k = 5
    event = drop(tab, sample_images)
    assert event.isAccepted()
    wait_idle(tab, len(sample_images))
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


def test_imagenet_sized_model_gives_five_rows(qtbot, settings, sample_images, wait_idle):
    from inception_gui.main_window import MainWindow

    settings.setValue("weights", "none")  # 1000 classes: five rows per image
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.session.ready, timeout=60_000):
        win.start()
    tab = win.classify_tab
    drop(tab, sample_images[:2])
    wait_idle(tab, 2, timeout=120_000)
    for row in range(2):
        preds = tab.results.item(row).predictions
        assert len(preds) == 5 and all(isinstance(label, str) and label for label, _, _ in preds)
    qtbot.waitUntil(lambda: len(tab.bars.rows()) == 5)
    # Untrained weights: the banner says so and offers the two ways out.
    assert win.banner.isVisible() and "Untrained" in win.banner.label.text()
    assert win.banner.button("download").isVisible() and win.banner.button("load").isVisible()
    win.hub.shutdown()


def test_folder_drop_fills_gallery_and_reports_corrupt_file(
    window, sample_images, tmp_path, wait_idle
):
    folder = tmp_path / "holiday"
    (folder / "day2").mkdir(parents=True)
    for i, p in enumerate(sample_images):
        (folder / ("day2" if i else "") / p.name).write_bytes(p.read_bytes())
    (folder / "corrupt.jpg").write_bytes(b"\xff\xd8\xff garbage")
    tab = window.classify_tab
    drop(tab, [folder])
    wait_idle(tab, len(sample_images) + 1)
    rows = [tab.results.item(r) for r in range(tab.results.rowCount())]
    bad = [r for r in rows if r.error]
    assert len(bad) == 1 and bad[0].source.endswith("corrupt.jpg")
    assert all(r.predictions and r.thumbnail for r in rows if not r.error)
    assert "1 could not be read" in tab.summary.text()


def test_sort_by_confidence_and_export_csv(window, sample_images, tmp_path, wait_idle):
    tab = window.classify_tab
    drop(tab, sample_images)
    wait_idle(tab, len(sample_images))
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


def test_paste_an_image_from_the_clipboard(window, wait_idle):
    tab = window.classify_tab
    image = QImage(121, 90, QImage.Format.Format_RGB32)
    image.fill(QColor(200, 120, 30))
    QApplication.clipboard().setImage(image)
    tab.paste()
    wait_idle(tab, 1)
    item = tab.results.item(0)
    assert item.source == "pasted image 1" and len(item.predictions) == 3
    pasted = tab._pasted["pasted image 1"]
    assert pasted.size == (121, 90) and pasted.convert("RGB").getpixel((120, 89)) == (200, 120, 30)


def test_cancel_keeps_results_so_far_and_says_how_far_it_got(window, qtbot, tmp_path, copies):
    tab = window.classify_tab
    paths = copies(tmp_path / "many", 40)
    drop(tab, paths)
    qtbot.waitUntil(lambda: tab.results.rowCount() >= 1, timeout=60_000)
    tab.cancel()
    qtbot.waitUntil(lambda: tab._worker is None, timeout=60_000)
    done = tab.results.rowCount()
    assert done < len(paths)
    expected = f"Cancelled after {done} of {len(paths)} images"
    assert expected in tab.summary.text()
    assert expected in window.status_label.text()


def test_export_csv_is_rectangular_when_the_model_has_fewer_classes_than_k(
    window, sample_images, tmp_path, wait_idle
):
    tab = window.classify_tab
    bad = tmp_path / "corrupt.jpg"
    bad.write_bytes(b"\xff\xd8\xff garbage")
    drop(tab, [*sample_images, bad])
    wait_idle(tab, len(sample_images) + 1)
    out = tmp_path / "preds.csv"
    tab.results.export_csv(out, k=5)  # three classes: three ranks, not five
    with open(out, newline="") as f:
        header, *rows = list(csv.reader(f))
    assert header[-3:] == ["label_3", "index_3", "probability_3"]
    assert len(rows) == len(sample_images) + 1
    assert all(len(row) == len(header) for row in rows)
    error_row = next(row for row in rows if row[0] == str(bad))
    assert error_row[1] and error_row[2:] == [""] * (len(header) - 2)


def test_failed_export_is_reported_through_the_error_relay(
    window, qtbot, sample_images, tmp_path, monkeypatch, wait_idle
):
    from inception_gui.classify import tab as classify_tab

    tab = window.classify_tab
    drop(tab, sample_images[:1])
    wait_idle(tab, 1)
    not_a_folder = tmp_path / "plain-file"
    not_a_folder.write_text("")
    target = str(not_a_folder / "preds.csv")  # its "folder" is a file: cannot be written
    monkeypatch.setattr(
        classify_tab.QFileDialog, "getSaveFileName", lambda *a, **k: (target, "CSV (*.csv)")
    )
    with qtbot.waitSignal(window.hub.error, timeout=10_000) as blocker:
        tab.export_button.click()
    title, message = blocker.args
    assert "Export" in title and target in message
    assert window.last_error == (title, message)  # shown in the app's message box
    assert target in window.status_label.text()


def test_runners_up_column_is_titled_honestly_and_readable_at_1280_px(window, qtbot):
    from PySide6.QtCore import QRect, QSize

    from inception_gui.classify.jobs import ClassifiedImage, Picture

    tab = window.classify_tab
    window.resize(1280, 800)
    preds = (
        ("tench", 0, 0.62),
        ("goldfish", 1, 0.2),
        ("great white shark", 2, 0.1),
        ("tiger shark", 3, 0.05),
        ("hammerhead", 4, 0.02),
    )
    for w, h in [(72, 54), (72, 18), (24, 72)]:  # landscape, panorama, portrait
        thumb = Picture(w, h, bytes(3 * w * h))
        tab.results.append(ClassifiedImage(f"/pictures/{w}x{h}.jpg", preds, None, thumb))
    qtbot.waitUntil(lambda: tab.table.viewport().width() > 600)
    model = tab.proxy
    title = model.headerData(3, Qt.Orientation.Horizontal)
    tip = model.headerData(3, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
    assert title == "Runners-up" and "after the top-1" in tip
    # Every thumbnail takes the same room, so the file names line up.
    sizes = {model.index(r, 0).data(Qt.ItemDataRole.DecorationRole).size() for r in range(3)}
    assert sizes == {QSize(72, 72)}
    # The four runners-up fit their cell (wrapped within the row's height, not elided).
    rect = tab.table.visualRect(model.index(0, 3))
    text = model.index(0, 3).data()
    assert "hammerhead (2.0%)" in text  # one decimal, as the Confidence column
    needed = tab.table.fontMetrics().boundingRect(
        QRect(0, 0, rect.width() - 8, 10_000), Qt.TextFlag.TextWordWrap, text
    )
    assert needed.height() <= rect.height()


def test_first_result_is_previewed_without_decoding_it_again(
    window, qtbot, sample_images, monkeypatch, wait_idle
):
    from inception_gui.classify import preview_panel

    decodes = []
    real_preview_job = preview_panel.preview_job

    def counting_preview_job(source, *args):
        decodes.append(source)
        return real_preview_job(source, *args)

    monkeypatch.setattr(preview_panel, "preview_job", counting_preview_job)
    tab = window.classify_tab
    drop(tab, sample_images)
    wait_idle(tab, len(sample_images))
    qtbot.waitUntil(tab.picture.has_picture, timeout=10_000)
    assert decodes == []  # the first row's picture came with its thumbnail
    tab.table.selectRow(1)  # any other row is decoded when it is selected
    qtbot.waitUntil(lambda: len(decodes) == 1, timeout=10_000)


def test_paste_file_paths_as_text(window, sample_images, wait_idle):
    tab = window.classify_tab
    QApplication.clipboard().setText("\n".join(str(p) for p in sample_images[:2]))
    tab.paste()
    wait_idle(tab, 2)
    assert {tab.results.item(r).source for r in range(2)} == {str(p) for p in sample_images[:2]}


def test_paste_quoted_and_missing_paths(window, sample_images, tmp_path, wait_idle):
    tab = window.classify_tab
    spaced = tmp_path / "with space.jpg"
    spaced.write_bytes(sample_images[0].read_bytes())
    missing = tmp_path / "gone.jpg"
    QApplication.clipboard().setText(f"'{spaced}'\n\"{missing}\"\nnot a path, just words")
    tab.paste()
    wait_idle(tab, 2)
    rows = {tab.results.item(r).source: tab.results.item(r) for r in range(2)}
    assert rows[str(spaced)].predictions and not rows[str(spaced)].error
    assert rows[str(missing)].error == "no such file"


def test_a_file_named_twice_in_a_drop_is_classified_once(window, tmp_path, wait_idle, copies):
    folder = tmp_path / "album"
    paths = copies(folder, 3)
    tab = window.classify_tab
    drop(tab, [folder, paths[1]])  # the folder and a file inside it
    wait_idle(tab, 3)
    assert sorted(tab.results.item(r).source for r in range(3)) == sorted(map(str, paths))
    assert "skipped 1 duplicate" in window.status_label.text()


def test_a_non_image_typed_in_open_images_gets_its_red_row_as_when_pasted(
    window, qtbot, sample_images, tmp_path, wait_idle
):
    # Qt's own file dialog, two names typed into it: under the Images filter it
    # returned the image alone, and the text file vanished without a word.
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QFileDialog, QLineEdit, QListView

    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture")
    photo = tmp_path / "photo.jpeg"
    photo.write_bytes(sample_images[0].read_bytes())
    tab = window.classify_tab
    tab.last_folder = str(tmp_path)

    def type_names():
        dialog = QApplication.activeModalWidget()
        view = dialog.findChild(QListView, "listView") if dialog else None
        if not isinstance(dialog, QFileDialog) or not view.model().rowCount(view.rootIndex()):
            QTimer.singleShot(50, type_names)  # until the folder is listed, as a person sees it
            return
        edit = dialog.findChild(QLineEdit, "fileNameEdit")
        edit.setText('"notes.txt" "photo.jpeg"')  # the dialog completes names as they change
        dialog.accept()  # what Open does (a Return could go to the name completer's popup)

    QTimer.singleShot(0, type_names)
    tab._on_open_clicked()
    wait_idle(tab, 2)
    opened = {tab.results.item(r).source: tab.results.item(r).error for r in range(2)}
    assert opened[str(photo)] is None
    assert "not an image" in opened[str(notes)]

    tab.clear()
    QApplication.clipboard().setText(str(notes))
    tab.paste()
    wait_idle(tab, 1)
    assert tab.results.item(0).error == opened[str(notes)]  # the same row, the same reason
