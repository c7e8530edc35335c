"""Optimized PRELU (float32, constant finite alphas all in (0, 1] or all >= 1):
max(x, alpha*x) or min(x, alpha*x), two vectorized passes; exactly the
reference's values (alpha = 0 would turn +inf into NaN, so it is left out)."""
from __future__ import annotations

from typing import Callable

from functools import partial

import numpy as np

from .. import prelu as reference
from .._base import binds, op_data
from . import register


@op_data
class OpData(reference.OpData):
    """The reference PRELU's op data and what this optimized kernel adds."""

    pick: Callable = None
    alpha_full: np.ndarray = None


def _pick(alpha):
    """np.maximum where every alpha is in (0, 1], np.minimum where every one is >= 1, else None."""
    if alpha is None or not alpha.size or not np.all(np.isfinite(alpha)):
        return None
    if np.all((alpha > 0) & (alpha <= 1)):
        return np.maximum
    if np.all(alpha >= 1):
        return np.minimum
    return None


@register("PRELU", dtypes=(np.float32,),
          when=lambda node, ref: ref is reference.eval_float and _pick(node.inputs[1].data) is not None)
def prepare_fast(node, reference_fn):
    d = node.draft(OpData)
    d.pick = _pick(node.inputs[1].data)
    d.alpha_full = alpha_over(node, node.inputs[0].shape)
    return eval_float_fast


def on_pooled(node, shape):
    """This PRELU's node for running after a max pool, in place on its output
    of `shape` (interpreter.fusion.pool_before_prelu); `node` is left as prepared."""
    return node.derived(alpha_full=alpha_over(node, shape))


def alpha_over(node, shape):
    """Lay alpha out over one sample of `shape`, so the multiply runs along
    whole rows instead of broadcasting a short channel vector (and a slice
    of the batch takes it as it is)."""
    a = node.inputs[1].data
    if len(a.shape) == len(shape) and a.shape[0] == 1:
        a = a[0]
    per_sample = tuple(shape[1:]) if len(a.shape) < len(shape) else tuple(shape)
    return np.ascontiguousarray(np.broadcast_to(a, per_sample), np.float32)


def eval_float_fast(node, inputs, outputs):
    """Constant alpha all in (0, 1] (or all >= 1): two vectorized passes."""
    data = node.data
    x, out = inputs[0], outputs[0]
    dst = _scratch(node, x, out)
    np.multiply(x, data.alpha_full, out=dst)
    data.pick(x, dst, out=out)


def _scratch(node, x, out):
    """Where alpha*x goes: the output, or a buffer of its own when the output
    is the input (in place, as pool_before_prelu runs it)."""
    if np.may_share_memory(x, out):
        tmp = node.cache.get("tmp")
        if tmp is None or tmp.shape != x.shape:
            tmp = node.cache["tmp"] = np.empty_like(x)
        return tmp
    return out


@binds(eval_float_fast)
def _bind_fast(node, inputs, outputs):
    data = node.data
    x, out = inputs[0], outputs[0]
    dst = _scratch(node, x, out)
    return [partial(np.multiply, x, data.alpha_full, out=dst), partial(data.pick, x, dst, out=out)]


# --- any constant alpha ---

@register("PRELU", dtypes=(np.float32,),
          when=lambda node, ref: ref is reference.eval_float and node.inputs[1].data is not None)
def prepare_general(node, reference_fn):
    """Alphas of both signs (mp_palm_detection's): the reference's min(x, 0) * alpha + max(x, 0)
    as four bound calls, so the same values, without its temporary per invoke; on maps up to
    ARRAY_BOUND_MAX_BYTES over contiguous operands (alpha laid over a sample, zeros as an array
    bound, see _base.Clamp), whose SIMD loops beat a broadcast channel vector (24x24x128: 81 ->
    55 us); past it with the scalar and the broadcast, as the pass is then bound by memory."""
    from .._base import ARRAY_BOUND_MAX_BYTES

    d = node.draft(OpData)
    # Past that size a pass is bound by memory: the alphas' own broadcast reads less than alphas laid over a sample.
    x = node.inputs[0]
    small = int(np.prod(x.shape)) * 4 <= ARRAY_BOUND_MAX_BYTES
    d.alpha_full = alpha_over(node, x.shape) if small else np.asarray(node.inputs[1].data, np.float32)
    return eval_float_general


