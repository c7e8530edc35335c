"""SOFTMAX over the last axis, with `beta`: exp(beta * (x - max)) / sum."""
import numpy as np

_max = np.maximum.reduce
_sum = np.add.reduce


def prepare(node):
    x = node.inputs[0]
    node.outputs[0].shape = x.shape
    if x.dtype == np.float32:
        node.beta = np.float32(node.options.get("beta", 1.0))
        node.row = None     # views and buffers, made on first use (see eval_float)
        return eval_float
    from . import _quantized

    return _quantized.prepare_softmax(node)


def eval_float(node, inputs, outputs):
    x, out = inputs[0], outputs[0]
    v = node.row
    if v is None or v[0] is not x or v[1] is not out:
        # Kept views and a buffer for the row max and sum.  One row (a
        # classifier's output at batch 1) runs on 1-D views with a 0-d
        # buffer: numpy's broadcasting loops cost twice its plain ones there.
        if x.size == x.shape[-1]:
            v = (x, out, x.reshape(-1), out.reshape(-1), np.empty((), np.float32), 0, False)
        else:
            v = (x, out, x, out, np.empty(x.shape[:-1] + (1,), np.float32), -1, True)
        node.row = v
    _, _, xv, ov, row, axis, keep = v
    # The ufunc reductions straight, into the kept buffer: x.max()/sum() cost a
    # Python wrapper and an allocation each, a good part of a small softmax.
    _max(xv, axis, None, row, keep)
    np.subtract(xv, row, out=ov)
    if node.beta != 1:
        ov *= node.beta
    np.exp(ov, out=ov)
    _sum(ov, axis, None, row, keep)
    np.divide(ov, row, out=ov)
