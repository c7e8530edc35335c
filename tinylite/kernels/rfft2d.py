"""RFFT2D: the 2-D real FFT over the last two dimensions of a float32 input,
with fft_length (int32 [2], powers of two) cropping or zero-padding them;
output complex64 [..., fft_length[0], fft_length[1] / 2 + 1]."""
from __future__ import annotations

import numpy as np
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What RFFT2D's prepare computes for eval."""

    fft_length: list = None


def prepare(node):
    d = node.draft(OpData)
    x, length = node.inputs[0], node.inputs[1]
    node.expect_dtype(x, np.float32)
    node.expect_dtype(length, np.int32)
    node.expect_dtype(node.outputs[0], np.complex64)
    if len(x.shape) < 2:
        node.fail(f"expects at least 2 dimensions, got shape {list(x.shape)}")
    fl = [int(v) for v in np.asarray(node.value(1)).reshape(-1)]
    if len(fl) != 2 or any(v <= 0 or v & (v - 1) for v in fl):
        node.fail(f"fft_length must be two powers of two, got {fl}")
    d.fft_length = fl
    node.outputs[0].shape = tuple(x.shape[:-2]) + (fl[0], fl[1] // 2 + 1)
    return eval_rfft2d


def eval_rfft2d(node, inputs, outputs):
    outputs[0][...] = np.fft.rfft2(inputs[0].astype(np.float64), s=node.data.fft_length, axes=(-2, -1))
