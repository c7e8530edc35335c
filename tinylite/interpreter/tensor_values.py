"""Real values <-> the stored values of a tensor, from its `get_*_details()` dict.

The rule of TFLite's converter and of LiteRT users: a quantized input gets
``clip(round(x / scale + zero_point))``; a quantized output means
``(q - zero_point) * scale``.  Integer tensors without a scale (token ids,
indices) hold their values as they are.

>>> import numpy as np
>>> d = {"dtype": np.int8, "quantization": (0.5, -3)}
>>> quantize(np.array([1.0, 100.0]), d)
array([ -1, 127], dtype=int8)
>>> dequantize(np.array([-1], np.int8), d)
array([1.])
"""
from __future__ import annotations

import numpy as np


def quantize(x, detail) -> np.ndarray:
    """Real values `x` as the tensor of `detail` stores them."""
    dtype = np.dtype(detail["dtype"])
    scale, zero_point = detail["quantization"]
    if dtype.kind not in "iu" or not scale:
        return np.asarray(x).astype(dtype)
    info = np.iinfo(dtype)
    return np.clip(np.round(np.asarray(x) / scale + zero_point), info.min, info.max).astype(dtype)


def dequantize(values, detail) -> np.ndarray:
    """Stored values of the tensor of `detail` as real values (float64 when quantized)."""
    values = np.asarray(values)
    scale, zero_point = detail["quantization"]
    if values.dtype.kind not in "iu" or not scale:
        return values
    return (values.astype(np.float64) - zero_point) * scale
