"""SVDF: a fully connected layer factored in time (rank-`rank` singular value
decomposition filter).  Each invoke pushes W_feature @ x into the newest
column of every filter's memory (the variable state, input 4), then sums the
memory against W_time per filter, the filters of each unit, adds the bias and
applies the fused activation.

Float, hybrid (int8 weights, float input) and integer (int8 input and output,
int16 state and time weights, int32 bias), as TFLite's svdf kernels.
"""
from __future__ import annotations

import numpy as np

from . import _fixedpoint as fx
from ._recurrent import apply_activation
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What SVDF's prepare computes for eval."""

    dims: tuple = None
    bias: np.ndarray | None = None
    wf_q: np.ndarray = None
    wf_scale: np.float32 = None
    wf_row_sums: np.ndarray = None
    asym: bool = None
    x_zp: int = None
    out_zp: int = None
    m1: tuple = None
    m2: tuple = None
    wf_i: np.ndarray = None
    wt_i: np.ndarray = None
    bias_i: np.ndarray | None = None
    activation: int = None
    wt: np.ndarray = None
    wf_t: np.ndarray = None


FOLDABLE = False


def prepare(node):
    d = node.draft(OpData)
    x, wf, wt = node.inputs[0], node.inputs[1], node.inputs[2]
    bias = node.inputs[3] if node.has_input(3) else None
    state = node.inputs[4]
    rank = int(node.options.get("rank", 0))
    if len(x.shape) != 2 or len(wf.shape) != 2 or len(wt.shape) != 2:
        node.fail(f"input, weights_feature and weights_time must be 2-D, got {list(x.shape)}, {list(wf.shape)}, "
                  f"{list(wt.shape)}")
    n_batch, n_input = x.shape
    n_filter, memory = wf.shape[0], wt.shape[1]
    if wf.shape[1] != n_input or wt.shape[0] != n_filter:
        node.fail(f"weights_feature {list(wf.shape)} / weights_time {list(wt.shape)} do not fit input "
                  f"{list(x.shape)}")
    if rank <= 0 or n_filter % rank:
        node.fail(f"rank {rank} must divide the number of filters ({n_filter})")
    n_unit = n_filter // rank
    if bias is not None and bias.size != n_unit:
        node.fail(f"bias has {bias.size} elements, expected {n_unit}")
    if not state.is_variable:
        node.fail(f"the state {state.name!r} must be a variable tensor (is_variable), as TFLite requires")
    if state.size != n_batch * n_filter * memory:
        node.fail(f"the state {state.name!r} has shape {list(state.shape)}, expected [{n_batch}, "
                  f"{n_filter * memory}]; LiteRT does not resize variable tensors either")
    for s in (wf, wt) + (() if bias is None else (bias,)):
        if s.data is None:
            node.fail(f"weight tensor {s.name!r} must be a constant")
    d.dims = (n_batch, n_filter, memory, rank, n_unit)
    node.outputs[0].shape = (n_batch, n_unit)
    d.bias = None
    if x.dtype == np.float32:
        node.expect_dtype(state, np.float32)
        d.activation = node.options.get("fused_activation_function", 0)
        if bias is not None:
            d.bias = np.asarray(bias.data, np.float32)
        if wf.dtype == np.float32:
            d.wf_t = np.ascontiguousarray(np.asarray(wf.data, np.float32).T)
            d.wt = np.asarray(wt.data, np.float32)
            return eval_float
        return _prepare_hybrid(node, wf, wt)
    return _prepare_integer(node, x, wf, wt, bias, state)


def _push(node, state, column):
    """Shift every filter's memory one step left and store the newest column."""
    n_batch, n_filter, memory, _, _ = node.data.dims
    s = state.reshape(n_batch, n_filter, memory)
    s[:, :, :-1] = s[:, :, 1:].copy()
    s[:, :, -1] = column
    return s


def _time_and_reduce(node, s, wt):
    n_batch, n_filter, memory, rank, n_unit = node.data.dims
    per_filter = np.einsum("bfm,fm->bf", s, wt)
    return per_filter.reshape(n_batch, n_unit, rank).sum(axis=2)


def _finish_float(node, out, acc):
    if node.data.bias is not None:
        acc = acc + node.data.bias
    act = apply_activation(node.data.activation, acc)
    out[...] = acc if act is None else act


