"""SQUEEZE: drop the size-1 dimensions listed in `squeeze_dims` (all of them
when the list is empty)."""
from . import _layout


def prepare(node):
    x = node.inputs[0]
    rank = len(x.shape)
    dims = node.options.get("squeeze_dims")
    dims = [] if dims is None else [int(d) for d in dims]
    if dims:
        drop = set()
        for d in dims:
            k = d + rank if d < 0 else d
            if not 0 <= k < rank or x.shape[k] != 1:
                node.fail(f"cannot squeeze dimension {d} of shape {list(x.shape)}")
            drop.add(k)
    else:
        drop = {k for k, n in enumerate(x.shape) if n == 1}
    node.outputs[0].shape = tuple(n for k, n in enumerate(x.shape) if k not in drop)
    if not _layout.movable(node, [x], dtypes=_layout.WITH_STRINGS + _layout.WIDE + _layout.COMPLEX):   # strings too, as in LiteRT
        return _layout.quantized_fallback(node)
    return _layout.eval_copy
