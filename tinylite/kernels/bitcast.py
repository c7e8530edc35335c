"""BITCAST: the input's bytes reinterpreted as the output's type.  A wider
input type gains a last dimension of size in/out bytes; a narrower one needs
its last dimension to be out/in bytes and loses it; equal sizes keep the shape."""
import numpy as np

TYPES = (np.float32, np.float16, np.float64, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32,
         np.int64, np.uint64, np.bool_)


def prepare(node):
    x, out = node.inputs[0], node.outputs[0]
    node.expect_dtype(x, *TYPES)
    node.expect_dtype(out, *TYPES)
    a, b = x.dtype.itemsize, out.dtype.itemsize
    if a > b:
        out.shape = tuple(x.shape) + (a // b,)
    elif a < b:
        if not len(x.shape) or x.shape[-1] != b // a:
            node.fail(f"bitcasting {x.dtype.name} to {out.dtype.name} needs a last dimension of {b // a}, "
                      f"got shape {list(x.shape)}")
        out.shape = tuple(x.shape[:-1])
    else:
        out.shape = tuple(x.shape)
    return eval_bitcast


def eval_bitcast(node, inputs, outputs):
    out = outputs[0]
    out.reshape(-1).view(np.uint8)[...] = np.ascontiguousarray(inputs[0]).reshape(-1).view(np.uint8)