def eval_float(node, inputs, outputs):
    data = node.data
    s = _push(node, inputs[4], node.matmul()(inputs[0], data.wf_t))
    _finish_float(node, outputs[0], _time_and_reduce(node, s, data.wt))


def _prepare_hybrid(node, wf, wt):
    d = node.draft(OpData)
    from ._quantization import _is_quantized, _unsupported

    if wf.dtype != np.int8 or not _is_quantized(wf):
        _unsupported(node, "hybrid SVDF needs int8 feature weights with a scale")
    d.wf_q = wf.data.astype(np.float64).T
    d.wf_scale = np.float32(wf.quantization.scale[0])
    d.wf_row_sums = wf.data.astype(np.int64).sum(axis=1)
    d.asym = bool(node.options.get("asymmetric_quantize_inputs"))
    if wt.dtype == np.float32:
        d.wt = np.asarray(wt.data, np.float32)
    elif wt.dtype == np.int8 and _is_quantized(wt):
        # TFLite dequantizes the time weights once, in float32.
        d.wt = (wt.data.astype(np.float32) * np.float32(wt.quantization.scale[0])).astype(np.float32)
    else:
        _unsupported(node, f"hybrid SVDF with {wt.dtype.name} time weights")
    return eval_hybrid


def eval_hybrid(node, inputs, outputs):
    data = node.data
    from ._quantization import _asymmetric_quantize_rows, _symmetric_quantize_rows

    x = inputs[0]
    column = np.zeros((x.shape[0], data.dims[1]), np.float32)
    if x.any():
        q, sf, zp = (_asymmetric_quantize_rows if data.asym else _symmetric_quantize_rows)(x)
        acc = np.rint(q.astype(np.float64) @ data.wf_q).astype(np.int64)
        if data.asym:
            acc -= data.wf_row_sums[None, :] * zp[:, None]
        column = acc.astype(np.float32) * (sf * data.wf_scale).astype(np.float32)[:, None]
    s = _push(node, inputs[4], column)
    _finish_float(node, outputs[0], _time_and_reduce(node, s, data.wt))


def _prepare_integer(node, x, wf, wt, bias, state):
    d = node.draft(OpData)
    from ._quantization import _require, _unsupported

    out = node.outputs[0]
    if x.dtype != np.int8 or wf.dtype != np.int8 or wt.dtype != np.int16 or state.dtype != np.int16 \
            or out.dtype != np.int8 or (bias is not None and bias.dtype != np.int32):
        _unsupported(node, "integer SVDF runs int8 input/output and feature weights, int16 time weights and "
                           "state, int32 bias")
    _require(node, x, wf, wt, state, out)
    if node.options.get("fused_activation_function", 0) != 1:
        # LiteRT's integer kernel accepts only RELU, and then clamps to the int8 range alone.
        node.fail("the integer SVDF kernel needs fused_activation_function RELU (and clamps only to the int8 "
                  "range, as LiteRT does)")
    d.x_zp, d.out_zp = x.zero_point, out.zero_point
    # TFLite forms the effective scales in float32 and only then widens them to double.
    f = np.float32
    d.m1 = fx.quantize_multiplier(float(f(x.scale) * f(wf.scale) / f(state.scale)))
    d.m2 = fx.quantize_multiplier(float(f(state.scale) * f(wt.scale) / f(out.scale)))
    d.wf_i = wf.data.astype(np.int64).T
    d.wt_i = wt.data.astype(np.int64)
    d.bias_i = None if bias is None else bias.data.astype(np.int64)
    return eval_integer


def eval_integer(node, inputs, outputs):
    data = node.data
    x = inputs[0].astype(np.int64) - data.x_zp
    col = fx.multiply_by_quantized_multiplier(x @ data.wf_i, *data.m1)
    col = np.clip(col, -32768, 32767)
    s = _push(node, inputs[4], col)
    acc = _time_and_reduce(node, s.astype(np.int64), data.wt_i)
    if data.bias_i is not None:
        acc = acc + data.bias_i
    res = fx.multiply_by_quantized_multiplier(acc, *data.m2) + data.out_zp
    outputs[0][...] = np.clip(res, -128, 127)
