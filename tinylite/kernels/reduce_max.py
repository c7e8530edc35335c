"""REDUCE_MAX over the axes given by the second input (`keep_dims` keeps them
as 1); reducing an empty axis gives the type's lowest value, as in TFLite."""
from __future__ import annotations

import numpy as np

from ._window import is_quantized_type, prepare_reduction, WindowData
from ._base import op_data


@op_data
class OpData(WindowData):
    """What REDUCE_MAX's prepare computes for eval."""

    lowest: int | np.float32 = None


def prepare(node):
    d = node.draft(OpData)
    x = node.inputs[0]
    if is_quantized_type(x):
        from ._layout import same_quantization

        # TFLite takes the max of the stored integers: input and output share one grid.
        if not same_quantization([x, node.outputs[0]]):
            node.fail("a quantized REDUCE_MAX needs the output's scale and zero point equal to the input's")
    else:
        node.expect_dtype(x, np.float32, np.int32, np.int64)
    prepare_reduction(node)
    info = np.finfo if x.dtype.kind == "f" else np.iinfo
    d.lowest = info(x.dtype).min
    return eval_max


def eval_max(node, inputs, outputs):
    data = node.data
    out = outputs[0]
    np.maximum.reduce(inputs[0], axis=data.axes, keepdims=True, initial=data.lowest,
                      out=out.reshape(data.kept_shape))
