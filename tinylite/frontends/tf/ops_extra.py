"""More lowerings of TensorFlow ops (see ops.py for the conventions): ops that map
onto one TFLite builtin or a short fixed spelling of builtins, as TensorFlow's
converter legalizes them -- dilated convolutions' SpaceToBatchND/BatchToSpaceND,
index ops (GatherNd, ScatterNd, TopKV2, OneHot, Where, segment sums), Conv3D,
LRN, MatrixBandPart (Keras's causal attention mask), single-operand einsum, and
the math ops with no builtin of their own (Log1p, Expm1, IsNan, IsFinite,
Atan, Rint, DivNoNan, TruncateDiv/Mod, EuclideanNorm), and tf.cond.

OPS here is ops.OPS with these added; the lowerer reads it from this module.
"""
from __future__ import annotations

import numpy as np

from ..keras.ops import bshape
from .lower import Resource, _attr
from .ops import (OPS, _const, _dtype, _einsum as _einsum_two, _emit, _fill_like, _ins, _is_const, _partial_of,
                  _range as _range_const, _shape, _size as _size_const, _slice as _slice_const, _tflite_dtype, op)

__all__ = ["OPS"]


def _ints(low, scope, node, s, what):
    return np.asarray(_const(low, scope, node, s, what)).astype(np.int64)


# -- space <-> batch (TensorFlow's spelling of a dilated convolution) ----------------------------

@op("SpaceToBatchND", "BatchToSpaceND")
def _space_batch(low, scope, node):
    x, b, p = _ins(low, scope, node)
    block = _ints(low, scope, node, b, "block_shape")
    to_batch = node["op"] == "SpaceToBatchND"
    pads = _ints(low, scope, node, p, "paddings" if to_batch else "crops").reshape(-1, 2)
    shp = _shape(x)
    # Spatial dimensions padded then divided by the block (to batch), or multiplied then cropped.
    spatial = [None if d is None else (d + int(a) + int(c)) // int(k) if to_batch else d * int(k) - int(a) - int(c)
               for d, k, (a, c) in zip(shp[1:1 + len(block)], block, pads)]
    n = int(np.prod(block))
    batch = None if shp[0] is None else shp[0] * n if to_batch else shp[0] // n
    out = (batch,) + tuple(spatial) + tuple(shp[1 + len(block):])
    kind = "SPACE_TO_BATCH_ND" if to_batch else "BATCH_TO_SPACE_ND"
    return _emit(low, kind, [x, block.astype(np.int32), pads.astype(np.int32)], out, node["name"])


# -- index ops ---------------------------------------------------------------------------------

def _indices(s):
    """Index constants as int32 (TFLite's index inputs), run-time ones as they are (narrowed)."""
    return s.astype(np.int32) if _is_const(s) else s


@op("GatherNd")
def _gather_nd(low, scope, node):
    params, idx = _ins(low, scope, node)
    if _is_const(params) and _is_const(idx):
        return params[tuple(np.moveaxis(idx, -1, 0))]
    ps, ix = _shape(params), _shape(idx)
    if ix[-1] is None:
        low.fail(scope, node, "the indices' last dimension (the index depth) must be known")
    out = tuple(ix[:-1]) + tuple(ps[ix[-1]:])
    return _emit(low, "GATHER_ND", [params, _indices(idx)], out, node["name"], out_dtype=_tflite_dtype(_dtype(params)))


@op("ScatterNd")
def _scatter_nd(low, scope, node):
    idx, updates, shape = _ins(low, scope, node)
    dims = [int(d) for d in _ints(low, scope, node, shape, "shape")]
    return _emit(low, "SCATTER_ND", [_indices(idx), updates, np.array(dims, np.int32)], tuple(dims), node["name"],
                 out_dtype=_tflite_dtype(_dtype(updates)))


@op("TensorScatterUpdate", "TensorScatterAdd", "TensorScatterSub")
def _tensor_scatter(low, scope, node):
    """tf.tensor_scatter_nd_update / _add / _sub: SCATTER_ND writes the updates into zeros of the
    tensor's shape (summing duplicates, as the add does); the add and sub combine it with the
    tensor, the update takes it where a SCATTER_ND of ones counts a write (SELECT_V2).  With
    duplicate indices TensorFlow leaves the update's order undefined; here they sum."""
    x, idx, updates = _ins(low, scope, node)
    kind, name = node["op"], node["name"]
    shape = _shape(x)
    dtype = _tflite_dtype(_dtype(x))
    b = low.b
    if any(d is None for d in shape):
        xv = low.v(x, name + "/tensor")
        dims = b.op("SHAPE", [xv], (len(shape),), name + "/shape", {"out_type": "INT32"}, out_dtypes=np.int32)
    else:
        dims = np.array(shape, np.int32)
    scattered = _emit(low, "SCATTER_ND", [_indices(idx), updates, dims], shape, name + "/scattered", out_dtype=dtype)
    if kind != "TensorScatterUpdate":
        return _emit(low, "ADD" if kind == "TensorScatterAdd" else "SUB", [x, scattered], shape, name)
    ones_shape = _shape(updates)
    if any(d is None for d in ones_shape):
        uv = low.v(updates, name + "/updates")
        ones = b.op("FILL", [b.op("SHAPE", [uv], (len(ones_shape),), name + "/updates_shape", {"out_type": "INT32"},
                                  out_dtypes=np.int32), b.const(np.int32(1), name + "/one")], ones_shape,
                    name + "/ones", out_dtypes=np.int32)
    else:
        ones = np.ones(ones_shape, np.int32)
    written = _emit(low, "SCATTER_ND", [_indices(idx), ones, dims], shape, name + "/written", out_dtype=np.int32)
    mask = _emit(low, "GREATER", [written, np.zeros((), np.int32)], shape, name + "/mask", out_dtype=np.bool_)
    return _emit(low, "SELECT_V2", [mask, scattered, x], shape, name, out_dtype=dtype)


