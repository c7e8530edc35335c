"""Optimized FULLY_CONNECTED (float32): the 2-D views of the input and
output and the bias repeated per row made once per pair of arrays, and,
where the interpreter placed a one-row input in a buffer ending in a 1
(`bias_row`, see interpreter.fusion), the bias in the product as the
weights' last row.  Float results differ from the reference's by
summation order only."""
from functools import partial

import numpy as np

from .. import fully_connected as reference
from .._base import activation_calls, binds
from . import register


@register("FULLY_CONNECTED", dtypes=(np.float32,), when=lambda node, ref: ref is reference.eval_float)
def prepare_fast(node, reference_fn):
    return eval_float_fast


def eval_float_fast(node, inputs, outputs):
    x, out = inputs[0], outputs[0]
    # The 2-D views of the input and output, and the bias repeated per row,
    # made once per pair of arrays: at batch 1 a reshape or a broadcast costs
    # a tenth of the product itself (np.dot, too, costs less than np.matmul).
    views = node.cache.get("views")
    if views is None or views[0] is not x or views[1] is not out:
        views = node.cache["views"] = (x, out) + _operands(node, x, out, inputs[1], inputs[2] if len(inputs) > 2 else None)
    _, _, x2, wt, res, bias = views
    if x2.flags.c_contiguous and wt.flags.c_contiguous:
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


@binds(eval_float_fast)
def _bind_float(node, inputs, outputs):
    x, out = inputs[0], outputs[0]
    if node.wt is None or not (x.flags.c_contiguous and out.flags.c_contiguous):
        return None
    x2, wt, res, bias = _operands(node, x, out, inputs[1], inputs[2] if len(inputs) > 2 else None)
    calls = [partial(np.dot, x2, wt, res)]
    if bias is not None:
        calls.append(partial(np.add, res, bias, out=res))
    return calls + activation_calls(node.act, out)
