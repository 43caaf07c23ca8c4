"""What the Explorer says about the network: a layer's details and the lines around the tree.

Plain functions from the summary's ``LayerNode`` trees (and the loaded model's state) to
HTML or text; the Explorer tab only puts what they return on show.
"""

from __future__ import annotations

import html

import model
import model.network
from inception_gui.widgets.formatting import format_mult_adds, format_shape

DEFAULT_CLASSES = 1000  # ImageNet's, until a model is loaded

__all__ = [
    "DEFAULT_CLASSES",
    "DETAILS_PLACEHOLDER",
    "SEARCH_HELP",
    "factorization_job",
    "feature_maps_note",
    "model_key",
    "model_label_html",
    "node_html",
    "summary_job",
    "totals_html",
]

SEARCH_HELP = (
    "Names match anywhere: Mixed_6 finds Mixed_6a to Mixed_6e, branch7x7 every 7x7 branch.\n"
    "Types match from their start: Conv2d finds the plain convolutions (not the BasicConv2d\n"
    "blocks around them), Inception every Inception block, MaxPool the max pools.\n"
    "Case is ignored; rows that only lead to a match are greyed."
)
DETAILS_PLACEHOLDER = (
    "<p style='color:gray'>Select a layer to see its kernel, stride, channels and, "
    "for the Inception blocks, the factorization they use and what it saves.</p>"
)


def node_html(node, factorizations: list) -> str:
    """The details pane for one layer: its facts, then the factorizations it uses.

    Parameters
    ----------
    node : LayerNode
        The layer; the root (an empty path) is the whole network.
    factorizations : list
        ``model.network.factorization`` findings for the layer; empty until they are measured.
    """
    e = html.escape
    rows = [
        ("Path", node.path or "(the whole network)"),
        ("Type", node.type),
        ("Output shape", format_shape(node.output_shape)),
        ("Own parameters", f"{node.params:,}"),
        ("Total parameters", f"{node.total_params:,}"),
        ("Trainable", f"{node.trainable_params:,}"),
        ("Mult-adds per image", f"{node.mult_adds:,} ({format_mult_adds(node.mult_adds)})"),
    ]
    aux = node.find("AuxLogits") if not node.path else None
    if aux is not None:
        rows[-1] = (
            "Mult-adds per image",
            f"{format_mult_adds(node.mult_adds)} in training, with the auxiliary head; "
            f"{format_mult_adds(node.mult_adds - aux.mult_adds)} at inference, without it",
        )
    rows += _detail_rows(node)
    body = "".join(f"<tr><td><b>{e(k)}</b></td><td>{e(v)}</td></tr>" for k, v in rows)
    title = "The whole network" if not node.path else node.name
    out = f"<h3>{e(title)}</h3><table cellspacing='4'>{body}</table>"
    if factorizations:
        out += "<h4>Factorization</h4>"
        for f in factorizations:
            out += (
                f"<p><b>{e(f.kind)}</b> — {e(f.description)}<br>"
                f"layers: {e(', '.join(f.layers))}<br>"
                f"weights {f.params:,} instead of {f.unfactored_params:,} "
                f"(<b>{f.params_saved:.0%} fewer</b>); mult-adds "
                f"{format_mult_adds(f.mult_adds)} instead of "
                f"{format_mult_adds(f.unfactored_mult_adds)} "
                f"(<b>{f.mult_adds_saved:.0%} fewer</b>)</p>"
            )
    return out


def _detail_rows(node) -> list[tuple[str, str]]:
    d = node.details
    if "kernel_size" in d and "in_channels" in d:
        return _conv_rows(d)
    conv = next((c for c in node.children if c.type == "Conv2d"), None)
    if conv is not None and node.type == "BasicConv2d":
        # A convolution block: its conv's geometry, then the BatchNorm and ReLU it adds.
        rows = _conv_rows(conv.details)
        bn = next((c for c in node.children if c.type.startswith("BatchNorm")), None)
        if bn is not None:
            rows.append(
                (
                    "BatchNorm",
                    f"{bn.details.get('num_features')} channels, "
                    f"eps {bn.details.get('eps')}, then ReLU",
                )
            )
        return rows
    return [(k.replace("_", " ").capitalize(), str(v)) for k, v in d.items()]


