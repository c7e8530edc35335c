"""HARD_SWISH: x * relu6(x + 3) / 6, rounded as LiteRT's optimized kernel does."""
import numpy as np

from ._unary import prepare_float_unary

ONE_SIXTH = np.float32(1.0) / np.float32(6.0)


def prepare(node):
    return prepare_float_unary(node, eval_float, "hard_swish")


def eval_float(node, inputs, outputs):
    x, out = inputs[0].reshape(-1), outputs[0].reshape(-1)
    np.add(x, np.float32(3), out=out)
    np.clip(out, np.float32(0), np.float32(6), out=out)
    # LiteRT's NEON loop (x86 builds run it too, through NEON_2_SSE) computes
    # (x * 1/6) * relu6(x + 3) in blocks of 4; its scalar tail computes
    # (x * relu6(x + 3)) * 1/6.  The order shows at overflow and underflow.
    n = x.size - x.size % 4
    out[:n] *= x[:n] * ONE_SIXTH
    out[n:] *= x[n:]
    out[n:] *= ONE_SIXTH
