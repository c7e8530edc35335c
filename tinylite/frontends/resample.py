"""Image resampling as linear maps, for the resizes TFLite has no builtin for.

A resize of a static size is separable: each output row (column) is a fixed weighted sum of
input rows (columns).  These functions give that weight matrix, [output size, input size]
in float64, for TensorFlow's ScaleAndTranslate (tf.image.resize with antialias, or with a
Lanczos, Gaussian or Mitchell kernel; also what Keras's numpy and JAX backends compute for
every interpolation but nearest) and for TensorFlow's ResizeBicubic.  The frontends apply
the two matrices with FULLY_CONNECTED ops (keras/ops.separable_resize).
"""
from __future__ import annotations

import numpy as np


def _lanczos(radius):
    def kernel(x):
        with np.errstate(divide="ignore", invalid="ignore"):
            y = radius * np.sin(np.pi * x) * np.sin(np.pi * x / radius) / (np.pi * np.pi * x * x)
        return np.where(x > radius, 0.0, np.where(x <= 1e-3, 1.0, y))
    return kernel, float(radius)


def _keys_cubic(x):
    near = ((1.5 * x - 2.5) * x) * x + 1.0
    far = ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
    return np.where(x >= 2.0, 0.0, np.where(x >= 1.0, far, near))


def _mitchell_cubic(x):
    near = (((7.0 / 6.0) * x - 2.0) * x) * x + 8.0 / 9.0
    far = (((-7.0 / 18.0) * x + 2.0) * x - 10.0 / 3.0) * x + 16.0 / 9.0
    return np.where(x >= 2.0, 0.0, np.where(x >= 1.0, far, near))


def _gaussian(x):
    sigma = 1.5 / 3.0
    return np.where(x >= 1.5, 0.0, np.exp(-x * x / (2.0 * sigma * sigma)))


# TensorFlow's sampling kernels (ScaleAndTranslate's kernel_type): (function of |x|, radius).
KERNELS = {
    "triangle": (lambda x: np.maximum(0.0, 1.0 - x), 1.0),
    "keyscubic": (_keys_cubic, 2.0),
    "mitchellcubic": (_mitchell_cubic, 2.0),
    "lanczos1": _lanczos(1),
    "lanczos3": _lanczos(3),
    "lanczos5": _lanczos(5),
    "gaussian": (_gaussian, 1.5),
    "box": (lambda x: np.where(x < 0.5, 1.0, np.where(x == 0.5, 0.5, 0.0)), 1.0),
}


def scale_translate_matrix(in_size: int, out_size: int, kernel: str, antialias: bool, scale: float | None = None,
                           translate: float = 0.0) -> np.ndarray:
    """ScaleAndTranslate's weights: output i samples the input at s = (i + 0.5) / scale -
    translate / scale; input j gets kernel(|j + 0.5 - s| / k), k = max(1 / scale, 1) with
    `antialias` (a wider kernel when shrinking), else 1; each row is normalized to sum 1, and
    is zero where s falls outside [0, in_size].  `scale` defaults to out_size / in_size.

    >>> scale_translate_matrix(2, 4, "triangle", False).round(3).tolist()
    [[1.0, 0.0], [0.75, 0.25], [0.25, 0.75], [0.0, 1.0]]
    """
    fn, _ = KERNELS[kernel]
    scale = out_size / in_size if scale is None else float(scale)
    inv = 1.0 / scale
    k = max(inv, 1.0) if antialias else 1.0
    sample = (np.arange(out_size) + 0.5) * inv - translate * inv
    dist = np.abs(np.arange(in_size)[None, :] + 0.5 - sample[:, None]) / k
    w = fn(dist)
    total = w.sum(axis=1, keepdims=True)
    w = np.where(np.abs(total) >= 1000.0 * np.finfo(np.float32).tiny, w / np.where(total == 0, 1.0, total), 0.0)
    inside = (sample >= 0) & (sample <= in_size)
    return np.where(inside[:, None], w, 0.0)


def _cubic_table(a):
    """ResizeBicubic's coefficients, tabulated at 1/1024 steps in float32 as TensorFlow's are."""
    x = (np.arange(1025) / 1024.0).astype(np.float32).astype(np.float64)
    near = (((a + 2) * x - (a + 3)) * x * x + 1).astype(np.float32)
    x1 = x + 1.0
    far = (((a * x1 - 5 * a) * x1 + 8 * a) * x1 - 4 * a).astype(np.float32)
    return near.astype(np.float64), far.astype(np.float64)


def resize_bicubic_matrix(in_size: int, out_size: int, align_corners: bool, half_pixel_centers: bool) -> np.ndarray:
    """TensorFlow's ResizeBicubic weights.  With half_pixel_centers (TF2's tf.image.resize):
    Keys's cubic (a = -0.5) at s = (i + 0.5) * scale - 0.5, taps outside the image weigh 0 and
    the rest are renormalized.  Without (TF1's legacy kernel): a = -0.75 at s = i * scale, and
    taps outside repeat the edge pixel.  The fraction of s is rounded to 1/1024 as TensorFlow's
    table lookup rounds it."""
    scale = (in_size - 1) / (out_size - 1) if align_corners and out_size > 1 else in_size / out_size
    near, far = _cubic_table(-0.5 if half_pixel_centers else -0.75)
    m = np.zeros((out_size, in_size))
    for i in range(out_size):
        s = np.float32((i + 0.5) * np.float32(scale) - 0.5) if half_pixel_centers else np.float32(i * np.float32(scale))
        base = int(np.floor(s))
        off = int(np.rint((s - base) * 1024))
        taps = [(base - 1, far[off]), (base, near[off]), (base + 1, near[1024 - off]), (base + 2, far[1024 - off])]
        if half_pixel_centers:
            taps = [(j, w) for j, w in taps if 0 <= j < in_size]
            total = sum(w for _, w in taps)
            if abs(total) >= 1000.0 * np.finfo(np.float32).tiny:
                taps = [(j, w / total) for j, w in taps]
        for j, w in taps:
            m[i, min(max(j, 0), in_size - 1)] += w
    return m
