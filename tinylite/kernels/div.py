"""DIV: x / y with broadcasting and a fused activation.  int32 divides with
truncation toward zero; a zero divisor is an error, as in TFLite."""
import numpy as np

from ._binary import prepare_arithmetic


def prepare(node):
    divide = divide_int if node.inputs[0].dtype == np.int32 else divide_float
    return prepare_arithmetic(node, divide, (np.float32, np.int32))


def divide_float(x, y, out):
    # x/0 is +-inf (clamped to +-max by the activation) and 0/0 NaN, silently.
    with np.errstate(divide="ignore", invalid="ignore"):
        np.divide(x, y, out=out)


def divide_int(x, y, out):
    if not np.all(y):
        raise ValueError("DIV: the int32 divisor contains a zero")
    x, y = x.astype(np.int64), y.astype(np.int64)
    q = np.abs(x) // np.abs(y)
    # Truncating division; INT_MIN / -1 saturates to INT_MAX as LiteRT returns.
    q = np.where((x < 0) != (y < 0), -q, q)
    np.clip(q, np.iinfo(np.int32).min, np.iinfo(np.int32).max, out=q)
    out[...] = q
