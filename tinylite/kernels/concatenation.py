"""CONCATENATION: join any number of tensors along `axis`, then apply the fused
activation."""
import numpy as np

from . import _layout
from ._base import normalize_axis


def prepare(node):
    first, out = node.inputs[0], node.outputs[0]
    rank = len(first.shape)
    for s in node.inputs[1:]:
        if len(s.shape) != rank:
            node.fail(f"inputs differ in rank: {list(first.shape)} and {list(s.shape)}")
    if rank == 0:
        # TFLite joins scalars only when they are constants (into a vector).
        if any(s.data is None for s in node.inputs):
            node.fail("concatenating scalars needs every input to be a constant")
        node.axis = 0
        out.shape = (len(node.inputs),)
    else:
        node.axis = normalize_axis(node.options.get("axis", 0), rank, node)
        for s in node.inputs[1:]:
            if any(a != b for k, (a, b) in enumerate(zip(first.shape, s.shape)) if k != node.axis):
                node.fail(f"shapes {list(first.shape)} and {list(s.shape)} differ outside axis {node.axis}")
        out.shape = tuple(sum(s.shape[node.axis] for s in node.inputs) if k == node.axis else n
                          for k, n in enumerate(first.shape))
    if not _layout.movable(node, node.inputs):
        return _layout.quantized_fallback(node)
    # TFLite rejects a fused activation here; tinylite applies it as the schema means.
    node.act = _layout.clamp_activation(node, first.dtype)
    if node.act is not None and _layout.is_quantized(first):
        return _layout.quantized_fallback(node)
    return eval_concatenation


def eval_concatenation(node, inputs, outputs):
    out = outputs[0]
    if out.ndim == 1 and inputs[0].ndim == 0:
        out[...] = inputs
    else:
        np.concatenate(inputs, axis=node.axis, out=out)
    if node.act is not None:
        node.act(out)