@op("TopKV2")
def _top_k(low, scope, node):
    x, k = _ins(low, scope, node)
    kk = int(_const(low, scope, node, k, "k"))
    shp = tuple(_shape(x)[:-1]) + (kk,)
    return _emit(low, "TOPK_V2", [x, np.array(kk, np.int32)], [shp, shp], node["name"],
                 out_dtype=[_tflite_dtype(_dtype(x)), np.dtype(np.int32)])


@op("OneHot")
def _one_hot(low, scope, node):
    idx, depth, on, off = _ins(low, scope, node)
    d = int(_const(low, scope, node, depth, "depth"))
    axis = int(_attr(node, "axis", -1))
    shp = list(_shape(idx))
    axis = len(shp) if axis == -1 else axis
    shp.insert(axis, d)
    dt = _tflite_dtype(_dtype(on))
    on = on.astype(dt) if _is_const(on) else on
    off = off.astype(dt) if _is_const(off) else off
    return _emit(low, "ONE_HOT", [_indices(idx), np.array(d, np.int32), on, off], tuple(shp), node["name"],
                 {"axis": axis}, out_dtype=dt)


@op("Where")
def _where(low, scope, node):
    (c,) = _ins(low, scope, node)
    if _is_const(c):
        return np.argwhere(c).astype(np.int64)
    # TFLite's WHERE gives int64 coordinates; the graph computes int64 as int32 (ops._tflite_dtype).
    name = node["name"]
    found = low.b.op("WHERE", [low.v(c, name + "/condition")], (None, len(_shape(c))), name + "/int64",
                     out_dtypes=np.int64)
    return low.b.op("CAST", [found], found.shape, name, {"in_data_type": "INT64", "out_data_type": "INT32"},
                    out_dtypes=np.int32)


@op("SegmentSum")
def _segment_sum(low, scope, node):
    data, ids = _ins(low, scope, node)
    if _is_const(ids):
        out = (int(ids.max()) + 1 if ids.size else 0,) + tuple(_shape(data)[1:])
    else:
        out = (None,) + tuple(_shape(data)[1:])
    return _emit(low, "SEGMENT_SUM", [data, _indices(ids)], out, node["name"], out_dtype=_tflite_dtype(_dtype(data)))


_SORTED = {"SegmentMax": "UNSORTED_SEGMENT_MAX", "SegmentMin": "UNSORTED_SEGMENT_MIN",
           "SegmentProd": "UNSORTED_SEGMENT_PROD", "SegmentMean": "UNSORTED_SEGMENT_SUM"}


