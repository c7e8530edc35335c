"""SIN, elementwise (float32; float16 computed in float32 and rounded, as LiteRT)."""
import numpy as np

from ._math_unary import prepare_ufunc


def prepare(node):
    fn = prepare_ufunc(node, np.sin, (np.float32, np.float16))
    return eval_half if node.inputs[0].dtype == np.float16 else fn


def eval_half(node, inputs, outputs):
    outputs[0][...] = np.sin(inputs[0].astype(np.float32))
