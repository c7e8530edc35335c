"""Optimized SVDF: float, hybrid and integer, as bound numpy calls on
preallocated buffers (the reference makes fresh arrays, an int64 matrix
product outside BLAS and a general einsum per invoke).

- The memory push is one overlapping copy within the state plus the new column.
- Float and hybrid: the feature product as the reference computes it (float32
  matmul; hybrid: rows quantized as LiteRT does, exact integer product, one
  float32 multiply), then the time weights as a multiply and a reduction over
  the memory (the reference's einsum sums in another order: rounding only).
- Integer: the products are exact in float64 (|x - zp| * |w| sums below 2**31;
  state times time weights below 2**30 a term), both requantizations are
  gemmlowp's MBQM in int64 (optimized._integer_lstm), the second after the
  int32 wrap the reference applies, unless the weights rule it out.
"""
from __future__ import annotations

from functools import partial

import numpy as np
from numpy._core.umath import clip as _clip

from .. import svdf as reference
from .._recurrent import ACTIVATION_NAMES
from . import register
from ._cached import calls_per_arrays
from ._hybrid import product_dtype, RowQuantizer
from ._integer_lstm import _int_mbqm_calls, _mbqm_constants

_ACTIVATIONS = ("NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH")


def _applies(node, ref):
    if ref is reference.eval_integer:
        # The feature sums stay within int32 (the reference would wrap them), the multipliers below one.
        return 255.0 * float(np.abs(node.data.wf_i).sum(axis=0).max(initial=0)) < 2.0**31 and \
            all(sh <= 0 or m == 0 for m, sh in (node.data.m1, node.data.m2))
    return ref in (reference.eval_float, reference.eval_hybrid) and \
        ACTIVATION_NAMES.get(node.data.activation, "NONE") in _ACTIVATIONS


@register("SVDF", when=_applies)
def prepare_fast(node, reference_fn):
    return eval_svdf_fast


def _arrays(inputs, outputs):
    return inputs[0], inputs[4], outputs[0]


def _build(node, inputs, outputs):
    return _build_calls(node, inputs[0], inputs[4], outputs[0])


eval_svdf_fast = calls_per_arrays("calls", _arrays, _build, "eval_svdf_fast")


def _build_calls(node, x, state, out):
    data = node.data
    B, F, M, R, U = data.dims
    s3 = state.reshape(B, F, M)
    calls = [partial(np.copyto, s3[:, :, :-1], s3[:, :, 1:])] if M > 1 else []
    if node.inputs[0].dtype == np.int8:
        return calls + _integer(data, x, s3, out)
    col = np.empty((B, F), np.float32)
    if data.wf_t is not None:
        calls.append(partial(np.matmul, x, data.wf_t, out=col))
    else:
        w = data.wf_q.astype(product_dtype(data.wf_q, 0))
        q = np.empty(x.shape, w.dtype)
        prod = np.empty((B, F), w.dtype)
        factor = np.empty((B, 1), np.float32)
        quantize = RowQuantizer(x, q, data.asym)
        calls += [quantize, partial(np.matmul, q, w, out=prod), partial(np.copyto, col, prod),
                  partial(np.multiply, quantize.sf[:, None], data.wf_scale, out=factor),
                  partial(np.multiply, col, factor, out=col)]
    tmp = np.empty((B, F, M), np.float32)
    per_filter = np.empty((B, F), np.float32)
    acc = np.empty((B, U), np.float32)
    calls += [partial(np.copyto, s3[:, :, -1], col), partial(np.multiply, s3, data.wt, out=tmp),
              partial(np.add.reduce, tmp, axis=2, out=per_filter),
              partial(np.add.reduce, per_filter.reshape(B, U, R), axis=2, out=acc)]
    if data.bias is not None:
        calls.append(partial(np.add, acc, data.bias, out=acc))
    act = ACTIVATION_NAMES.get(data.activation, "NONE")
    if act == "TANH":
        calls.append(partial(np.tanh, acc, out=out))
    elif act == "RELU":
        calls.append(partial(np.maximum, acc, np.float32(0), out=out))
    elif act == "NONE":
        calls.append(partial(np.copyto, out, acc))
    else:
        lo, hi = (-1, 1) if act == "RELU_N1_TO_1" else (0, 6)
        calls.append(partial(_clip, acc, np.float32(lo), np.float32(hi), out=out))
    return calls


def _integer(data, x, s3, out):
    B, F, M, R, U = data.dims
    wf = data.wf_i.astype(np.float64)
    xf = np.empty(x.shape)
    accf = np.empty((B, F))
    t = np.empty((B, F), np.int64)
    u = np.empty((B, F), np.int64)
    m, c0, d, s = _mbqm_constants(*data.m1)
    calls = [partial(np.subtract, x, np.float64(data.x_zp), out=xf), partial(np.dot, xf, wf, out=accf),
             partial(np.copyto, t, accf, casting="unsafe")]
    calls += _int_mbqm_calls(t, u, m, c0, d, s)
    calls.append(partial(_clip, t, np.int64(-32768), np.int64(32767), out=s3[:, :, -1]))
    wt = data.wt_i.astype(np.float64)
    tmp = np.empty((B, F, M))
    per_filter = np.empty((B, F))
    accf2 = np.empty((B, U))
    t2 = np.empty((B, U), np.int64)
    u2 = np.empty((B, U), np.int64)
    calls += [partial(np.multiply, s3, wt, out=tmp), partial(np.add.reduce, tmp, axis=2, out=per_filter),
              partial(np.add.reduce, per_filter.reshape(B, U, R), axis=2, out=accf2),
              partial(np.copyto, t2, accf2, casting="unsafe")]
    bias = data.bias_i
    if bias is not None:
        calls.append(partial(np.add, t2, bias, out=t2))
    bound = 32768.0 * np.abs(data.wt_i).reshape(U, R * M).sum(axis=1) + (0 if bias is None else np.abs(bias))
    if np.any(bound >= 2.0**31):
        # The reference's MBQM holds the sum in an int32, as LiteRT's kernel does.
        w32 = np.empty((B, U), np.int32)
        calls += [partial(np.copyto, w32, t2, casting="unsafe"), partial(np.copyto, t2, w32)]
    m, c0, d, s = _mbqm_constants(*data.m2)
    calls += _int_mbqm_calls(t2, u2, m, c0 + (data.out_zp << s), d, s)
    return calls + [partial(_clip, t2, np.int64(-128), np.int64(127), out=out, casting="unsafe")]
