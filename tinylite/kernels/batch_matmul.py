"""BATCH_MATMUL: x @ y over broadcast batch dimensions (ranks 2 to 5);
`adj_x`/`adj_y` transpose the last two dimensions of x/y first."""
from __future__ import annotations

import numpy as np

from . import _fixedpoint as fx
from ._base import broadcast_shape, op_data, OpDataBase
from ._quantization import (_asymmetric_quantize_rows, _f32, _is_quantized, _require, _scales,
                            _symmetric_quantize_rows, _unsupported)


@op_data
class OpData(OpDataBase):
    """What BATCH_MATMUL's prepare computes for eval."""

    adj: tuple = None
    q_mult: int = None
    q_shift: int = None
    q_zps: tuple = None
    q_mode: str = None
    q_range: tuple = None
    q_yscale: np.ndarray = None
    q_asym: bool = None
    rhs: np.ndarray = None


def prepare(node):
    d = node.draft(OpData)
    x, y = node.inputs[0], node.inputs[1]
    if not (2 <= len(x.shape) <= 5 and 2 <= len(y.shape) <= 5):
        node.fail(f"inputs must have rank 2 to 5, got shapes {list(x.shape)} and {list(y.shape)}")
    adj_x, adj_y = bool(node.options.get("adj_x")), bool(node.options.get("adj_y"))
    rows, depth_x = (x.shape[-1], x.shape[-2]) if adj_x else (x.shape[-2], x.shape[-1])
    depth_y, cols = (y.shape[-1], y.shape[-2]) if adj_y else (y.shape[-2], y.shape[-1])
    if depth_x != depth_y:
        node.fail(f"inner dimensions differ: {depth_x} and {depth_y} "
                  f"(shapes {list(x.shape)}, {list(y.shape)}, adj_x={adj_x}, adj_y={adj_y})")
    node.outputs[0].shape = broadcast_shape(x.shape[:-2], y.shape[:-2], node) + (rows, cols)
    d.adj = (adj_x, adj_y)
    if x.dtype == np.float32 and y.dtype == np.float32:
        if y.data is not None:
            d.rhs = np.ascontiguousarray(np.swapaxes(y.data, -1, -2)) if adj_y else y.data
        return eval_float
    return prepare_quantized(node)


def eval_float(node, inputs, outputs):
    x, y = inputs[0], inputs[1]
    adj_x, adj_y = node.data.adj
    lhs = np.swapaxes(x, -1, -2) if adj_x else x
    rhs = node.data.rhs
    if rhs is None:
        rhs = np.swapaxes(y, -1, -2) if adj_y else y
    node.matmul()(lhs, rhs, out=outputs[0])


# --- quantized ---

def prepare_quantized(node):
    d = node.draft(OpData)
    x, y, out = node.inputs[0], node.inputs[1], node.outputs[0]
    adj_x, adj_y = d.adj
    if x.dtype == np.float32:
        if y.dtype != np.int8 or not _is_quantized(y):
            _unsupported(node, "hybrid BATCH_MATMUL needs an int8 right-hand side with a scale")
        ys = _scales(y)
        cols = y.shape[-2] if adj_y else y.shape[-1]
        if len(ys) > 1 and len(ys) != cols:
            _unsupported(node, f"{len(ys)} scales for {cols} output columns")
        d.q_yscale = ys
        d.q_asym = bool(node.options.get("asymmetric_quantize_inputs"))
        return _eval_hybrid_bmm
    _require(node, x, y)
    if out.dtype == np.int32 and x.dtype == y.dtype == np.int8:
        d.q_mode = "int32"
        return _eval_bmm
    _require(node, out)
    if x.dtype == np.int8 and (y.dtype != np.int8 or out.dtype != np.int8):
        _unsupported(node, f"int8 x {y.dtype.name} -> {out.dtype.name}")
    if x.dtype == np.int16 and (y.dtype not in (np.int8, np.int16) or out.dtype != np.int16):
        _unsupported(node, f"int16 x {y.dtype.name} -> {out.dtype.name}")
    if x.dtype == np.uint8:
        _unsupported(node, "uint8 inputs")
    if x.dtype == np.int16 and (x.zero_point or y.zero_point or out.zero_point):
        node.fail("int16 inputs and output need zero points of 0")
    if len(_scales(y)) > 1 and np.any(_scales(y) != _scales(y)[0]):
        _unsupported(node, "per-channel scales")
    # GetQuantizedConvolutionMultipler: the scale product in float32.
    real = float(_f32(x.scale) * _f32(y.scale)) / float(out.scale)
    d.q_mult, d.q_shift = fx.quantize_multiplier(real)
    d.q_zps = (x.zero_point, y.zero_point, out.zero_point)
    d.q_mode = "mbqm64" if x.dtype == np.int16 else "gemmlowp"
    info = np.iinfo(out.dtype)
    d.q_range = (int(info.min), int(info.max))
    return _eval_bmm


def _operands(node, x, y):
    adj_x, adj_y = node.data.adj
    return (np.swapaxes(x, -1, -2) if adj_x else x), (np.swapaxes(y, -1, -2) if adj_y else y)


def _eval_bmm(node, inputs, outputs):
    data = node.data
    lhs, rhs = _operands(node, inputs[0], inputs[1])
    out = outputs[0]
    if data.q_mode == "int32":
        # TFLite's int8 x int8 -> int32 kernel ignores the zero points.
        out[...] = fx.wrap32(np.rint(np.matmul(lhs.astype(np.float64), rhs.astype(np.float64))).astype(np.int64))
        return
    zx, zy, zo = data.q_zps
    acc = np.rint(np.matmul(lhs.astype(np.float64) - zx, rhs.astype(np.float64) - zy)).astype(np.int64)
    if data.q_mode == "mbqm64":
        res = fx.multiply_by_quantized_multiplier_64(acc, data.q_mult, data.q_shift)
    else:
        res = fx.multiply_by_quantized_multiplier(fx.wrap32(acc), data.q_mult, data.q_shift)
    out[...] = np.clip(res + zo, *data.q_range)


def _eval_hybrid_bmm(node, inputs, outputs):
    data = node.data
    lhs, rhs = _operands(node, inputs[0], inputs[1])
    out = outputs[0]
    depth = lhs.shape[-1]
    rows = lhs.reshape(-1, depth)
    q, sf, off = (_asymmetric_quantize_rows if data.q_asym else _symmetric_quantize_rows)(rows)
    if len(data.q_yscale) == 1:
        sf = (sf * data.q_yscale[0]).astype(np.float32)
    q = q.reshape(lhs.shape)
    w = rhs.astype(np.float64)
    acc = np.rint(np.matmul(q.astype(np.float64), w)).astype(np.int64)
    if data.q_asym:
        acc = acc - w.sum(axis=-2, keepdims=True).astype(np.int64) * off.reshape(lhs.shape[:-1] + (1,))
    scale = sf.reshape(lhs.shape[:-1] + (1,))
    if len(data.q_yscale) > 1:
        scale = (scale * data.q_yscale).astype(np.float32)
    out[...] = acc.astype(np.float32) * scale
