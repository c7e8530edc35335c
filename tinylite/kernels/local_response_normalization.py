"""LOCAL_RESPONSE_NORMALIZATION: x / (bias + alpha * sum of x^2 over the
channels within `radius`)^beta, along the last dimension of a 4-D float32
input (alpha is not divided by the window size, as in TensorFlow).  Under
BUILTIN_REF the window follows LiteRT's reference kernel (see eval_lrn)."""
from __future__ import annotations

import numpy as np
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What LOCAL_RESPONSE_NORMALIZATION's prepare computes for eval."""

    radius: int = None
    bias: np.float32 = None
    alpha: np.float32 = None
    beta: np.float32 = None


def prepare(node):
    od = node.draft(OpData)
    x = node.inputs[0]
    node.expect_dtype(x, np.float32)
    if len(x.shape) != 4:
        node.fail(f"expects a 4-D input, got shape {list(x.shape)}")
    o = node.options
    od.radius = int(o.get("radius", 5))
    od.bias, od.alpha, od.beta = (np.float32(o.get(k, d)) for k, d in
                                        (("bias", 1.0), ("alpha", 1.0), ("beta", 0.5)))
    node.outputs[0].shape = tuple(x.shape)
    return eval_lrn


def eval_lrn(node, inputs, outputs):
    data = node.data
    x = inputs[0]
    c = x.shape[-1]
    sq = x * x
    # Window sums along channels from a cumulative sum with a zero in front.
    csum = np.concatenate([np.zeros(x.shape[:-1] + (1,), np.float64), np.cumsum(sq, axis=-1, dtype=np.float64)], -1)
    lo = np.maximum(np.arange(c) - data.radius, 0)
    if node.reference:
        # LiteRT's reference kernel (BUILTIN_REF) ends the window before c + radius: it sums
        # channels c - radius .. c + radius - 1, so radius 0 sums nothing.  Its optimized
        # kernel, the default, includes c + radius as TensorFlow does.
        hi = np.minimum(np.arange(c) + data.radius, c)
    else:
        hi = np.minimum(np.arange(c) + data.radius, c - 1) + 1
    acc = (csum[..., hi] - csum[..., lo]).astype(np.float32)
    outputs[0][...] = x * np.power(data.bias + data.alpha * acc, -data.beta)
