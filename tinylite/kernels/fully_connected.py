"""FULLY_CONNECTED: y = x @ W.T + b, W is [units, depth].

The input is flattened to rows of `depth` (TFLite's rule); `keep_num_dims`
keeps the input's leading dimensions instead of collapsing them.  The
optimized float kernel (operands kept across invokes, the bias in the
product) is kernels/optimized/fully_connected.py.
"""
import numpy as np

from ._base import activation_name, float_activation


def prepare(node):
    x, w = node.inputs[0], node.inputs[1]
    if len(w.shape) != 2:
        node.fail(f"weights must be 2-D [units, depth], got {list(w.shape)}")
    units, depth = w.shape
    size = int(np.prod(x.shape))
    if depth == 0 or size % depth:
        node.fail(f"input of shape {list(x.shape)} cannot be split into rows of depth {depth}")
    if node.options.get("keep_num_dims"):
        if x.shape[-1] != depth:
            node.fail(f"keep_num_dims needs the input's last dimension ({x.shape[-1]}) to equal depth {depth}")
        node.outputs[0].shape = tuple(x.shape[:-1]) + (units,)
    else:
        node.outputs[0].shape = (size // depth, units)
    node.depth = depth
    if node.has_input(2) and node.inputs[2].size != units:
        node.fail(f"bias has {node.inputs[2].size} elements, expected {units}")
    if x.dtype == np.float32 and w.dtype == np.float32:
        if activation_name(node) not in ("NONE", "RELU", "RELU6", "RELU_N1_TO_1"):
            # TFLite's (non-hybrid) kernel rejects them at prepare rather than ignoring them.
            node.fail(f"fused activation {activation_name(node)} is not supported; "
                      "only NONE, RELU, RELU6 and RELU_N1_TO_1 are")
        node.wt = np.ascontiguousarray(w.data.T) if w.data is not None else None
        node.act = float_activation(activation_name(node))
        return eval_float
    from . import _quantized

    return _quantized.prepare_fully_connected(node)


def eval_float(node, inputs, outputs):
    x, w, b = inputs[0], inputs[1], inputs[2] if len(inputs) > 2 else None
    res = outputs[0].reshape(-1, w.shape[0])
    np.matmul(x.reshape(-1, node.depth), w.T if node.wt is None else node.wt, out=res)
    if b is not None:
        res += b
    if node.act is not None:
        node.act(outputs[0])
