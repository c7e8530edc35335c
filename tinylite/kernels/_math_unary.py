"""What the float elementwise math ops without a quantized kernel share
(FLOOR, CEIL, ROUND, SIN, COS, SIGN): same-shape output of the input's type,
computed by one numpy ufunc."""
import numpy as np

from ._unary import same_shape


def prepare_ufunc(node, ufunc, dtypes):
    x = same_shape(node)
    node.expect_dtype(x, *dtypes)
    node.ufunc = ufunc
    return eval_ufunc


def eval_ufunc(node, inputs, outputs):
    with np.errstate(invalid="ignore"):
        node.ufunc(inputs[0], out=outputs[0])
