"""SOFTMAX over the last axis, with `beta`: exp(beta * (x - max)) / sum."""
import numpy as np

_max = np.maximum.reduce
_sum = np.add.reduce


def prepare(node):
    x = node.inputs[0]
    node.outputs[0].shape = x.shape
    if x.dtype == np.float32:
        node.beta = np.float32(node.options.get("beta", 1.0))
        node.row = None     # [..., 1] buffer for the row max and sum, made on first use
        return eval_float
    from . import _quantized

    return _quantized.prepare_softmax(node)


def eval_float(node, inputs, outputs):
    x, out = inputs[0], outputs[0]
    row = node.row
    if row is None or row.shape[:-1] != x.shape[:-1]:
        row = node.row = np.empty(x.shape[:-1] + (1,), np.float32)
    # The ufunc reductions straight, into a kept buffer: x.max()/sum() cost a
    # Python wrapper and an allocation each, a good part of a small softmax.
    _max(x, -1, None, row, True)
    np.subtract(x, row, out=out)
    if node.beta != 1:
        out *= node.beta
    np.exp(out, out=out)
    _sum(out, -1, None, row, True)
    np.divide(out, row, out=out)
