"""REDUCE_PROD over the axes given by the second input (`keep_dims` keeps them
as 1): float32, int32, int64, and unquantized int8/uint8/int16 (integers wrap
as in C).  The product of an empty axis is 1.  LiteRT multiplies in input
order; float products here may differ in the last bits.

Quantized int8/int16 follow LiteRT's QuantizedReduceProd: the product of the
zero-point-free values is rescaled after every multiplication by
input_scale / output_scale ** (1 / n) (n values per output), so that it stays
within int32, and once more at the end (no axis: a plain copy); LiteRT has no quantized uint8 product."""
from __future__ import annotations

import numpy as np

from ._fixedpoint import multiply_by_quantized_multiplier_64, quantize_multiplier
from ._window import prepare_reduction, WindowData
from ._base import op_data


@op_data
class OpData(WindowData):
    """What REDUCE_PROD's prepare computes for eval."""

    perm: tuple = None
    q_zp: int = None
    q_out_zp: int = None
    q_mult: int = None
    q_shift: int = None


def prepare(node):
    x = node.inputs[0]
    if x.quantization is not None and x.quantization.is_quantized and x.dtype.kind in "iu":
        return _prepare_quantized(node, x, node.outputs[0])
    node.expect_dtype(x, np.float32, np.int32, np.int64, np.int8, np.uint8, np.int16)
    prepare_reduction(node)
    return eval_prod


def eval_prod(node, inputs, outputs):
    data = node.data
    out = outputs[0]
    np.multiply.reduce(inputs[0], axis=data.axes, keepdims=True, out=out.reshape(data.kept_shape))


def _prepare_quantized(node, x, out):
    d = node.draft(OpData)
    if x.dtype not in (np.dtype(np.int8), np.dtype(np.int16)):
        node.fail(f"quantized REDUCE_PROD takes int8 or int16 input, got quantized {x.dtype.name} (LiteRT "
                  "refuses it too); requantize the input to int8")
    if out.dtype != x.dtype or out.quantization is None or not out.quantization.is_quantized:
        node.fail(f"quantized REDUCE_PROD needs a quantized {x.dtype.name} output, got {out.dtype.name}")
    if x.dtype == np.int16 and (x.zero_point != 0 or out.zero_point != 0):
        node.fail(f"int16 REDUCE_PROD needs zero points 0, got input {x.zero_point} and output "
                  f"{out.zero_point}")
    prepare_reduction(node)
    rank = len(x.shape)
    # LiteRT visits each output's inputs in row-major order: kept axes first, reduced axes ascending.
    reduced = sorted(d.axes)
    d.perm = tuple(i for i in range(rank) if i not in d.axes) + tuple(reduced)
    d.q_zp = x.zero_point
    d.q_out_zp = out.zero_point
    n = d.count
    if n > 0:
        # Each step's rescaling: the n-th root of the final scale, so n steps give input_scale**n / output_scale.
        scaling = float(x.scale) / (float(out.scale) ** (1.0 / n))
        d.q_mult, d.q_shift = quantize_multiplier(scaling)
        if not -31 <= d.q_shift <= 14:
            node.fail(f"the per-step scale input_scale / output_scale**(1/{n}) = {scaling:.6g} is outside "
                      "what LiteRT's 64-bit rescaling can hold; choose an output scale closer to "
                      "input_scale**n")
    return eval_quantized


def eval_quantized(node, inputs, outputs):
    data = node.data
    x = inputs[0]
    out = outputs[0]
    if x.size == 0:
        return
    if not data.axes:
        # LiteRT's reduction with no axis copies the stored values, without rescaling them.
        out.reshape(-1)[...] = x.reshape(-1)
        return
    n = data.count
    v = np.transpose(x, data.perm).reshape(-1, n).astype(np.int64) - data.q_zp
    acc = v[:, 0]
    for j in range(1, n):
        acc = multiply_by_quantized_multiplier_64(acc * v[:, j], data.q_mult, data.q_shift)
    r = multiply_by_quantized_multiplier_64(acc, data.q_mult, data.q_shift) + data.q_out_zp
    info = np.iinfo(out.dtype)
    out.reshape(-1)[...] = np.clip(r, info.min, info.max)