def _general_calls(node, inputs, outputs):
    from .._base import Clamp

    x, out = inputs[0], outputs[0]
    zero = Clamp._bound(reference.ZERO, x.shape)
    tmp = node.cache.get("prelu_positive")
    if tmp is None or tmp.shape != x.shape:
        tmp = node.cache["prelu_positive"] = np.empty(x.shape, np.float32)
    alpha = node.data.alpha_full
    return [partial(np.maximum, x, zero, out=tmp), partial(np.minimum, x, zero, out=out),
            partial(np.multiply, out, alpha, out=out), partial(np.add, out, tmp, out=out)]


def eval_float_general(node, inputs, outputs):
    for call in _general_calls(node, inputs, outputs):
        call()


eval_float_general.bind = _general_calls


# --- int8 and uint8, constant alpha ---

def _int_applies(node, reference_fn):
    a = node.inputs[1]
    return (reference_fn is reference._eval_prelu and a.data is not None and a.dtype == node.inputs[0].dtype
            and node.outputs[0].dtype == node.inputs[0].dtype)


@register("PRELU", dtypes=(np.int8, np.uint8), when=_int_applies)
def prepare_int_table(node, reference_fn):
    """The output is a function of the input byte and the alpha byte of its position
    (LiteRT's two requantizations, one per sign of the input, are constants of
    the node), so the reference's results for every input value under each
    distinct alpha value make a table of 256 rows per alpha, exact by
    construction; an invoke is then two passes: the index (the input byte plus
    its position's row offset, laid over one sample) and the lookup."""
    d = node.draft(OpData)
    x = node.inputs[0]
    distinct, d.alpha_full = _alpha_rows(node, x.shape)
    values = np.arange(256, dtype=np.uint8).view(x.dtype)
    table = np.empty(len(distinct) * 256, x.dtype)
    reference_fn(node, [np.tile(values, len(distinct)), np.repeat(distinct.view(x.dtype), 256)], [table])
    d.pick = table
    return eval_int_table


def _alpha_rows(node, shape):
    """(the distinct alpha bytes, each position's table row offset laid over one sample of `shape`)."""
    a = node.inputs[1].data
    alpha = np.broadcast_to(a, tuple(shape[1:]) if a.ndim < len(shape) else tuple(shape))
    if alpha.shape and alpha.shape[0] == 1 and alpha.ndim == len(shape):
        alpha = alpha[0]
    distinct, which = np.unique(alpha.view(np.uint8), return_inverse=True)
    return distinct, which.reshape(alpha.shape).astype(np.intp) * 256


def int_table_nondecreasing(node) -> bool:
    """Whether every row of this int8/uint8 table kernel's table is nondecreasing in the input
    value (then it commutes with a max: interpreter.fusion's pool_before_prelu_int)."""
    table = node.data.pick
    rows = table.reshape(-1, 256).astype(np.int64)
    if table.dtype == np.int8:           # bytes 128..255 hold -128..-1: value order
        rows = np.concatenate([rows[:, 128:], rows[:, :128]], axis=1)
    return bool(np.all(np.diff(rows, axis=1) >= 0))


def on_pooled_int(node, shape):
    """This int8/uint8 PRELU's node for running after a max pool, in place on its output of
    `shape` (its alpha constant over height and width); `node` is left as prepared."""
    return node.derived(alpha_full=_alpha_rows(node, shape)[1])


def _int_calls(node, inputs, outputs):
    x, out = inputs[0], outputs[0]
    idx = node.cache.get("prelu_index")
    if idx is None or idx.shape != x.shape:
        idx = node.cache["prelu_index"] = np.empty(x.shape, np.intp)
    return [partial(np.add, x.view(np.uint8), node.data.alpha_full, out=idx),
            partial(np.take, node.data.pick, idx, out=out, mode="clip")]


def eval_int_table(node, inputs, outputs):
    for call in _int_calls(node, inputs, outputs):
        call()


eval_int_table.bind = _int_calls