@op(*_SORTED)
def _segment_reduce(low, scope, node):
    """SegmentMax/Min/Prod/Mean over sorted ids as the unsorted builtins (the ids' order does not
    matter to them) with max(ids) + 1 segments.  TensorFlow gives an empty segment 0 (1 for the
    product): the unsorted max and min give it the type's lowest and highest value, so where a
    segment's count is 0 a SELECT_V2 puts 0; the mean divides the sums by max(count, 1)."""
    data, ids = _ins(low, scope, node)
    kind, name = node["op"], node["name"]
    dtype = _tflite_dtype(_dtype(data))
    if kind == "SegmentMean" and np.dtype(dtype).kind != "f":
        low.fail(scope, node, f"the mean of {np.dtype(dtype).name} segments is not supported (float only)")
    if len(_shape(ids)) != 1:
        low.fail(scope, node, f"segment ids of shape {_shape(ids)} are not supported (one id per row)")
    rest = tuple(_shape(data)[1:])
    b = low.b
    if _is_const(ids):
        ids = ids.astype(np.int32)
        n = int(ids.max()) + 1 if ids.size else 0
        counts = np.bincount(ids, minlength=n).astype(np.float32 if kind == "SegmentMean" else np.int32)
        num = np.array([n], np.int32)
    else:
        n = None
        iv = low.v(ids, name + "/ids")
        top = b.op("REDUCE_MAX", [iv, b.const(np.array([0], np.int32), name + "/axis")], (1,), name + "/max_id",
                   {"keep_dims": True}, out_dtypes=np.int32)
        num = b.op("ADD", [top, b.const(np.int32(1), name + "/one")], (1,), name + "/num_segments")
        ones = b.op("FILL", [b.op("SHAPE", [iv], (1,), name + "/ids_shape", {"out_type": "INT32"}, out_dtypes=np.int32),
                             b.const(np.array(1, np.float32 if kind == "SegmentMean" else np.int32), name + "/ones")],
                    _shape(ids), name + "/ones_like", out_dtypes=np.float32 if kind == "SegmentMean" else np.int32)
        counts = b.op("UNSORTED_SEGMENT_SUM", [ones, iv, num], (None,), name + "/counts")
    out = _emit(low, _SORTED[kind], [data, _indices(ids), num], (n,) + rest, name + ("/sum" if kind == "SegmentMean"
                                                                                       else "/unsorted"), out_dtype=dtype)
    if kind == "SegmentProd":
        return out
    shape = (-1,) + (1,) * len(rest)
    if kind == "SegmentMean":
        if _is_const(counts):
            return _emit(low, "DIV", [out, np.maximum(counts, 1).reshape(shape)], out.shape, name)
        c = b.op("MAXIMUM", [counts, b.const(np.float32(1), name + "/min_count")], counts.shape, name + "/count")
        c = _emit(low, "RESHAPE", [c, np.array(shape, np.int32)], (None,) + (1,) * len(rest), name + "/count_col")
        return _emit(low, "DIV", [out, c], out.shape, name)
    if _is_const(counts):
        if counts.all():
            return _emit(low, "RESHAPE", [out, np.array([-1] + list(rest), np.int32)], out.shape, name)
        empty = (counts == 0).reshape(shape)
    else:
        empty = b.op("EQUAL", [counts, b.const(np.int32(0), name + "/zero")], counts.shape, name + "/empty",
                     out_dtypes=np.bool_)
        empty = _emit(low, "RESHAPE", [empty, np.array(shape, np.int32)], (None,) + (1,) * len(rest),
                      name + "/empty_col")
    return _emit(low, "SELECT_V2", [empty, np.zeros((), dtype), out], out.shape, name, out_dtype=dtype)


_UNSORTED = {"UnsortedSegmentSum": "UNSORTED_SEGMENT_SUM", "UnsortedSegmentMax": "UNSORTED_SEGMENT_MAX",
             "UnsortedSegmentMin": "UNSORTED_SEGMENT_MIN", "UnsortedSegmentProd": "UNSORTED_SEGMENT_PROD"}


@op(*_UNSORTED)
def _unsorted_segment(low, scope, node):
    data, ids, n = _ins(low, scope, node)
    count = int(_const(low, scope, node, n, "num_segments"))
    ids_rank = len(_shape(ids))
    out = (count,) + tuple(_shape(data)[ids_rank:])
    return _emit(low, _UNSORTED[node["op"]], [data, _indices(ids), np.array([count], np.int32)], out, node["name"],
                 out_dtype=_tflite_dtype(_dtype(data)))


# -- convolution and normalization -------------------------------------------------------------

def _geometry_3d(low, scope, node, window="dilations"):
    """A 3-D op's padding (SAME or VALID), strides and `window` attribute (dilations, or ksize for
    a pooling), each over [batch, depth, height, width, channels]; NDHWC only, as TFLite."""
    pad = str(_attr(node, "padding", "VALID")).upper()
    if pad not in ("SAME", "VALID"):
        low.fail(scope, node, f"padding={pad} is not supported (SAME or VALID)")
    if str(_attr(node, "data_format", "NDHWC")) != "NDHWC":
        low.fail(scope, node, f"data_format={_attr(node, 'data_format')} is not supported (NDHWC, as TFLite)")
    s = [int(v) for v in (_attr(node, "strides") or [1] * 5)]
    k = [int(v) for v in (_attr(node, window) or [1] * 5)]
    if s[0] != 1 or s[4] != 1 or (window == "ksize" and (k[0] != 1 or k[4] != 1)):
        low.fail(scope, node, f"a window across the batch or the channels is not supported (strides {s}, {window} {k})")
    return pad, s, k


@op("Conv3D")
def _conv3d(low, scope, node):
    x, w = _ins(low, scope, node)
    w = _const(low, scope, node, w, "the filter")
    pad, s, dl = _geometry_3d(low, scope, node)
    from ..keras.ops import conv_out

    shp = _shape(x)
    spatial = tuple(conv_out(shp[1 + i], w.shape[i], s[1 + i], dl[1 + i], pad.lower()) for i in range(3))
    y = _emit(low, "CONV_3D", [x, w.astype(np.float32), None], (shp[0],) + spatial + (w.shape[4],), node["name"],
              {"padding": pad, "stride_d": s[1], "stride_h": s[2], "stride_w": s[3],
               "dilation_d_factor": dl[1], "dilation_h_factor": dl[2], "dilation_w_factor": dl[3]})
    low.biasable[y.index] = (low.b.sg.operators[-1], node["name"], 2)     # a BiasAdd after it fills the bias
    return y


