"""What REAL, IMAG and COMPLEX_ABS share: a complex64 or complex128 input and
an output of the matching float type."""
import numpy as np


def prepare_complex_part(node, fn):
    x, out = node.inputs[0], node.outputs[0]
    node.expect_dtype(x, np.complex64, np.complex128)
    want = np.float32 if x.dtype == np.complex64 else np.float64
    if out.dtype != want:
        node.fail(f"output must be {np.dtype(want).name} for a {x.dtype.name} input, got {out.dtype.name}")
    out.shape = tuple(x.shape)
    node.fn = fn
    return eval_part


def eval_part(node, inputs, outputs):
    outputs[0][...] = node.fn(inputs[0])
