"""The window at the sizes people use: nothing overlaps, nothing is cut, nothing widens it."""

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QApplication

SIZES = [(1024, 640), (1200, 780), (1920, 1080)]


def rect_in(widget, ancestor) -> QRect:
    """``widget``'s rectangle in ``ancestor``'s coordinates."""
    return QRect(widget.mapTo(ancestor, QPoint(0, 0)), widget.size())


def settle(qtbot, window, width, height):
    window.resize(width, height)
    QApplication.processEvents()
    qtbot.wait(50)


def test_the_window_does_not_shrink_below_its_minimum(window, qtbot):
    settle(qtbot, window, 640, 420)
    minimum = window.minimumSize()
    assert window.width() >= minimum.width() >= 900
    assert window.height() >= minimum.height() >= 580
    # At the minimum, every tab has the room its controls ask for: nothing is squeezed.
    for i in range(window.tabs.count()):
        window.tabs.setCurrentIndex(i)
        QApplication.processEvents()
        hint = window.centralWidget().minimumSizeHint()
        assert hint.width() <= window.centralWidget().width(), window.tabs.tabText(i)
        assert hint.height() <= window.centralWidget().height(), window.tabs.tabText(i)


def test_long_texts_do_not_widen_the_window(window, qtbot):
    settle(qtbot, window, 1200, 780)
    window.show_status("Grad-CAM for 'x' at Mixed_7c — " + "a long reason " * 40)
    window.weights_label.setText("Weights: <b>" + "a-very-long-file-name" * 10 + "</b>")
    window.explorer_tab.totals.setText("totals " * 80)
    window.tabs.setCurrentWidget(window.explorer_tab)
    QApplication.processEvents()
    assert window.minimumSizeHint().width() <= 1200
    assert window.width() == 1200


@pytest.mark.parametrize("size", SIZES)
def test_train_results_do_not_overlap(window, qtbot, size):
    tab = window.train_tab
    window.tabs.setCurrentWidget(tab)
    names = [f"digit {i}" for i in range(10)]
    tab.confusion.set_matrix(names, [[5 if r == c else 1 for c in range(10)] for r in range(10)])
    tab.results.per_class.setPlainText(", ".join(f"{n} 90%" for n in names))
    tab.settings.advanced_toggle.setChecked(True)
    settle(qtbot, window, *size)
    parts = [tab.loss_plot, tab.results.acc_plot, tab.results.confusion_area, tab.results.per_class]
    rects = [rect_in(p, tab) for p in parts]
    for i, (part, rect) in enumerate(zip(parts, rects)):
        assert rect.height() >= part.minimumSizeHint().height(), type(part).__name__
        for other in rects[i + 1 :]:
            assert not rect.intersects(other), (type(part).__name__, rect, other)
    # Readable cells: a line of text high (the upward column labels need that), and
    # row labels as wide as the names.
    view = tab.confusion
    assert view.cell_size() >= max(view.MIN_CELL, view.fontMetrics().height())
    # With Advanced open, the last field is reachable whole by scrolling, never cut.
    area = tab.form_area
    area.ensureWidgetVisible(tab.settings.early_stop)
    QApplication.processEvents()
    field = rect_in(tab.settings.early_stop, area.viewport())
    assert area.viewport().rect().contains(field)
    assert field.height() >= tab.settings.early_stop.minimumSizeHint().height()


def test_confusion_matrix_stays_readable_with_fifty_classes(window, qtbot):
    tab = window.train_tab
    window.tabs.setCurrentWidget(tab)
    names = [f"class number {i}" for i in range(50)]
    matrix = [[(7 if r == c else (r * c) % 3) for c in range(50)] for r in range(50)]
    tab.confusion.set_matrix(names, matrix)
    settle(qtbot, window, 1200, 780)
    view, area = tab.confusion, tab.results.confusion_area
    assert view.cell_size() >= view.MIN_CELL
    # It scrolls instead of shrinking the cells below a line of text.
    assert area.verticalScrollBar().maximum() > 0
    assert area.horizontalScrollBar().maximum() > 0
    # Row labels get their whole width: the margin holds the longest name.
    widest = max(view.fontMetrics().horizontalAdvance(n) for n in names)
    left = view.minimumSizeHint().width() - 50 * view.MIN_CELL
    assert left >= widest + view.TITLE
    # Hover says which cell it is and how many images it counts.
    cell = view.cell_size()
    hit = view.cell_at(view.rect().topLeft().toPointF() + _offset(left, cell, 3, 5))
    assert hit == (5, 3)
    text = view.cell_text(*hit)
    assert "true: class number 5" in text and "predicted: class number 3" in text
    assert f"{matrix[5][3]} image" in text


def _offset(left, cell, col, row):
    from PySide6.QtCore import QPointF

    top = left  # the margins are square: axis title plus the longest name
    return QPointF(left - 4 + (col + 0.5) * cell, top - 4 + (row + 0.5) * cell)


@pytest.mark.parametrize("size", SIZES)
def test_show_why_row_never_covers_the_preview(window, qtbot, size):
    tab = window.classify_tab
    settle(qtbot, window, *size)
    picture, cam, bars = rect_in(tab.picture, tab), rect_in(tab.cam, tab), rect_in(tab.bars, tab)
    assert not picture.intersects(cam) and not cam.intersects(bars)
    assert tab.cam.opacity.width() >= 80
    assert tab.cam.layer_combo.width() >= tab.cam.layer_combo.minimumSizeHint().width()
