"""ELU (alpha 1): x if x >= 0 else exp(x) - 1."""
import numpy as np

from ._unary import prepare_float_unary

ZERO = np.float32(0)


def prepare(node):
    return prepare_float_unary(node, eval_float, "elu")


def eval_float(node, inputs, outputs):
    # expm1(min(x, 0)) + max(x, 0): one term is always (+-)0, so this is exact.
    x, out = inputs[0], outputs[0]
    np.minimum(x, ZERO, out=out)
    np.expm1(out, out=out)
    out += np.maximum(x, ZERO)
