"""Optimized ADD: LiteRT's optimized 8-bit scalar-broadcast add.

Where one input broadcasts along the innermost dimensions of the other (a
scalar, a per-batch value: LiteRT's fivefold broadcast with y4 == 1),
LiteRT's optimized int8/uint8 ADD (``AddScalarBroadcast``) runs each run
of y3 outputs in blocks of 8 through NEON code (NEON_2_SSE on x86) that
rescales differently from its reference kernel:

- each input's rescale is ``vqrdmulh`` (ties rounded up) followed by a
  plain arithmetic right shift (rounds down), where the reference uses
  gemmlowp's high multiply (ties away from zero) and a rounding divide;
- the output rescale is ``vqrdmulh`` then gemmlowp's rounding divide;
- the result is narrowed to int16 and offset there before saturating to 8 bits.

The tail of each run (y3 % 8 elements) takes the reference's scalar
formula.  Seen on ``tk_dbface_keras_256x256_integer_quant_nhwc`` (an int8
ADD of a constant scalar with RELU6): 0.6% of the outputs are one LSB apart
between LiteRT's two resolvers.  Non-broadcast adds and the other
broadcasts match the reference formula (checked against LiteRT), so they
keep the reference kernel.
"""
from __future__ import annotations

import numpy as np

from . import _add16, _pair_table, register
from .. import _binary as reference, _fixedpoint as fx
from .._base import op_data


@op_data
class OpData(reference.BinaryData, _pair_table.PairTableData):
    """The reference ADD's op data and what this optimized kernel adds."""

    q_neon: np.ndarray = None


def fivefold(shape0, shape1):
    """LiteRT's ProcessBroadcastShapes: (category, [y0..y4]) with category one of
    'none', 'first', 'second' (which input broadcasts fast) or 'generic'."""
    rank = max(len(shape0), len(shape1))
    a0 = (1,) * (rank - len(shape0)) + tuple(shape0)
    a1 = (1,) * (rank - len(shape1)) + tuple(shape1)
    if a0 == a1:
        return "none", None
    category = "generic"
    for i in range(rank - 1, -1, -1):
        if a0[i] == a1[i]:
            continue
        category = "first" if a0[i] == 1 else "second" if a1[i] == 1 else "generic"
        break
    if category == "generic":
        return category, None
    sa, sb = (a1, a0) if category == "second" else (a0, a1)
    y = [1] * 5
    i = rank - 1
    for slot, test in ((4, "eq"), (3, "a1"), (2, "eq"), (1, "b1"), (0, "eq")):
        while i >= 0 and (sa[i] == sb[i] if test == "eq" else (sa[i] == 1 if test == "a1" else sb[i] == 1)):
            y[slot] *= sb[i] if slot in (4, 3, 0) else sa[i]
            i -= 1
    return ("generic", None) if i >= 0 else (category, y)


def _scalar_broadcast_applies(node, reference_fn):
    if reference_fn is not reference._eval_add_sub or node.op_name != "ADD":
        return False
    category, y = fivefold(node.inputs[0].shape, node.inputs[1].shape)
    return category in ("first", "second") and y[4] == 1 and y[3] >= 8


@register("ADD", dtypes=(np.int8, np.uint8), when=_scalar_broadcast_applies)
def prepare_scalar_broadcast(node, reference_fn):
    d = node.draft(OpData)
    _, y = fivefold(node.inputs[0].shape, node.inputs[1].shape)
    out = node.outputs[0]
    # Output elements are runs of y3; the first y3 // 8 * 8 of each run take the NEON blocks.
    position = np.arange(int(np.prod(out.shape, dtype=np.int64))) % y[3]
    d.q_neon = (position < y[3] // 8 * 8).reshape(out.shape)
    return eval_scalar_broadcast


def _rescale_neon(q, params):
    zp, left_shift, mult, shift = params
    return fx.vqrdmulh((q.astype(np.int64) - zp) << left_shift, mult) >> -shift


def eval_scalar_broadcast(node, inputs, outputs):
    data = node.data
    out = outputs[0]
    reference._eval_add_sub(node, inputs, outputs)
    raw = _rescale_neon(inputs[0], data.q_in[0]) + _rescale_neon(inputs[1], data.q_in[1])
    scaled = fx.rounding_divide_by_pot(fx.vqrdmulh(fx.wrap32(raw), data.q_out_mult), -data.q_out_shift)
    info = np.iinfo(out.dtype)
    res = np.clip(fx.wrap16(fx.wrap16(scaled) + data.q_out_zp), info.min, info.max)
    res = np.clip(np.broadcast_to(res, out.shape), data.q_lo, data.q_hi)
    np.copyto(out, res, where=data.q_neon, casting="unsafe")


@register("ADD", dtypes=(np.int8, np.uint8), when=lambda node, ref: ref is reference._eval_add_sub)
def prepare_pair_table(node, reference_fn):
    """Any other 8-bit ADD: one lookup in the table of the reference's results (_pair_table)."""
    return _pair_table.plan(node, reference_fn)


# --- int16, LiteRT's general path: see _add16.py ---

register("ADD", dtypes=(np.int16,), when=_add16.applies, name="add.prepare_int16")(_add16.prepare)