@op("Conv3DBackpropInputV2")
def _conv3d_transpose(low, scope, node):
    """tf.nn.conv3d_transpose (a Keras Conv3DTranspose): CONV_3D_TRANSPOSE, whose filter layout
    [kd, kh, kw, cout, cin] is TensorFlow's."""
    sizes, w, x = _ins(low, scope, node)
    w = _const(low, scope, node, w, "the filter")
    pad, s, dl = _geometry_3d(low, scope, node)
    out, _ = _partial_of(sizes)
    name = node["name"]
    if isinstance(sizes, np.ndarray):
        sizes = sizes.astype(np.int32)
    y = low.b.op("CONV_3D_TRANSPOSE", [low.v(sizes, name + "/output_shape"), low.b.const(w.astype(np.float32), name),
                                       low.v(x, name + "/input")], tuple(out), name,
                 {"padding": pad, "stride_d": s[1], "stride_h": s[2], "stride_w": s[3],
                  "dilation_d_factor": dl[1], "dilation_h_factor": dl[2], "dilation_w_factor": dl[3]},
                 out_dtypes=np.float32)
    low.biasable[y.index] = (low.b.sg.operators[-1], name, 3)
    return y


@op("MaxPool3D", "AvgPool3D")
def _pool3d(low, scope, node):
    """As two 2-D poolings (keras.ops.pool3d): TFLite has no 3-D pooling builtin."""
    (x,) = _ins(low, scope, node)
    pad, s, k = _geometry_3d(low, scope, node, "ksize")
    shp = _shape(x)
    if len(shp) != 5 or any(d is None for d in shp[1:]):
        low.fail(scope, node, f"input shape {shp} is not supported (static depth, height, width and channels)")
    from ..keras.ops import pool3d

    op = "MAX_POOL_2D" if node["op"] == "MaxPool3D" else "AVERAGE_POOL_2D"
    return pool3d(low.b, low.v(x, node["name"] + "/x"), op, k[1:4], s[1:4], pad.lower(), node["name"])


# -- resampling -------------------------------------------------------------------------------

@op("ResizeBicubic", "ScaleAndTranslate")
def _resample(low, scope, node):
    """tf.image.resize's bicubic (ResizeBicubic) and its antialiased or Lanczos/Gaussian/Mitchell
    resizes (ScaleAndTranslate): no TFLite builtin, so two weight matrices over a static image size
    (resample.py), applied by FULLY_CONNECTED ops.  The output is float32, as TensorFlow's."""
    from ..keras.ops import separable_resize
    from ..resample import KERNELS, resize_bicubic_matrix, scale_translate_matrix

    ins = _ins(low, scope, node)
    x, name = ins[0], node["name"]
    size = [int(v) for v in np.asarray(_const(low, scope, node, ins[1], "size")).reshape(-1)]
    shape = _shape(x)
    if len(shape) != 4 or shape[1] is None or shape[2] is None:
        low.fail(scope, node, f"input shape {shape} is not supported (NHWC images of a static size)")
    h, w = shape[1], shape[2]
    if node["op"] == "ResizeBicubic":
        ac, hp = bool(_attr(node, "align_corners", False)), bool(_attr(node, "half_pixel_centers", False))
        rows, cols = resize_bicubic_matrix(h, size[0], ac, hp), resize_bicubic_matrix(w, size[1], ac, hp)
    else:
        kernel = str(_attr(node, "kernel_type", "lanczos3"))
        if kernel not in KERNELS:
            low.fail(scope, node, f"kernel_type {kernel!r} is not supported ({', '.join(KERNELS)})")
        scale = [float(v) for v in np.asarray(_const(low, scope, node, ins[2], "scale")).reshape(-1)]
        shift = [float(v) for v in np.asarray(_const(low, scope, node, ins[3], "translation")).reshape(-1)]
        aa = bool(_attr(node, "antialias", True))
        rows = scale_translate_matrix(h, size[0], kernel, aa, np.float32(scale[0]), np.float32(shift[0]))
        cols = scale_translate_matrix(w, size[1], kernel, aa, np.float32(scale[1]), np.float32(shift[1]))
    xv = low.v(x, name + "/images")
    if np.dtype(xv.dtype) != np.float32:
        xv = low.b.op("CAST", [xv], xv.shape, name + "/float", {"in_data_type": np.dtype(xv.dtype).name.upper(),
                                                                "out_data_type": "FLOAT32"}, out_dtypes=np.float32)
    return separable_resize(low.b, xv, rows, cols, name)


# -- spectra ----------------------------------------------------------------------------------

