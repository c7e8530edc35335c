"""MULTINOMIAL(logits float32 [batch, classes], num_samples int32 scalar):
num_samples class indices per row (int32 or int64), drawn as TensorFlow's
CPU kernel draws them: a double CDF of exp(logit - max) over the finite
logits, one double from two Philox words per sample (the words of a copy of
the stream, which itself skips ahead per invoke), located by upper_bound.
The stream is seeded by (seed, seed2) at prepare and goes on across invokes."""
from __future__ import annotations

import bisect
import math

import numpy as np

from ._random import PhiloxStream, stream, uint64_to_double
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What prepare computes for eval."""

    stream: PhiloxStream = None

FOLDABLE = False


def prepare(node):
    d = node.draft(OpData)
    logits, count = node.inputs[0], node.inputs[1]
    node.expect_dtype(logits, np.float32)
    node.expect_dtype(count, np.int32)
    node.expect_dtype(node.outputs[0], np.int32, np.int64)
    if len(logits.shape) != 2 or logits.shape[1] < 1:
        node.fail(f"logits must be [batch, classes] with at least one class, got {list(logits.shape)}")
    if len(count.shape) != 0:
        node.fail(f"num_samples must be a scalar, got shape {list(count.shape)}")
    d.stream = stream(node)
    n = int(np.asarray(node.value(1)))
    if n < 0:
        node.fail(f"num_samples must not be negative, got {n}")
    node.outputs[0].shape = (logits.shape[0], n)
    return eval_multinomial


def eval_multinomial(node, inputs, outputs):
    data = node.data
    logits, out = inputs[0], outputs[0]
    batch, n = out.shape
    draws = data.stream.copy()
    data.stream.skip(batch * ((n + 3) // 4 * 4) * 2 * 256)
    words = draws.words(-(-batch * n * 2 // 4)).reshape(-1)
    uniform = uint64_to_double(words[0::2][:batch * n], words[1::2][:batch * n])
    for b in range(batch):
        row = [float(v) for v in logits[b]]
        finite = [v for v in row if math.isfinite(v)]
        top = float(np.float32(max(finite))) if finite else float(np.finfo(np.float32).min)
        cdf, total = [], 0.0
        for v in row:
            if math.isfinite(v):
                total += math.exp(v - top)
            cdf.append(total)
        for j in range(n):
            out[b, j] = bisect.bisect_right(cdf, float(uniform[b * n + j]) * total)
