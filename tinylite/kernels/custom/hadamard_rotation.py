"""aeq.hadamard_rotation (LiteRT's bundled custom op, which the AI Edge
Quantizer inserts to rotate activations before a quantized layer): a fast
Walsh-Hadamard transform of consecutive blocks of hadamard_size values,
normalized by 1 / sqrt(hadamard_size).

Input: float32 (or int32, whose bytes LiteRT transforms as float32's: kept
here), [features, size] or [batch, features, size] (other ranks: LiteRT reads
the first two dimensions as features and size).  Output: the input's shape and
type (LiteRT does not resize it: the file's shape must be the input's).
Options (FlexBuffer map): hadamard_size; random_binary_vector, which LiteRT's
kernel reads and does not apply (nor does this one).

As LiteRT: the output starts as a copy of the input; the first batch * features
* (size // hadamard_size) blocks of hadamard_size consecutive values (in the
flat buffer) are transformed, butterflies (a + b, a - b) in float32 over
strides 1, 2, 4, ... (LiteRT's unrolled and plain loops do the same additions),
then each value times float32(1 / sqrt(hadamard_size)).  A hadamard_size that
is not a power of two leaves the blocks as they are (LiteRT prints an error and
skips them).
"""
from __future__ import annotations

import math

import numpy as np

from ._options import as_int, expect_io, flexbuffer_map
from .._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What this custom op's prepare computes for eval."""

    size: int = None          # hadamard_size
    blocks: int = None        # blocks transformed (0: a copy)
    norm: np.float32 = None


def prepare(node):
    d = node.draft(OpData)
    opts = flexbuffer_map(node)
    expect_io(node, "1 input")
    x, out = node.inputs[0], node.outputs[0]
    node.expect_dtype(x, np.float32, np.int32)
    size = as_int(node, opts, "hadamard_size")
    if not -(1 << 31) <= size < 1 << 31:
        node.fail(f"hadamard_size {size} does not fit in the int32 LiteRT reads it as")
    if size == 0:
        node.fail("hadamard_size is 0 (or missing); LiteRT divides by it. Give the block size, a power of two")
    if len(x.shape) < 2:
        node.fail(f"expects an input of shape [features, size] or [batch, features, size], got {list(x.shape)}")
    if out.dtype != x.dtype or (out.shape is not None and tuple(out.shape) != tuple(x.shape)):
        node.fail(f"the output is {out.dtype.name} {list(out.shape or [])} in the file; LiteRT copies the "
                  f"input's bytes into it unresized, so it must be the input's {x.dtype.name} {list(x.shape)}")
    if len(x.shape) == 3:
        batch, features, width = x.shape
    else:
        batch, (features, width) = 1, x.shape[:2]
    power_of_two = size > 0 and size & (size - 1) == 0
    d.size = size
    d.blocks = batch * features * (width // size) if power_of_two else 0
    d.norm = np.float32(1.0 / math.sqrt(size)) if size > 0 else np.float32(1)
    out.shape = tuple(x.shape)
    return eval_hadamard_rotation


def eval_hadamard_rotation(node, inputs, outputs):
    d = node.data
    x, out = inputs[0], outputs[0]
    np.copyto(out, x)
    if not d.blocks:
        return
    n = d.size
    data = out.reshape(-1).view(np.float32)[:d.blocks * n].reshape(d.blocks, n)
    h = 1
    while h < n:
        v = data.reshape(d.blocks, n // (2 * h), 2, h)
        a = v[:, :, 0].copy()
        b = v[:, :, 1]
        np.add(a, b, out=v[:, :, 0])
        np.subtract(a, b, out=b)
        h *= 2
    np.multiply(data, d.norm, out=data)
