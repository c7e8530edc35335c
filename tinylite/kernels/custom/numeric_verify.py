"""NumericVerify (LiteRT's bundled custom op, which TensorFlow's converter
inserts with ``converter._experimental_debug_mode`` / numeric verification):
checks a quantized tensor against its float counterpart.

Inputs: the quantized tensor (uint8, int8, int16 or float16) and the float32
reference of the same number of elements.  Output: float32, the input's shape:
dequantize(input) - reference, in float32.  The dequantization is DEQUANTIZE's
for the resolver in use (the reference kernel's under BUILTIN_REF, the optimized
one's otherwise, as LiteRT registers NUMERIC_VERIFY_REF and _OPT).

Options (FlexBuffer map): tolerance (float), log_if_failed (bool).  With
log_if_failed and a tolerance of at least 0.1, the invoke fails where some
|difference| exceeds tolerance * scale (float32), naming the first such
element, as LiteRT's does; otherwise the difference's mean, standard deviation
and largest magnitude are logged (logger ``tinylite``, level INFO; LiteRT's
Python interpreter shows its log only with an error).
"""
from __future__ import annotations

import logging

import numpy as np

from ._options import as_bool, as_float, expect_io, flexbuffer_map
from .. import dequantize
from .._base import op_data

log = logging.getLogger("tinylite")


@op_data
class OpData(dequantize.OpData):
    """DEQUANTIZE's op data, and what the check needs."""

    dequantize: object = None        # DEQUANTIZE's eval for this input
    tolerance: np.float32 = None
    fail_above: np.float32 | None = None     # tolerance * scale where the invoke fails, else None
    q_scale: float = None            # the input's (first) scale and zero point, for the messages
    q_zero_point: int = None


def prepare(node):
    d = node.draft(OpData)
    opts = flexbuffer_map(node)
    expect_io(node, "2 inputs (quantized, reference)")
    x, ref = node.inputs
    node.expect_dtype(x, np.uint8, np.int8, np.int16, np.float16)
    node.expect_dtype(ref, np.float32)
    node.expect_dtype(node.outputs[0], np.float32)
    size = int(np.prod(x.shape, dtype=np.int64))
    if int(np.prod(ref.shape, dtype=np.int64)) != size:
        node.fail(f"the reference has shape {list(ref.shape)}, expected {size} values as the quantized "
                  f"input's shape {list(x.shape)} holds")
    d.dequantize = dequantize.prepare(node)      # sets the output's shape (the input's)
    q = x.quantization
    scale = float(q.scale[0]) if q is not None and q.scale is not None and len(q.scale) else 0.0
    d.q_scale = scale
    d.q_zero_point = int(q.zero_point[0]) if q is not None and q.zero_point is not None and len(q.zero_point) else 0
    d.tolerance = np.float32(as_float(node, opts, "tolerance"))
    if as_bool(node, opts, "log_if_failed") and d.tolerance >= np.float32(0.1):
        d.fail_above = d.tolerance * np.float32(scale)
    return eval_numeric_verify


def eval_numeric_verify(node, inputs, outputs):
    d = node.data
    x, ref = inputs
    out = outputs[0]
    d.dequantize(node, [x], [out])
    dequantized = out.copy() if d.fail_above is not None else None
    np.subtract(out, ref.reshape(out.shape), out=out)
    if d.fail_above is not None:
        bad = np.flatnonzero(np.abs(out.reshape(-1)) > d.fail_above)
        if len(bad):
            i = int(bad[0])
            value = 0 if x.dtype == np.float16 else int(x.reshape(-1)[i])
            reference = float(ref.reshape(-1)[i])
            diff = float(abs(out.reshape(-1)[i]))
            raise ValueError(
                f"NumericVerify (node {node.index}): Mismatch: {reference:f} is quantized to {value} with "
                f"({d.q_scale:f}, {d.q_zero_point}). abs({reference:f} - {float(dequantized.reshape(-1)[i]):f}) = "
                f"{diff:f} > {float(d.fail_above):f} (tolerance) range percentage {float(d.tolerance):f}.")
        return
    if log.isEnabledFor(logging.INFO):
        diffs = out.reshape(-1).astype(np.float64)
        mean = float(np.mean(diffs)) if len(diffs) else float("nan")
        std = float(np.sqrt(np.mean((diffs - mean) ** 2))) if len(diffs) else float("nan")
        biggest = float(np.max(np.abs(diffs))) if len(diffs) else 0.0
        log.info("NumericVerify (node %d): std: %f, mean: %f, max_diff: %f (scale: %f, zero_point: %d).",
                 node.index, std, mean, biggest, d.q_scale, d.q_zero_point)