def _conv_rows(d: dict) -> list[tuple[str, str]]:
    return [
        ("Kernel", " x ".join(map(str, d["kernel_size"]))),
        ("Stride", " x ".join(map(str, d["stride"]))),
        (
            "Padding",
            " x ".join(map(str, d["padding"]))
            if isinstance(d["padding"], list)
            else str(d["padding"]),
        ),
        ("Channels", f"{d['in_channels']} → {d['out_channels']}"),
        ("Bias", "yes" if d["bias"] else "no (BatchNorm follows)"),
    ]


def factorization_job(node) -> list:
    """The factorizations an Inception block uses and what they save, for ``node_html``.

    A worker-thread job: ``model`` (and torch with it) is imported there, not at start-up.
    """
    return model.network.factorizations(node)


def totals_html(summary) -> str:
    """The line under the tree: the network's parameters and mult-adds per image."""
    fc = summary.root.find("fc")
    classes = fc.details.get("out_features") if fc is not None else None
    if summary.root.find("AuxLogits") is None:  # a head-only run saves none
        mult_adds = (
            f"<b>{format_mult_adds(summary.mult_adds)}</b> (no auxiliary head: the same in "
            "training and at inference)"
        )
    else:
        mult_adds = (
            f"<b>{format_mult_adds(summary.mult_adds)}</b> in training, with the auxiliary "
            f"head (the top row); <b>{format_mult_adds(summary.inference_mult_adds)}</b> "
            "at inference, without it"
        )
    return (
        f"<b>{summary.variant}</b> at {summary.input_size} px"
        + (f", {classes:,} classes" if classes else "")
        + f" — total parameters <b>{summary.total_params:,}</b> "
        f"(trainable {summary.trainable_params:,}) — mult-adds per image: {mult_adds}"
    )


def model_label_html(state, variant: str, input_size: int, num_classes: int) -> str:
    """The line above the tree: the loaded model, and what is shown if that differs.

    Parameters
    ----------
    state : ModelState or None
        The session's loaded model; None before one is loaded.
    variant, input_size, num_classes
        The layout on show.
    """
    e = html.escape
    if state is None:
        return (
            f"<span style='color:gray'>No model loaded yet: the layout with "
            f"{num_classes:,} classes.</span>"
        )
    described = (
        f"<b>{e(state.display_name)}</b> · {e(state.variant)} · "
        f"{len(state.class_names):,} classes · {state.input_size} px"
        + ("" if state.has_aux else " · no auxiliary head")
    )
    if (variant, input_size) == (state.variant, state.input_size):
        return f"Loaded model: {described}"
    return (
        f"Loaded model: {described}. Shown here: <b>{e(variant)}"
        f"</b> at <b>{input_size} px</b> with {num_classes:,} classes "
        "(feature maps still come from the loaded model) · "
        "<a href='loaded'>back to the loaded model</a>"
    )


def feature_maps_note(node, image, classifier, summary) -> str | None:
    """Why ``node`` shows no feature maps (no image, no spatial output, another variant).

    Returns None when they can be computed: an image and a model are there, the layer
    has an ``N x C x H x W`` output, and the summary on show is the loaded model's variant.
    """
    if image is None or classifier is None:
        return (
            "Choose an image (Image… or select one in the Classify tab), then select a layer "
            "to see its most active channels."
        )
    if not node.path or node.output_shape is None or len(node.output_shape) != 4:
        return f"{node.name} has no spatial output to show."
    if summary is not None and summary.variant != classifier.info.variant.value:
        return (
            f"The loaded model is the '{classifier.info.variant.value}' variant; switch the "
            "Explorer to it to see its feature maps."
        )
    return None


def summary_job(
    variant: str, input_size: int, num_classes: int = DEFAULT_CLASSES, aux: bool = True
):
    """The ``NetworkSummary`` on show, in a worker."""
    return model.summarize(variant, input_size, num_classes=num_classes, aux_logits=aux)


def model_key(state) -> tuple:
    """What identifies a model for the Explorer; a device or precision change keeps it."""
    return (
        state.weights,
        state.display_name,
        state.variant,
        state.class_names,
        state.input_size,
        state.has_aux,
    )
