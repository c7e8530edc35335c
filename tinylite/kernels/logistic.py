"""LOGISTIC (sigmoid), elementwise: 1 / (1 + exp(-x))."""
from functools import partial

import numpy as np

from numpy._core.umath import clip as _clip   # the ufunc: np.clip's wrapper costs 5 us a call

from ._base import binds


def prepare(node):
    if node.inputs[0].dtype == np.float16:
        from ._half import prepare_via_float32   # computed in float32, rounded to half (as LiteRT)

        return prepare_via_float32(node, prepare)
    x = node.inputs[0]
    node.outputs[0].shape = x.shape
    if x.dtype == np.float32:
        if node.reference:
            return eval_float_reference
        # Where a hybrid op quantizes what this computes (interpreter/hybrid.py), LiteRT's own float
        # sigmoid, not numpy's: a last-bit difference would move a quantization step.
        return eval_float_litert if node.litert_order else eval_float
    return prepare_quantized(node)


# Eigen's float logistic, which LiteRT's optimized kernel runs (its x86 build: AVX without FMA,
# so each product is rounded before its sum): exp(x / 2) by Cephes' reduction (x / 2 = m ln 2 + r,
# ln 2 in two parts) and a degree-5 polynomial in r, scaled by 2**m and squared, then e / (1 + e);
# 0 below -104, x capped at 16.6355324 (where it gives 1).  Matched bit for bit against
# ai-edge-litert 2.3 on 300K values (numpy's float32 sigmoid differs on about 60% of them, by up
# to 5e-7 relative).
_E = {k: np.float32(v) for k, v in dict(
    hi=16.6355324, floor=-104.5, half=0.5, one=1.0, log2e=1.44269504088896341, c1=-0.693359375, c2=2.12194440e-4,
    p2=0.49999141693115234375, p3=0.16666877269744873046875, p4=4.1898667812347412109375e-2,
    p5=8.33471305668354034423828125e-3).items()}


def eval_float_litert(node, inputs, outputs):
    """LiteRT's optimized float LOGISTIC (Eigen's), see _E."""
    with np.errstate(all="ignore"):          # a NaN's exponent casts to garbage; its result is NaN all the same
        for call in _bind_float_litert(node, inputs, outputs):
            call()


@binds(eval_float_litert)
def _bind_float_litert(node, inputs, outputs):
    # Four scratch arrays and the output, written in place: some 25 passes, but no temporaries
    # (fresh arrays of a large map cost page faults at every invoke).
    x, out, e = inputs[0], outputs[0], _E
    xh, m, r, r2 = (np.empty(out.shape, np.float32) for _ in range(4))
    exponent = np.empty(out.shape, np.int32)
    # x clamped to [-104.5, 16.6355324]: below -104 (where Eigen returns 0) the formula's square
    # underflows to 0 too, so a clamp stands in for Eigen's mask and keeps -inf from making NaN.
    return [partial(_clip, x, e["floor"], e["hi"], out=xh), partial(np.multiply, xh, e["half"], out=xh),
            # m = floor(x / 2 * log2(e) + 1/2); r = x / 2 - m ln 2, ln 2 in two parts.
            partial(np.multiply, xh, e["log2e"], out=m), partial(np.add, m, e["half"], out=m),
            partial(np.floor, m, out=m),
            partial(np.multiply, m, e["c1"], out=r), partial(np.add, r, xh, out=r),
            partial(np.multiply, m, e["c2"], out=xh), partial(np.add, xh, r, out=r),
            # exp(r) ~ r2 (r odd(r2) + even(r2)) + (r + 1).
            partial(np.multiply, r, r, out=r2),
            partial(np.multiply, r2, e["p5"], out=xh), partial(np.add, xh, e["p3"], out=xh),
            partial(np.multiply, r, xh, out=xh),
            partial(np.multiply, r2, e["p4"], out=out), partial(np.add, out, e["p2"], out=out),
            partial(np.add, xh, out, out=xh), partial(np.multiply, r2, xh, out=xh),
            partial(np.add, r, e["one"], out=r), partial(np.add, xh, r, out=xh),
            # e = (exp(r) 2**m)**2 = exp(x); out = e / (1 + e), 0 below -104.
            partial(np.copyto, exponent, m, casting="unsafe"), partial(np.ldexp, xh, exponent, out=xh),
            partial(np.multiply, xh, xh, out=xh), partial(np.add, xh, e["one"], out=r),
            partial(np.divide, xh, r, out=out)]


# LiteRT's reference kernel: 1 above this, exp(x) below -9 (where 1 / (1 + exp(-x)) is exp(x) within
# 1.2e-4 relative: outputs a quantized or hybrid op reads can move by a step there).
_UPPER, _LOWER = np.float32(16.619047164916992188), np.float32(-9.0)


def eval_float_reference(node, inputs, outputs):
    """LiteRT's reference LOGISTIC in float32, with expf as glibc's: exp rounded once to float32
    (numpy's float32 exp is off by an ulp on about a sixth of the values; this way 86 of 300K
    random values differ from LiteRT's by an ulp, where glibc's expf is not correctly rounded)."""
    x, out = inputs[0], outputs[0]
    x64 = x.astype(np.float64)
    with np.errstate(over="ignore"):
        mid = np.float32(1) / (np.float32(1) + np.exp(-x64).astype(np.float32))
        low = np.exp(x64).astype(np.float32)
    out[...] = np.where(x > _UPPER, np.float32(1), np.where(x < _LOWER, low, mid))


def eval_float(node, inputs, outputs):
    out = outputs[0]
    # exp(-x) overflows to inf for very negative x, which correctly gives 0.
    with np.errstate(over="ignore"):
        np.negative(inputs[0], out=out)
        np.exp(out, out=out)
    out += 1
    np.reciprocal(out, out=out)


@binds(eval_float)
def _bind_float(node, inputs, outputs):
    # A plan runs where numpy ignores FP errors (interpreter.tape): no errstate here.
    x, out = inputs[0], outputs[0]
    return [partial(np.negative, x, out=out), partial(np.exp, out, out=out), partial(np.add, out, 1, out=out),
            partial(np.reciprocal, out, out=out)]


def prepare_quantized(node):
    from ._activations import prepare_sigmoid_like

    return prepare_sigmoid_like(node, tanh=False)
