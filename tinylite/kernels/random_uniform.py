"""RANDOM_UNIFORM(shape int32 [rank]): float32 numbers in [0, 1) of that
shape from TensorFlow's Philox stream seeded by (seed, seed2), one word per
number; the stream is set up at prepare and goes on across invokes, as in
LiteRT, so a fixed non-zero seed gives LiteRT's numbers bit for bit.  Seeds
(0, 0) draw a fresh seed from the OS, as LiteRT does."""

from ._random import prepare_random, uint32_to_float

FOLDABLE = False


def prepare(node):
    prepare_random(node)
    return eval_uniform


def eval_uniform(node, inputs, outputs):
    out = outputs[0]
    words = node.data.stream.words(-(-out.size // 4)).reshape(-1)[:out.size]
    out[...] = uint32_to_float(words).reshape(out.shape)
