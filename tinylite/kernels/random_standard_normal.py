"""RANDOM_STANDARD_NORMAL(shape int32 [rank]): float32 standard normal
numbers from TensorFlow's Philox stream seeded by (seed, seed2), two words
per pair of numbers by Box-Muller (see _random); the stream goes on across
invokes as in LiteRT, and seeds (0, 0) draw a fresh seed from the OS."""
import numpy as np

from ._random import box_muller, prepare_random

FOLDABLE = False


def prepare(node):
    prepare_random(node)
    return eval_normal


def eval_normal(node, inputs, outputs):
    out = outputs[0]
    words = node.data.stream.words(-(-out.size // 4))
    f0, f1 = box_muller(words[:, 0::2].reshape(-1), words[:, 1::2].reshape(-1))
    pairs = np.stack([f0, f1], axis=1).reshape(-1)
    out[...] = pairs[:out.size].reshape(out.shape)
