"""Optimized MEAN.  float32 over leading axes: one einsum (see the float32 section).
int8/uint8: one reduction and one lookup per invoke.

A quantized mean's output depends on the sum of its `count` input values
alone (and, in LiteRT's optimized spatial kernel, on whether the channel lies
in a SIMD block of 16), so the reference's arithmetic run once over every sum
an 8-bit input can reach is a table (at most 64 KiB), bit-exact by
construction: an invoke sums with the reduction's initial value shifting
sums to table indices, then looks them up (3 calls against the reference's
int64 passes: 0.30 -> 0.02 ms for MobileNetV2's 7x7x1280 global mean).
The tables are filled by the first invoke and shared by key (see _lazy).
"""
from __future__ import annotations

from collections import OrderedDict
from functools import partial

import numpy as np

from . import register
from .. import mean as reference
from .._base import bound_kernel, op_data
from .._lazy import LazyTable
from ._cached import cached_calls

# Largest table of outputs (one entry per possible sum).
TABLE_MAX = 1 << 16


@op_data
class OpData(reference.OpData):
    """The reference MEAN's op data and what this optimized kernel adds."""

    opt_tables: tuple = None     # (table for the SIMD channels, table for the others): LazyTables
    opt_offset: int = None       # sum + offset = table index


def _applies(node, reference_fn):
    count = node.data.count
    return (reference_fn in (reference._eval_mean, reference._eval_mean_spatial) and count is not None
            and 0 < count and count * 255 + 1 <= TABLE_MAX and node.inputs[0].size > 0)


# MEAN's tables, by key (see _lazy): up to 64 KiB each.
_TABLES_KEPT = 64
_tables: OrderedDict = OrderedDict()


@register("MEAN", dtypes=(np.int8, np.uint8), when=_applies)
def prepare_table(node, reference_fn):
    d = node.draft(OpData)
    info = np.iinfo(node.inputs[0].dtype)
    lo, hi = d.count * int(info.min), d.count * int(info.max)
    dtype = node.outputs[0].dtype
    # Filled at the first invoke (65536 sums through the reference's int64 passes: 0.5 ms a table),
    # shared by the nodes and interpreters whose arithmetic is the same (its key: what it reads).
    spatial = reference_fn is reference._eval_mean_spatial
    params = ((d.q_mult, d.q_shift, d.q_bias) if spatial else (d.q_mult, d.q_shift, d.q_x_zp, d.q_out_zp, d.count),
              d.q_range, lo, hi, dtype.str)

    def table(simd):
        def fill_into(array):
            sums = np.arange(lo, hi + 1, dtype=np.int64)
            data = node.data
            values = reference.spatial_mean_of_sums(data, sums, simd) if spatial else reference.mean_of_sums(data, sums)
            array[...] = values.astype(dtype)
        return LazyTable(("spatial" if spatial else "general", simd, params), dtype, fill_into, _tables, _TABLES_KEPT,
                         entries=hi - lo + 1)

    d.opt_tables = (table(True), table(False)) if spatial else (table(None),) * 2
    d.opt_offset = -lo
    return eval_table


class _Buffers:
    def __init__(self, node, x, out):
        d = node.data
        self.x, self.out = x, out
        idx = np.empty(d.kept_shape, np.intp)
        res = out.reshape(d.kept_shape)
        simd_table, tail_table = d.opt_tables
        split = None if d.q_simd is None or simd_table is tail_table else int(np.count_nonzero(d.q_simd))
        used = [simd_table] if split is None else [t for t, n in ((simd_table, split), (tail_table, idx.shape[-1] - split))
                                                   if n]
        self.calls = [t.fill for t in used if not t.filled]
        self.calls.append(partial(np.add.reduce, x, d.axes, np.intp, idx, True, initial=d.opt_offset))
        if split is None:
            self.calls.append(partial(np.take, simd_table.array, idx, out=res, mode="clip"))
            return
        # The spatial kernel: channels (last axis) in blocks of 16 take the SIMD table.
        if split:
            self.calls.append(partial(np.take, simd_table.array, idx[..., :split], out=res[..., :split], mode="clip"))
        if split < idx.shape[-1]:
            self.calls.append(partial(np.take, tail_table.array, idx[..., split:], out=res[..., split:], mode="clip"))


eval_table = cached_calls("opt_mean_bufs", _Buffers, "eval_table")


# --- float32 ---
#
# Optimized float MEAN over axes that leave the last one alone (an embedding
# average over the sequence axis, a spatial mean of an NHWC map): the sum as
# one einsum over the input viewed as [outer, reduced, inner], then the
# reference's divide.  numpy's add.reduce runs such a reduction as one inner
# loop of `inner` values per reduced element (256 loops for
# tfls_movie_review's [1, 256, 16] mean: 6.8 us against 3.9); einsum's
# sum-of-products loop adds the reduced rows into the output in the same
# order, channel by channel, so the values are the reference's bit for bit
# (and LiteRT's sequential sums', which matters where a dynamic-range op
# quantizes the mean: tk_style_transfer_quantized_dynamic's instance norms).
# With inner = 1 both run other (pairwise) loops: left to the reference.
# No BLAS: the same sums on every CPU.

# Below this many reduced elements add.reduce's own loops cost no more than einsum's setup.
MIN_REDUCED = 64


def _float_applies(node, ref) -> bool:
    if ref is not reference.eval_float:
        return False
    x = node.inputs[0]
    axes = sorted(node.data.axes)
    rank = len(x.shape)
    return (x.size > 0 and bool(axes) and axes[-1] < rank - 1 and axes == list(range(axes[0], axes[-1] + 1))
            and node.data.count >= MIN_REDUCED and int(np.prod(x.shape[axes[-1] + 1:])) > 1)


@register("MEAN", dtypes=(np.float32,), when=_float_applies)
def prepare_einsum(node, reference_fn):
    return eval_einsum


def _float_calls(node, inputs, outputs):
    x, out = inputs[0], outputs[0]
    if not (x.flags.c_contiguous and out.flags.c_contiguous):
        return None         # the views below would be copies
    axes = sorted(node.data.axes)
    shape = x.shape
    outer = int(np.prod(shape[:axes[0]], dtype=np.int64))
    inner = int(np.prod(shape[axes[-1] + 1:], dtype=np.int64))
    flat = out.reshape(outer, inner)
    return [partial(np.einsum, "orc->oc", x.reshape(outer, node.data.count, inner), out=flat),
            partial(np.divide, flat, np.float32(node.data.count), out=flat)]


eval_einsum = bound_kernel(_float_calls, reference.eval_float, "eval_einsum")


