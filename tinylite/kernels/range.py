"""RANGE(start, limit, delta): start, start + delta, ... up to (excluding)
limit; scalar inputs of one type (int32, int64, float32).  The output length
depends on the values, so it is known at invoke unless all three are constant."""
import numpy as np


def prepare(node):
    start, limit, delta = node.inputs[:3]
    node.expect_dtype(start, np.int32, np.int64, np.float32)
    for spec in (limit, delta, node.outputs[0]):
        if spec.dtype != start.dtype:
            node.fail(f"start, limit, delta and the output need one type, got {spec.dtype.name} "
                      f"for {spec.name!r} and {start.dtype.name} for start")
    s, l, d = (np.asarray(node.value(i)).reshape(-1)[0] for i in range(3))
    node.outputs[0].shape = (_length(node, s, l, d),)
    return eval_range


def _length(node, start, limit, delta):
    if delta == 0:
        node.fail("delta must not be 0")
    if (start > limit and delta > 0) or (start < limit and delta < 0):
        node.fail(f"start {start} and limit {limit} run against delta {delta}")
    if np.asarray(start).dtype.kind == "f":
        f32 = np.float32
        return int(np.ceil(np.abs((f32(limit) - f32(start)) / f32(delta))))
    # LiteRT: ceil(|limit - start| / |delta|) in integer arithmetic.
    span, step = abs(int(limit) - int(start)), abs(int(delta))
    return (span + step - 1) // step


def eval_range(node, inputs, outputs):
    start, delta = inputs[0].reshape(-1)[0], inputs[2].reshape(-1)[0]
    out = outputs[0]
    if out.dtype.kind == "f":
        # LiteRT accumulates: value += delta (float32), not start + i * delta.
        v = np.float32(start)
        for i in range(out.size):
            out[i] = v
            v = np.float32(v + delta)
    else:
        out[...] = start + np.arange(out.size, dtype=out.dtype) * delta
