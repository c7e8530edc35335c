"""TANH, elementwise."""
from functools import partial

import numpy as np

from ._base import binds


def prepare(node):
    if node.inputs[0].dtype == np.float16:
        from ._half import prepare_via_float32   # computed in float32, rounded to half (as LiteRT)

        return prepare_via_float32(node, prepare)
    x = node.inputs[0]
    node.outputs[0].shape = x.shape
    if x.dtype == np.float32:
        # Where a hybrid op quantizes what this computes (interpreter/hybrid.py), LiteRT's own float
        # tanh under the default resolver: a last-bit difference would move a quantization step.
        return eval_float_litert if node.litert_order and not node.reference else eval_float
    return prepare_quantized(node)


def eval_float(node, inputs, outputs):
    np.tanh(inputs[0], out=outputs[0])


# Eigen's float tanh (its fast-math rational approximation), which LiteRT's optimized kernel runs
# in its x86 build (AVX without FMA: each product rounded before its sum): x clamped to
# +-7.90738964 (where the approximation reaches 1), then (x + x**3 p(x**2)) / q(x**2), the
# polynomials by Horner's rule.  Bit for bit with ai-edge-litert 2.3 on 300K values (numpy's tanh
# differs on half of them, by up to 3.6e-7 relative).
_CLAMP = np.float32(7.90738964080810547)
_NUM = [np.float32(c) for c in (1.394553628e-8, 2.102733560e-5, 3.520756727e-3, 1.340216100e-1)]
_DEN = [np.float32(c) for c in (8.015776984e-7, 3.326951409e-4, 2.597254514e-2, 4.673548340e-1, 1.0)]


def eval_float_litert(node, inputs, outputs):
    """LiteRT's optimized float TANH (Eigen's), see _CLAMP."""
    with np.errstate(invalid="ignore"):
        for call in _bind_float_litert(node, inputs, outputs):
            call()


def _horner(x2, coefficients, acc):
    """Calls writing the polynomial (highest degree first) at x2 into acc, by Horner's rule."""
    calls = [partial(np.multiply, x2, coefficients[0], out=acc), partial(np.add, acc, coefficients[1], out=acc)]
    for c in coefficients[2:]:
        calls += [partial(np.multiply, acc, x2, out=acc), partial(np.add, acc, c, out=acc)]
    return calls


@binds(eval_float_litert)
def _bind_float_litert(node, inputs, outputs):
    x, out = inputs[0], outputs[0]
    xc, x2, num, den = (np.empty(out.shape, np.float32) for _ in range(4))
    return ([partial(np.minimum, x, _CLAMP, out=xc), partial(np.maximum, xc, -_CLAMP, out=xc),
             partial(np.multiply, xc, xc, out=x2)] + _horner(x2, _NUM, num) + _horner(x2, _DEN, den)
            # (x**3 p + x) / q, x**3 as x**2 x.
            + [partial(np.multiply, x2, xc, out=x2), partial(np.multiply, x2, num, out=num),
               partial(np.add, num, xc, out=num), partial(np.divide, num, den, out=out)])


@binds(eval_float)
def _bind_float(node, inputs, outputs):
    return [partial(np.tanh, inputs[0], out=outputs[0])]


def prepare_quantized(node):
    from ._activations import prepare_sigmoid_like

    return prepare_sigmoid_like(node, tanh=True)
