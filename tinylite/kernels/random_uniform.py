"""RANDOM_UNIFORM(shape int32 [rank]): float32 numbers in [0, 1) of that
shape from TensorFlow's Philox stream seeded by (seed, seed2), one word per
number; the stream is set up at prepare and goes on across invokes, as in
LiteRT, so a fixed non-zero seed gives LiteRT's numbers bit for bit.  Seeds
(0, 0) draw a fresh seed from the OS, as LiteRT does."""
import numpy as np

from ._random import PhiloxStream, uint32_to_float

FOLDABLE = False


def prepare_random(node):
    shape = node.inputs[0]
    node.expect_dtype(shape, np.int32)
    if len(shape.shape) != 1:
        node.fail(f"the shape input must be 1-D, got shape {list(shape.shape)}")
    node.expect_dtype(node.outputs[0], np.float32)
    if getattr(node, "stream", None) is None:      # a re-prepare for a new shape keeps the stream going
        node.stream = PhiloxStream(int(node.options.get("seed", 0)), int(node.options.get("seed2", 0)))
    dims = [int(d) for d in np.asarray(node.value(0)).reshape(-1)]
    if min(dims, default=0) < 0:
        node.fail(f"the shape {dims} has a negative dimension")
    node.outputs[0].shape = tuple(dims)


def prepare(node):
    prepare_random(node)
    return eval_uniform


def eval_uniform(node, inputs, outputs):
    out = outputs[0]
    words = node.stream.words(-(-out.size // 4)).reshape(-1)[:out.size]
    out[...] = uint32_to_float(words).reshape(out.shape)
