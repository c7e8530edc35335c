"""Comparison ops (EQUAL, LESS, ...): broadcasting, a bool output.

Quantized int8/uint8 inputs are compared as TFLite does: each side is
re-centred on its zero point, shifted left by 8 bits and scaled by its own
fixed-point multiplier, so inputs with different scales compare on one grid
(equal values stay equal exactly as in TFLite's integer arithmetic).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from . import _fixedpoint as fx, _layout
from ._base import broadcast_shape, op_data, OpDataBase


@op_data
class CompareData(OpDataBase):
    """The fields this module's helpers fill on behalf of an op (whose OpData subclasses this)."""

    ufunc: Callable = None
    rescale: list = None

_TYPES = (np.float32, np.float16, np.int8, np.uint8, np.int16, np.int32, np.int64, np.bool_)
_LEFT_SHIFT = 8


def prepare_compare(node, ufunc, strings=False):
    """`strings`: the op compares STRING tensors too (LiteRT's EQUAL and NOT_EQUAL do)."""
    d = node.draft(CompareData)
    x, y = node.inputs[0], node.inputs[1]
    if x.dtype != y.dtype:
        node.fail(f"input types differ: {x.dtype.name} and {y.dtype.name}")
    node.expect_dtype(x, *_TYPES, *((np.object_,) if strings else ()))
    _layout.check_strings(node, [x, y])
    node.expect_dtype(node.outputs[0], np.bool_)
    node.outputs[0].shape = broadcast_shape(x.shape, y.shape, node)
    d.ufunc = ufunc
    quantized = x.dtype in (np.int8, np.uint8) and x.quantization is not None and x.quantization.is_quantized
    if quantized and (x.scale, x.zero_point) != (y.scale, y.zero_point):
        d.rescale = [(x.zero_point, *fx.quantize_multiplier(x.scale)),
                        (y.zero_point, *fx.quantize_multiplier(y.scale))]
        return eval_rescaled
    # Equal quantization (or none): the raw values order like the real ones.
    return eval_raw


def eval_raw(node, inputs, outputs):
    node.data.ufunc(inputs[0], inputs[1], out=outputs[0])


def eval_rescaled(node, inputs, outputs):
    data = node.data
    scaled = []
    for value, (zero_point, mult, shift) in zip(inputs, data.rescale):
        shifted = (value.astype(np.int64) - zero_point) << _LEFT_SHIFT
        scaled.append(fx.multiply_by_quantized_multiplier(shifted, mult, shift))
    data.ufunc(scaled[0], scaled[1], out=outputs[0])
