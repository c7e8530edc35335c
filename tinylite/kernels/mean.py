"""MEAN over the axes given by the second input (`keep_dims` keeps them as 1).

As in TFLite: float means sum in float32 then divide; int32/int64 means sum
in int64 and divide truncating toward zero; an empty input gives NaN (0 for
integers).
"""
import numpy as np

from ._window import is_quantized_type, prepare_reduction


def prepare(node):
    x = node.inputs[0]
    if is_quantized_type(x):
        from . import _quantized

        return _quantized.prepare_mean(node)
    node.expect_dtype(x, np.float32, np.int32, np.int64)
    prepare_reduction(node)
    return eval_float if x.dtype == np.float32 else eval_int


def eval_float(node, inputs, outputs):
    x, out = inputs[0], outputs[0]
    if x.size == 0:
        out[...] = np.nan
        return
    acc = out.reshape(node.kept_shape)
    np.sum(x, axis=node.axes, dtype=np.float32, keepdims=True, out=acc)
    acc /= np.float32(node.count)


def eval_int(node, inputs, outputs):
    x, out = inputs[0], outputs[0]
    if x.size == 0:
        out[...] = 0
        return
    total = np.sum(x, axis=node.axes, dtype=np.int64, keepdims=True)
    quotient = np.abs(total) // node.count * np.sign(total)
    out.reshape(node.kept_shape)[...] = quotient.astype(out.dtype)
