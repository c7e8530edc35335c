"""CAST between float16/32/64, (u)int8/16/32, int64, bool and complex64, with TFLite's
rules: float -> integer truncates toward zero and saturates (NaN gives the maximum),
anything -> bool is `!= 0`, integer -> integer wraps, and float16 results are
rounded from float32 (as TFLite converts through float).  complex64 casts its real part
(as float32) by those rules; a cast to complex64 goes through float32, imaginary part 0."""
import numpy as np

TYPES = (np.float32, np.float16, np.float64, np.int8, np.int16, np.int32, np.int64,
         np.uint8, np.uint16, np.uint32, np.bool_, np.complex64)


def prepare(node):
    x, y = node.inputs[0], node.outputs[0]
    node.expect_dtype(x, *TYPES)
    node.expect_dtype(y, *TYPES)
    y.shape = x.shape
    if x.dtype == np.complex64 and y.dtype != np.complex64:
        return _from_complex(y.dtype)
    if y.dtype == np.complex64:
        return eval_via_float32
    if x.dtype.kind == "f" and y.dtype.kind in "iu":
        return eval_saturating
    if y.dtype == np.float16 and x.dtype != np.float16:
        return eval_via_float32
    return eval_plain


def eval_plain(node, inputs, outputs):
    outputs[0][...] = inputs[0]


def eval_via_float32(node, inputs, outputs):
    outputs[0][...] = inputs[0].astype(np.float32)


def _from_complex(to):
    real = eval_saturating if np.dtype(to).kind in "iu" else eval_via_float32 if to == np.float16 else eval_plain

    def eval_real_part(node, inputs, outputs):
        real(node, [inputs[0].real], outputs)
    return eval_real_part


def eval_saturating(node, inputs, outputs):
    out = outputs[0]
    info = np.iinfo(out.dtype)
    x = inputs[0].astype(np.float64)
    # max + 1 is a power of two, exact in float64 (max itself may round up).
    high = ~(x < float(info.max) + 1)       # also NaN
    low = x < float(info.min)
    out[...] = np.trunc(np.where(high | low, 0, x))
    out[high] = info.max
    out[low] = info.min
