"""A model switch: rows made by the earlier model are marked with its name, never explained
with the new one, and can be classified again; moving through rows starts one Grad-CAM."""

import pytest

CAM_JOB = "Computing the class activation map"


@pytest.fixture(scope="module")
def two_class_checkpoint(tmp_path_factory):
    """A second real checkpoint: random v3, two classes the first one does not have."""
    import torch

    from model import Checkpoint, Preprocess, build_network, save_checkpoint

    torch.manual_seed(1)
    net = build_network("v3", num_classes=2, aux_logits=False)
    path = tmp_path_factory.mktemp("ckpt2") / "pets.safetensors"
    save_checkpoint(
        Checkpoint(
            state=net.state_dict(),
            variant="v3",
            class_names=("cat", "dog"),
            preprocess=Preprocess.for_size(96),
            training={"epochs": 0, "note": "random init for tests"},
        ),
        path,
    )
    return path


@pytest.fixture
def started(window, monkeypatch):
    """The names of the jobs the window's hub starts from now on."""
    names = []
    real = window.hub.start

    def start(name, *args, **kwargs):
        names.append(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(window.hub, "start", start)
    return names


def test_rows_from_the_earlier_model_are_marked_and_not_explained(
    window, qtbot, sample_images, wait_idle, two_class_checkpoint, started
):
    tab = window.classify_tab
    tab.classify([str(p) for p in sample_images])
    wait_idle(tab, len(sample_images))
    qtbot.waitUntil(lambda: tab.cam.layer_combo.count() > 0, timeout=30_000)
    assert tab.results.earlier_rows() == [] and not tab.again_button.isVisible()

    with qtbot.waitSignal(window.session.ready, timeout=60_000):
        window.load_weights(str(two_class_checkpoint))
    # Every row says which model made it; nothing pretends the new one did.
    assert tab.results.earlier_rows() == list(range(len(sample_images)))
    text = tab.results.index(0, 3).data()
    assert "earlier model (tiny.safetensors)" in text
    assert "classified by an earlier model" in tab.summary.text()
    assert tab.again_button.isVisible()
    # The selected row's panel says so, and Show why is not offered for it.
    assert "earlier model (tiny.safetensors)" in tab.caption.text()
    assert not tab.cam.isEnabled()
    tab.cam.enabled.setChecked(True)
    tab.table.selectRow(1)
    qtbot.wait(600)
    assert CAM_JOB not in started and tab._cam_result is None

    # Classify again: the rows come back from the new model, and Show why works again.
    tab.classify_again()
    wait_idle(tab, len(sample_images))
    assert tab.results.earlier_rows() == []
    assert not tab.again_button.isVisible()
    labels = {label for r in tab.results.items() for label, _, _ in r.predictions}
    assert labels == {"cat", "dog"}
    tab.table.selectRow(0)
    assert tab.cam.isEnabled()
    qtbot.waitUntil(lambda: tab._cam_result is not None, timeout=60_000)
    assert tab._cam_result.label in {"cat", "dog"}


def test_moving_through_rows_computes_one_map(window, qtbot, copies, tmp_path, wait_idle, started):
    tab = window.classify_tab
    tab.classify([str(p) for p in copies(tmp_path / "many", 5)])
    wait_idle(tab, 5)
    qtbot.waitUntil(lambda: tab.cam.layer_combo.count() > 0, timeout=30_000)
    tab.cam.enabled.setChecked(True)
    qtbot.waitUntil(lambda: tab._cam_result is not None, timeout=60_000)
    first, overlay = tab._cam_result, tab.picture._pixmap
    started.clear()
    tab.table.setFocus()
    for row in (1, 2, 3, 4):  # the arrow keys, faster than a map is made
        tab.table.selectRow(row)
        qtbot.wait(30)
        # The map of the row left behind is gone at once: no map under another caption.
        assert tab._cam_result is None and tab.picture._pixmap is not overlay
    qtbot.waitUntil(lambda: tab._cam_result is not None, timeout=60_000)
    assert started.count(CAM_JOB) == 1
    assert tab._cam_result is not first
    assert tab.caption.text().startswith(str(tmp_path / "many" / "copy04"))