@op("RFFT", "RFFT2D")
def _rfft(low, scope, node):
    """tf.signal.rfft / rfft2d as RFFT2D (complex64 out; fft_length powers of two, as LiteRT's
    kernel takes; it crops or zero-pads the input's last axes to them).  The 1-D transform runs
    over [..., 1, n] with fft_length [1, n]."""
    x, n = _ins(low, scope, node)
    name = node["name"]
    lengths = [int(v) for v in np.asarray(_const(low, scope, node, n, "fft_length")).reshape(-1)]
    if any(v <= 0 or v & (v - 1) for v in lengths):
        low.fail(scope, node, f"fft_length {lengths} is not supported: TFLite's RFFT2D takes powers of two only")
    if np.dtype(_dtype(x)) != np.float32:
        low.fail(scope, node, f"input of type {np.dtype(_dtype(x)).name} is not supported (float32)")
    shape = tuple(_shape(x))
    xv = low.v(x, name + "/input")
    if node["op"] == "RFFT":
        lifted = shape[:-1] + (1, shape[-1])
        xv = _emit(low, "RESHAPE", [xv, np.array([-1 if d is None else d for d in lifted], np.int32)], lifted,
                   name + "/rows") if sum(d is None for d in lifted) <= 1 else \
            _emit(low, "EXPAND_DIMS", [xv, np.array([-2], np.int32)], lifted, name + "/rows")
        lengths = [1] + lengths
    out = shape[:-2 if node["op"] == "RFFT2D" else -1] + ((lengths[0],) if node["op"] == "RFFT2D" else (1,)) + (
        lengths[1] // 2 + 1,)
    y = _emit(low, "RFFT2D", [xv, np.array(lengths, np.int32)], out, name + ("/rfft2d" if node["op"] == "RFFT" else ""),
              out_dtype=np.complex64)
    if node["op"] == "RFFT2D":
        return y
    final = out[:-2] + out[-1:]
    if sum(d is None for d in final) <= 1:
        return _emit(low, "RESHAPE", [y, np.array([-1 if d is None else d for d in final], np.int32)], final, name,
                     out_dtype=np.complex64)
    return _emit(low, "SQUEEZE", [y], final, name, {"squeeze_dims": np.array([-2], np.int32)}, out_dtype=np.complex64)


@op("ComplexAbs", "Real", "Imag")
def _complex_part(low, scope, node):
    (x,) = _ins(low, scope, node)
    if np.dtype(_dtype(x)).kind != "c":
        low.fail(scope, node, f"expects a complex input, got {np.dtype(_dtype(x)).name}")
    kind = {"ComplexAbs": "COMPLEX_ABS", "Real": "REAL", "Imag": "IMAG"}[node["op"]]
    out = np.float32 if np.dtype(_dtype(x)) == np.complex64 else np.float64
    return _emit(low, kind, [x], _shape(x), node["name"], out_dtype=out)


@op("LRN")
def _lrn(low, scope, node):
    (x,) = _ins(low, scope, node)
    opts = {"radius": int(_attr(node, "depth_radius", 5)), "bias": float(_attr(node, "bias", 1.0)),
            "alpha": float(_attr(node, "alpha", 1.0)), "beta": float(_attr(node, "beta", 0.5))}
    return _emit(low, "LOCAL_RESPONSE_NORMALIZATION", [x], _shape(x), node["name"], opts)


# -- masks and einsum --------------------------------------------------------------------------

def _band(rows, cols, lower, upper):
    i = np.arange(rows)[:, None]
    j = np.arange(cols)[None, :]
    return ((lower < 0) | (i - j <= lower)) & ((upper < 0) | (j - i <= upper))


@op("MatrixBandPart")
def _matrix_band_part(low, scope, node):
    x, lo, hi = _ins(low, scope, node)
    lower = int(_const(low, scope, node, lo, "num_lower"))
    upper = int(_const(low, scope, node, hi, "num_upper"))
    shp = _shape(x)
    if shp[-1] is None or shp[-2] is None:
        low.fail(scope, node, "the matrix dimensions must be known (the band is built as a constant mask)")
    mask = _band(shp[-2], shp[-1], lower, upper)
    if _is_const(x):
        return np.where(mask, x, np.zeros((), x.dtype)).astype(x.dtype)
    dt = _tflite_dtype(_dtype(x))
    # A select, not a product: NaN and inf outside the band become 0, as TensorFlow's.
    return _emit(low, "SELECT_V2", [mask, x, np.zeros((), dt)], shp, node["name"], out_dtype=dt)


@op("Einsum")
def _einsum(low, scope, node):
    ins = _ins(low, scope, node)
    eq = str(_attr(node, "equation", "")).replace(" ", "")
    if len(ins) == 1 and "->" in eq and "." not in eq:
        return _einsum_one(low, scope, node, ins[0], eq)
    return _einsum_two(low, scope, node)


def _einsum_one(low, scope, node, x, eq):
    """A one-operand einsum: sums over the indices the output drops, then a transpose."""
    lhs, out = eq.split("->")
    if len(set(lhs)) != len(lhs) or any(c not in lhs for c in out):
        low.fail(scope, node, f"equation {eq!r}: repeated indices (diagonals, traces) are not supported")
    if _is_const(x):
        return np.einsum(eq, x)
    shp = _shape(x)
    name = node["name"]
    drop = [k for k, c in enumerate(lhs) if c not in out]
    kept = [c for c in lhs if c in out]
    if drop:
        x = _emit(low, "SUM", [x, np.array(drop, np.int32)], tuple(d for k, d in enumerate(shp) if k not in drop),
                  name + ("/sum" if kept != list(out) else ""), {"keep_dims": False})
    if kept != list(out):
        perm = [kept.index(c) for c in out]
        x = _emit(low, "TRANSPOSE", [x, np.array(perm, np.int32)], tuple(_shape(x)[p] for p in perm), name)
    return x


# -- math with no builtin of its own -----------------------------------------------------------

def _scalar(dt, value):
    return np.array(value, _tflite_dtype(dt))


@op("Log1p", "Expm1", "IsNan", "IsFinite", "IsInf", "Atan", "Rint", "DivNoNan", "MulNoNan")
def _math(low, scope, node):
    ins = _ins(low, scope, node)
    kind, name = node["op"], node["name"]
    if all(_is_const(v) for v in ins):
        fns = {"Log1p": np.log1p, "Expm1": np.expm1, "IsNan": np.isnan, "IsFinite": np.isfinite, "IsInf": np.isinf,
               "Atan": np.arctan, "Rint": np.rint,
               "DivNoNan": lambda a, b: np.where(b == 0, 0, a / np.where(b == 0, 1, b)).astype(a.dtype),
               "MulNoNan": lambda a, b: np.where(b == 0, 0, a * b).astype(a.dtype)}
        return np.asarray(fns[kind](*ins))
    x = ins[0]
    dt, shp = _dtype(x), _shape(x)
    if kind == "Log1p":        # as TensorFlow's converter legalizes it
        y = _emit(low, "ADD", [x, _scalar(dt, 1)], shp, name + "/plus_one")
        return _emit(low, "LOG", [y], shp, name)
    if kind == "Expm1":
        y = _emit(low, "EXP", [x], shp, name + "/exp")
        return _emit(low, "SUB", [y, _scalar(dt, 1)], shp, name)
    if kind == "IsNan":
        return _emit(low, "NOT_EQUAL", [x, x], shp, name, out_dtype=np.bool_)
    if kind in ("IsFinite", "IsInf"):
        a = _emit(low, "ABS", [x], shp, name + "/abs")
        cmp = "LESS" if kind == "IsFinite" else "EQUAL"
        return _emit(low, cmp, [a, _scalar(dt, np.inf)], shp, name, out_dtype=np.bool_)
    if kind == "Atan":
        # ATAN2 takes two inputs of one shape (no broadcasting).
        ones = np.ones(shp, _tflite_dtype(dt)) if None not in shp else _fill_like(low, x, 1, name + "/ones")
        return _emit(low, "ATAN2", [x, ones], shp, name)
    if kind == "Rint":
        return _emit(low, "ROUND", [x], shp, name)
    y = ins[1]
    y = y.astype(dt) if _is_const(y) else y
    both = bshape(shp, _shape(y))
    zero = _emit(low, "EQUAL", [y, _scalar(dt, 0)], _shape(y), name + "/is_zero", out_dtype=np.bool_)
    value = _emit(low, "DIV" if kind == "DivNoNan" else "MUL", [x, y], both, name + "/value")
    return _emit(low, "SELECT_V2", [zero, _scalar(dt, 0), value], both, name, out_dtype=_tflite_dtype(dt))


# -- run-time sizes ----------------------------------------------------------------------------

@op("Range")
def _range(low, scope, node):
    ins = _ins(low, scope, node)
    if all(_is_const(s) for s in ins):
        return _range_const(low, scope, node)
    # A run-time length (tf.range(tf.shape(x)[1]), positions in a model with a dynamic sequence):
    # RANGE, whose output size the runtime computes.
    dt = _tflite_dtype(next(_dtype(s) for s in ins if not _is_const(s)))
    vals = [s.astype(dt) if _is_const(s) else s for s in ins]
    return _emit(low, "RANGE", vals, (None,), node["name"], out_dtype=dt)


@op("Slice")
def _slice(low, scope, node):
    x, b, s = _ins(low, scope, node)
    if _is_const(b) and _is_const(s):
        return _slice_const(low, scope, node)
    # A run-time begin (or size): SLICE with that tensor; the output keeps the sizes known here.
    if _is_const(s):
        shp = tuple(None if int(v) == -1 else int(v) for v in s.reshape(-1))
        s = s.astype(np.int32)
    else:
        shp = (None,) * len(_shape(x))
    b = b.astype(np.int32) if _is_const(b) else b
    return _emit(low, "SLICE", [x, b, s], shp, node["name"])


@op("Size")
def _size(low, scope, node):
    (x,) = _ins(low, scope, node)
    if None not in _shape(x):
        return _size_const(low, scope, node)
    name = node["name"]
    dims = low.b.op("SHAPE", [low.v(x, name + "/x")], (len(_shape(x)),), name + "/shape", {"out_type": "INT32"},
                    out_dtypes=np.int32)
    return _emit(low, "REDUCE_PROD", [dims, np.array([0], np.int32)], (), name, {"keep_dims": False})


@op("ResourceGather")
def _resource_gather(low, scope, node):
    """tf.gather / tf.nn.embedding_lookup straight on a tf.Variable: GATHER of its value."""
    h, indices = _ins(low, scope, node)
    if not isinstance(h, Resource) or h.load is None:
        low.fail(scope, node, "gathers from something that is not a variable with a saved value")
    params = np.asarray(h.load())
    batch_dims = int(_attr(node, "batch_dims", 0))
    if _is_const(indices) and batch_dims == 0:
        return np.take(params, indices, 0)
    out = tuple(_shape(indices)[batch_dims:]) + tuple(params.shape[1:])
    return _emit(low, "GATHER", [params, indices], out, node["name"], {"axis": 0, "batch_dims": batch_dims},
                 out_dtype=_tflite_dtype(params.dtype))


@op("TruncateDiv", "TruncateMod")
def _truncate(low, scope, node):
    """Integer division rounding toward zero: TFLite's int32 DIV is C's; the remainder is
    x - trunc(x / y) * y."""
    x, y = _ins(low, scope, node)
    if _is_const(x) and _is_const(y):
        q = np.trunc(np.true_divide(x, y)).astype(np.result_type(x, y))
        return q if node["op"] == "TruncateDiv" else (x - q * y).astype(q.dtype)
    dt = _dtype(x) if not _is_const(x) else _dtype(y)
    if _tflite_dtype(dt) != np.dtype(np.int32):
        low.fail(scope, node, f"on {np.dtype(dt).name}: TFLite's DIV truncates only int32")
    x = x.astype(np.int32) if _is_const(x) else x
    y = y.astype(np.int32) if _is_const(y) else y
    shp, name = bshape(_shape(x), _shape(y)), node["name"]
    if node["op"] == "TruncateDiv":
        return _emit(low, "DIV", [x, y], shp, name)
    q = _emit(low, "DIV", [x, y], shp, name + "/quotient")
    return _emit(low, "SUB", [x, _emit(low, "MUL", [q, y], shp, name + "/product")], shp, name)


@op("EuclideanNorm")
def _euclidean_norm(low, scope, node):
    x, a = _ins(low, scope, node)
    axes = _ints(low, scope, node, a, "axis").reshape(-1)
    keep = bool(_attr(node, "keep_dims", False))
    if _is_const(x):
        return np.sqrt(np.sum(np.square(x), axis=tuple(int(v) for v in axes), keepdims=keep)).astype(x.dtype)
    shp, name = _shape(x), node["name"]
    r = len(shp)
    axes = sorted({int(v) % r for v in axes})
    out = tuple(1 if k in axes else d for k, d in enumerate(shp)) if keep else \
        tuple(d for k, d in enumerate(shp) if k not in axes)
    sq = _emit(low, "MUL", [x, x], shp, name + "/square")
    total = _emit(low, "SUM", [sq, np.array(axes, np.int32)], out, name + "/sum", {"keep_dims": keep})
    return _emit(low, "SQRT", [total], out, name)


# -- conditionals ------------------------------------------------------------------------------

@op("If", "StatelessIf")
def _if(low, scope, node):
    """tf.cond: with a predicate known here, the branch taken is inlined; with a run-time one,
    both branches are inlined and SELECT_V2 picks each output by the predicate (TFLite's ops
    raise no errors, so computing the branch not taken is harmless), where both branches give
    outputs of one shape (run-time dimensions alike) and type.  A branch with side effects
    (variable writes) is refused."""
    ins = _ins(low, scope, node)
    pred, args = ins[0], ins[1:]
    then_fn = (_attr(node, "then_branch") or {}).get("name")
    else_fn = (_attr(node, "else_branch") or {}).get("name")
    if not then_fn or not else_fn:
        low.fail(scope, node, "names no then_branch/else_branch function")
    for fn in (then_fn, else_fn):
        fdef = low.g.functions.get(fn) or {}
        writes = [n["op"] for n in fdef.get("node_def", []) if n.get("op", "").startswith("Assign")]
        if writes:
            low.fail(scope, node, f"branch {fn!r} writes variables ({', '.join(sorted(set(writes)))}); TFLite "
                                  "has no stateful conditional this converter can emit")
    # TensorFlow's If: a scalar is true where nonzero; any other tensor where it is not empty.
    shp = _shape(pred)
    if shp != () and None not in shp:
        return low.call(then_fn if int(np.prod(shp)) > 0 else else_fn, args)
    if shp != ():
        low.fail(scope, node, f"the predicate has shape {list(shp)}, whose emptiness is only known at run time")
    if _is_const(pred):
        return low.call(then_fn if bool(np.asarray(pred)) else else_fn, args)
    yes, no = low.call(then_fn, args), low.call(else_fn, args)
    name = node["name"]
    p = low.v(pred, name + "/predicate")
    if _dtype(pred) != np.bool_:
        p = _emit(low, "NOT_EQUAL", [p, np.zeros((), _tflite_dtype(_dtype(pred)))], (), name + "/truth",
                  out_dtype=np.bool_)
    outs = []
    for k, (a, b) in enumerate(zip(yes, no)):
        sa, sb = _shape(a), _shape(b)
        # Dimensions known only at run time must be the same ones in both branches (they come from
        # the same inputs); TensorFlow lets the branches differ, which a select cannot express.
        if sa != sb or _tflite_dtype(_dtype(a)) != _tflite_dtype(_dtype(b)):
            low.fail(scope, node, f"output {k}: the branches give {list(sa)} {np.dtype(_dtype(a)).name} and "
                                  f"{list(sb)} {np.dtype(_dtype(b)).name}; a run-time predicate needs outputs of "
                                  "one shape and type")
        dt = _tflite_dtype(_dtype(a))
        a = a.astype(dt) if _is_const(a) else a
        b = b.astype(dt) if _is_const(b) else b
        outs.append(_emit(low, "SELECT_V2", [p, a, b], sa, f"{name}:{k}", out_dtype=dt))
    return outs


# -- channels-first (NCHW) layouts -------------------------------------------------------------

_NCHW_OPS = ("Conv2D", "DepthwiseConv2dNative", "MaxPool", "AvgPool", "BiasAdd", "FusedBatchNorm",
             "FusedBatchNormV2", "FusedBatchNormV3")
_TO_NHWC, _TO_NCHW = [0, 2, 3, 1], [0, 3, 1, 2]


def _channels_first(nhwc_lowering):
    """The op in NCHW as its NHWC lowering between TRANSPOSEs, as TensorFlow's converter writes it
    (TFLite is NHWC): the input moved to NHWC, the attributes per axis (strides, dilations, ksize,
    explicit paddings) permuted alike, the first output moved back.  A transpose undoing the one
    before it is not written (ops._transpose): a chain of NCHW ops keeps NHWC in between, and a
    BiasAdd after a convolution still folds into its bias."""
    def lower(low, scope, node):
        if str(_attr(node, "data_format", "NHWC")) != "NCHW":
            return nhwc_lowering(low, scope, node)
        refs = low.inputs(scope, node)
        x = low.get(scope, refs[0])
        if len(_shape(x)) != 4:
            low.fail(scope, node, f"an NCHW input of shape {_shape(x)} is not supported (4-D only)")
        name = node["name"]
        alias = name + "/nhwc_input"
        scope.memo[alias] = [_transpose_to(low, x, _TO_NHWC, alias)]
        attrs = dict(node.get("attr", {}))
        attrs["data_format"] = {"s": b"NHWC"}
        for key in ("strides", "dilations", "ksize"):
            v = _attr(node, key)
            if v:
                attrs[key] = {"list": {"i": [v[p] for p in _TO_NHWC]}}
        pads = _attr(node, "explicit_paddings")
        if pads:
            pairs = [pads[2 * p:2 * p + 2] for p in range(4)]
            attrs["explicit_paddings"] = {"list": {"i": [v for p in _TO_NHWC for v in pairs[p]]}}
        controls = [r for r in node.get("input", ()) if r.startswith("^")]
        patched = dict(node, input=[alias] + refs[1:] + controls, attr=attrs)
        outs = nhwc_lowering(low, scope, patched)
        single = not isinstance(outs, (list, tuple))
        outs = [outs] if single else list(outs)
        outs[0] = _transpose_to(low, outs[0], _TO_NCHW, name + "/nchw")
        return outs[0] if single else outs
    return lower


def _transpose_to(low, x, perm, name):
    """x transposed by perm: the value a transpose undid, or one written once per value and perm
    (an image read by several NCHW convolutions moves to NHWC once)."""
    from .ops import _transpose_value

    prev = low.transposes.get(getattr(x, "index", None))
    if prev is not None and [prev[1][p] for p in perm] == list(range(len(perm))):
        return prev[0]
    key = (getattr(x, "index", None), tuple(perm))
    if key[0] is None:
        return _transpose_value(low, x, perm, name)
    if key not in low.relaid:
        low.relaid[key] = _transpose_value(low, x, perm, name)
    return low.relaid[key]


for _name in _NCHW_OPS:
    OPS[_name] = _channels_first(OPS[_name])
