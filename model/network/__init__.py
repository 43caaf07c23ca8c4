"""The network: blocks, the Inception3 builder, summaries, drawings, comparisons, the fast copy."""

from model._lazy import lazy_exports

_EXPORTS = {
    "MIN_INPUT_SIZE": "model.network.variants",
    "VARIANT_NAMES": "model.network.variants",
    "Variant": "model.network.variants",
    "FEATURE_CHANNELS": "model.network.inception",
    "Inception3": "model.network.inception",
    "build_network": "model.network.inception",
    "LayerNode": "model.network.summary",
    "NetworkSummary": "model.network.summary",
    "summarize": "model.network.summary",
    "summarize_module": "model.network.summary",
    "VariantComparison": "model.network.compare",
    "compare_variants": "model.network.compare",
    "BlockDiagram": "model.network.diagram",
    "Box": "model.network.diagram",
    "Branch": "model.network.diagram",
    "NetworkDiagram": "model.network.diagram",
    "describe_block": "model.network.diagram",
    "describe_network": "model.network.diagram",
    "network_diagram": "model.network.diagram",
    "FastNetwork": "model.network.fastpath",
    "factorizations": "model.network.factorization",
    "build_fast_network": "model.network.fastpath",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
