"""Helpers of the unary elementwise kernels (activations, math functions):
the output takes the input's shape, float32 runs here, the quantized types
go to the op's own quantized path."""
import numpy as np


QUANTIZED_TYPES = (np.int8, np.uint8, np.int16)


def is_quantized(spec):
    q = spec.quantization
    return q is not None and q.is_quantized


def same_shape(node):
    """The input spec, after giving the output its shape (TFLite requires equal types)."""
    x, y = node.inputs[0], node.outputs[0]
    if x.dtype != y.dtype:
        node.fail(f"output type {y.dtype.name} differs from input type {x.dtype.name}")
    y.shape = x.shape
    return x


def prepare_float_unary(node, eval_float, quantized_name):
    """eval_float for float32; int8/uint8/int16 go to the quantized kernels."""
    x = same_shape(node)
    if x.dtype == np.float32:
        return eval_float
    if x.dtype in [np.dtype(t) for t in QUANTIZED_TYPES]:
        from ._quantization import prepare_quantized

        return prepare_quantized(node)
    node.expect_dtype(x, np.float32)    # raises: no other type is run


# --- arithmetic with a fused activation ---


# --- MAXIMUM / MINIMUM ---


# --- erfc ---
