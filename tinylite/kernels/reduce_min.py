"""REDUCE_MIN over the axes given by the second input (`keep_dims` keeps them
as 1); reducing an empty axis gives the type's largest value, as in LiteRT.
Quantized int8/uint8/int16 take the min of the stored integers (input and
output share one grid)."""
from __future__ import annotations

import numpy as np

from ._window import is_quantized_type, prepare_reduction, WindowData
from ._base import op_data


@op_data
class OpData(WindowData):
    """What REDUCE_MIN's prepare computes for eval."""

    highest: int | np.float32 = None


def prepare(node):
    d = node.draft(OpData)
    x = node.inputs[0]
    if is_quantized_type(x) and x.quantization is not None and x.quantization.is_quantized:
        from ._layout import same_quantization

        if not same_quantization([x, node.outputs[0]]):
            node.fail("a quantized REDUCE_MIN needs the output's scale and zero point equal to the input's")
    else:
        node.expect_dtype(x, np.float32, np.int32, np.int64, np.int8, np.uint8, np.int16)
    prepare_reduction(node)
    info = np.finfo if x.dtype.kind == "f" else np.iinfo
    d.highest = info(x.dtype).max
    return eval_min


def eval_min(node, inputs, outputs):
    data = node.data
    out = outputs[0]
    x = inputs[0]
    if x.dtype.kind == "f" and np.isnan(x).any():
        # LiteRT's `min(a, b)` keeps the running value when b is NaN unless it is the first.
        res = np.full(data.kept_shape, data.highest, x.dtype)
        for idx in np.ndindex(*[x.shape[a] for a in data.axes]):
            sl = [slice(None)] * x.ndim
            for a, i in zip(data.axes, idx):
                sl[a] = slice(i, i + 1)
            v = x[tuple(sl)]
            res = np.where(v < res, v, res)
        out[...] = res.reshape(out.shape)
        return
    np.minimum.reduce(x, axis=data.axes, keepdims=True, initial=data.highest, out=out.reshape(data.kept_shape))
