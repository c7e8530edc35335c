"""float16 variants of float kernels: LiteRT's half kernels compute each
element in float32 and round the result to half, so the float32 kernel runs on
widened copies and its output is rounded."""
from functools import partial

import numpy as np

F16 = np.dtype(np.float16)


def prepare_via_float32(node, prepare_float32):
    """The float32 kernel's prepare, run with the float16 specs seen as float32;
    returns an eval that widens inputs and rounds outputs."""
    specs = [s for s in list(node.inputs) + list(node.outputs) if s is not None and s.dtype == F16]
    for s in specs:
        s.dtype = np.dtype(np.float32)
    try:
        fn = prepare_float32(node)
    finally:
        for s in specs:
            s.dtype = F16
    return partial(eval_half, fn)


def eval_half(float32_eval, node, inputs, outputs):
    ins = [a.astype(np.float32) if a is not None and a.dtype == F16 else a for a in inputs]
    outs = [np.empty(o.shape, np.float32) if o.dtype == F16 else o for o in outputs]
    float32_eval(node, ins, outs)
    for o, t in zip(outputs, outs):
        if o is not t:
            o[...] = t
