"""NEG: -x, elementwise.  Integers negate their raw values with wrap-around
(quantized int8/int16 too, as TFLite does: it ignores the zero point)."""
import numpy as np

from ._unary import same_shape


def prepare(node):
    node.expect_dtype(same_shape(node), np.float32, np.float16, np.int64, np.int32, np.int16, np.int8)
    return eval_neg


def eval_neg(node, inputs, outputs):
    np.negative(inputs[0], out=outputs[0])
