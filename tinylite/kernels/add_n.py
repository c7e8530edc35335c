"""ADD_N: the elementwise sum of all inputs (same shape and type: float32,
int32), added in input order.  Each float addition is clamped to
[-FLT_MAX, FLT_MAX] as LiteRT's Add with no activation does (no infinities)."""
import numpy as np


def prepare(node):
    first = node.inputs[0]
    node.expect_dtype(first, np.float32, np.int32)
    for spec in node.inputs[1:]:
        if spec.dtype != first.dtype or tuple(spec.shape) != tuple(first.shape):
            node.fail(f"all inputs need the first's type and shape ({first.dtype.name} {list(first.shape)}), "
                      f"got {spec.dtype.name} {list(spec.shape)}")
    node.outputs[0].shape = tuple(first.shape)
    return eval_add_n


def eval_add_n(node, inputs, outputs):
    out = outputs[0]
    np.copyto(out, inputs[0])
    big = np.finfo(np.float32).max
    for x in inputs[1:]:
        out += x
        if out.dtype.kind == "f":
            np.clip(out, -big, big, out=out)
