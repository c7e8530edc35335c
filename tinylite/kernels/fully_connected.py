"""FULLY_CONNECTED: y = x @ W.T + b, W is [units, depth].

The input is flattened to rows of `depth` (TFLite's rule); `keep_num_dims`
keeps the input's leading dimensions instead of collapsing them.
"""
from functools import partial

import numpy as np

from ._base import activation_calls, activation_name, binds, float_activation


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
    x, out = inputs[0], outputs[0]
    # The 2-D views of the input and output, and the bias repeated per row,
    # made once per pair of arrays: at batch 1 a reshape or a broadcast costs
    # a tenth of the product itself (np.dot, too, costs less than np.matmul).
    views = node.__dict__.get("views")
    if views is None or views[0] is not x or views[1] is not out:
        views = node.views = (x, out) + _operands(node, x, out, inputs[1], inputs[2] if len(inputs) > 2 else None)
    _, _, x2, wt, res, bias = views
    if node.exact_products:
        node.matmul()(x2, wt, out=res)
    elif x2.flags.c_contiguous and wt.flags.c_contiguous:
        np.dot(x2, wt, out=res)
    else:
        np.matmul(x2, wt, out=res)
    if bias is not None:
        np.add(res, bias, out=res)
    if node.act is not None:
        node.act(out)


def _operands(node, x, out, w, b):
    """(input rows, weights [depth, units], output rows, bias to add or None).
    When the interpreter placed a one-row input in a buffer ending in a 1
    (`bias_row`, see interpreter.fusion), the bias rides in the product as
    the weights' last row."""
    res = out.reshape(-1, w.shape[0])
    row = node.__dict__.get("bias_row")
    if row is not None and np.may_share_memory(x, row):    # constant weights and bias
        wb = node.__dict__.get("wt_bias")
        if wb is None:
            wb = node.wt_bias = np.ascontiguousarray(np.concatenate([node.wt, b.reshape(1, -1)]))
        return row, wb, res, None
    if b is not None and node.inputs[2].data is not None:
        b = np.ascontiguousarray(np.broadcast_to(b, res.shape))
    return x.reshape(-1, node.depth), (w.T if node.wt is None else node.wt), res, b


@binds(eval_float)
def _bind_float(node, inputs, outputs):
    x, out = inputs[0], outputs[0]
    if node.wt is None or node.exact_products or not (x.flags.c_contiguous and out.flags.c_contiguous):
        return None
    x2, wt, res, bias = _operands(node, x, out, inputs[1], inputs[2] if len(inputs) > 2 else None)
    calls = [partial(np.dot, x2, wt, res)]
    if bias is not None:
        calls.append(partial(np.add, res, bias, out=res))
    return calls + activation_calls(node.act, out)
