"""SUM over the axes given by the second input (`keep_dims` keeps them as 1);
integer sums wrap around on overflow, as in TFLite."""
import numpy as np

from ._quantization import prepare_quantized
from ._window import is_quantized_type, prepare_reduction


def prepare(node):
    x = node.inputs[0]
    if is_quantized_type(x):
        return prepare_quantized(node)
    node.expect_dtype(x, np.float32, np.int32, np.int64)
    prepare_reduction(node)
    return eval_sum


def eval_sum(node, inputs, outputs):
    out = outputs[0]
    np.sum(inputs[0], axis=node.axes, dtype=out.dtype, keepdims=True, out=out.reshape(node.kept_shape))
