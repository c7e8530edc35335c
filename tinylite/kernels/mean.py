"""MEAN over the axes given by the second input (`keep_dims` keeps them as 1).

As in TFLite: float means sum in float32 then divide; int32/int64 means sum
in int64 and divide truncating toward zero; an empty input gives NaN (0 for
integers).
"""
from functools import partial

import numpy as np

from ._base import binds
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


@binds(eval_float)
def _bind_float(node, inputs, outputs):
    # np.sum is add.reduce behind a Python wrapper that costs more than a
    # layer norm's small mean itself; the same reduction, called straight.
    x, out = inputs[0], outputs[0]
    if x.size == 0 or not out.flags.c_contiguous:
        return None
    acc = out.reshape(node.kept_shape)
    return [partial(np.add.reduce, x, node.axes, np.float32, acc, True),
            partial(np.divide, acc, np.float32(node.count), out=acc)]


def eval_int(node, inputs, outputs):
    x, out = inputs[0], outputs[0]
    if x.size == 0:
        out[...] = 0
        return
    total = np.sum(x, axis=node.axes, dtype=np.int64, keepdims=True)
    quotient = np.abs(total) // node.count * np.sign(total)
    out.reshape(node.kept_shape)[...] = quotient.astype(out.dtype)
