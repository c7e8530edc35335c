"""GELU: x * Phi(x), exactly as 0.5 * x * erfc(-x / sqrt(2)), or with the tanh
approximation 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))."""
import math

import numpy as np

from ._unary import erfc, prepare_float_unary

SQRT_2_OVER_PI = np.float32(math.sqrt(2 / math.pi))
MINUS_SQRT_HALF = -math.sqrt(0.5)


def prepare(node):
    node.approximate = bool(node.options.get("approximate", False))
    fn = prepare_float_unary(node, eval_approximate if node.approximate else eval_exact, "gelu")
    if fn is eval_exact:
        # float64 work buffers, reused across invokes (fresh large arrays are slow).
        node.buffers = [np.empty(node.inputs[0].shape, np.float64) for _ in range(3)]
    return fn


def eval_exact(node, inputs, outputs):
    # erfc rather than 1 + erf, as LiteRT does: no cancellation for negative x.
    x = inputs[0]
    u, r, scratch = node.buffers
    np.multiply(x, MINUS_SQRT_HALF, out=u)
    erfc(u, out=r, scratch=scratch)
    r *= x
    r *= 0.5
    outputs[0][...] = r


def eval_approximate(node, inputs, outputs):
    # float32 in LiteRT's order: (0.5 * x) * (1 + tanh(c * (x + 0.044715 * x*x*x))).
    x, out = inputs[0], outputs[0]
    with np.errstate(over="ignore", invalid="ignore"):
        np.multiply(x, x, out=out)
        out *= x
        out *= np.float32(0.044715)
        out += x
        out *= SQRT_2_OVER_PI
        np.tanh(out, out=out)
        out += np.float32(1)
        out *= np.float32(0.5)
        out *= x
