"""RESIZE_BILINEAR of an NHWC tensor to the (height, width) of the size input,
with TFLite's float32 source coordinates (`align_corners`, `half_pixel_centers`)
and its four-corner weights."""
import numpy as np

from ._quantization import prepare_quantized
from ._window import resize_scale, resize_size


def prepare(node):
    oh, ow = resize_size(node)
    x = node.inputs[0]
    align, half = bool(node.options.get("align_corners")), bool(node.options.get("half_pixel_centers"))
    if align and half:
        node.fail("half_pixel_centers and align_corners cannot both be true")
    n, h, w, c = x.shape
    node.outputs[0].shape = (n, oh, ow, c)
    if x.dtype != np.float32:
        return prepare_quantized(node)
    y0, y1, fy = source_coords(h, oh, align, half)
    x0, x1, fx = source_coords(w, ow, align, half)
    node.rows = (y0, y1)
    node.cols = (x0, x1)
    one = np.float32(1)
    # Corner weights in the order TFLite accumulates them: (y0,x0), (y0,x1), (y1,x0), (y1,x1).
    node.weights = [(wy[:, None] * wx[None, :])[:, :, None]
                    for wy in (one - fy, fy) for wx in (one - fx, fx)]
    return eval_float


def source_coords(in_size, out_size, align_corners, half_pixel_centers):
    """Lower and upper source index and the float32 fraction between them, per output index."""
    scale = resize_scale(in_size, out_size, align_corners)
    v = np.arange(out_size, dtype=np.float32)
    pos = (v + np.float32(0.5)) * scale - np.float32(0.5) if half_pixel_centers else v * scale
    lower = np.minimum(np.maximum(np.floor(pos), 0), in_size - 1).astype(np.intp)
    upper = np.minimum(np.ceil(pos), in_size - 1).astype(np.intp)
    return lower, upper, (pos - lower.astype(np.float32)).astype(np.float32)


def eval_float(node, inputs, outputs):
    x, out = inputs[0], outputs[0]
    tmp = np.empty_like(out)
    weights = iter(node.weights)
    for i, r in enumerate(node.rows):
        rows = x[:, r]
        for j, c in enumerate(node.cols):
            if i == j == 0:
                np.multiply(rows[:, :, c], next(weights), out=out)
            else:
                np.multiply(rows[:, :, c], next(weights), out=tmp)
                out += tmp
