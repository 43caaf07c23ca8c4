"""The Explorer's footer says what the summarised network has: an auxiliary head or none."""

import model
from inception_gui.explorer.details import totals_html


def test_footer_without_an_auxiliary_head_does_not_mention_one_as_present():
    summary = model.summarize("v3", 75, num_classes=3, aux_logits=False)
    text = totals_html(summary)
    assert "with the auxiliary head" not in text
    assert "no auxiliary head" in text
    assert summary.mult_adds == summary.inference_mult_adds


def test_footer_with_an_auxiliary_head_gives_both_figures():
    text = totals_html(model.summarize("v3", 75, num_classes=3, aux_logits=True))
    assert "with the auxiliary head" in text and "at inference, without it" in text
