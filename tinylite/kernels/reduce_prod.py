"""REDUCE_PROD over the axes given by the second input (`keep_dims` keeps them
as 1): float32, int32, int64, and unquantized int8/uint8/int16 (integers wrap
as in C).  The product of an empty axis is 1.  LiteRT multiplies in input
order; float products here may differ in the last bits."""
import numpy as np

from ._window import prepare_reduction


def prepare(node):
    x = node.inputs[0]
    if x.quantization is not None and x.quantization.is_quantized and x.dtype.kind in "iu":
        from ..errors import UnsupportedOpError

        raise UnsupportedOpError(f"{node.op_name} (node {node.index}): quantized {x.dtype.name} input is not "
                                 "supported by tinylite; LiteRT runs it")
    node.expect_dtype(x, np.float32, np.int32, np.int64, np.int8, np.uint8, np.int16)
    prepare_reduction(node)
    return eval_prod


def eval_prod(node, inputs, outputs):
    out = outputs[0]
    np.multiply.reduce(inputs[0], axis=node.axes, keepdims=True, out=out.reshape(node.kept_shape))
