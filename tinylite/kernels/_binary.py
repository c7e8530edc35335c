"""Elementwise binary ops with numpy broadcasting and a fused activation
(ADD, SUB, MUL, DIV, MAXIMUM, ...): each op module names its ufunc."""
from functools import partial

import numpy as np

from ._base import activation_calls, binds, broadcast_shape, fused_float_activation

FLOAT_AND_INT = (np.float32, np.int32, np.int64)


def prepare_binary(node, ufunc, dtypes=FLOAT_AND_INT):
    x, y = node.inputs[0], node.inputs[1]
    if x.dtype != y.dtype:
        node.fail(f"input types differ: {x.dtype.name} and {y.dtype.name}")
    node.outputs[0].shape = broadcast_shape(x.shape, y.shape, node)
    if x.dtype.kind == "f" or x.dtype.kind in "iub" and np.dtype(x.dtype) in [np.dtype(d) for d in dtypes]:
        if x.dtype.kind in "iu" and x.quantization is not None and x.quantization.is_quantized:
            from . import _quantized

            return _quantized.prepare_binary(node)
        node.expect_dtype(x, *dtypes)
        node.ufunc = ufunc
        # The clamping activations mean the same on integers; TANH/SIGN_BIT are no-ops in TFLite.
        node.act = fused_float_activation(node)
        return eval_binary
    from . import _quantized

    return _quantized.prepare_binary(node)


def eval_binary(node, inputs, outputs):
    out = outputs[0]
    node.ufunc(inputs[0], inputs[1], out=out)
    if node.act is not None:
        node.act(out)


@binds(eval_binary)
def _bind_binary(node, inputs, outputs):
    out = outputs[0]
    return [partial(node.ufunc, inputs[0], inputs[1], out=out)] + activation_calls(node.act, out)
