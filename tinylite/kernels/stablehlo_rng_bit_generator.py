"""STABLEHLO_RNG_BIT_GENERATOR(initial_state uint64 [2] or [3]): (the new
state, the output filled with random bits) as LiteRT computes them: the
state's 32-bit words give the key (words 0, 1) and the counter (words 2, 3
and, for philox, 4, 5 of a 3-element state or else 0, 1 again); each block
of Philox4x32-10 (algorithm DEFAULT or PHILOX) or Threefry2x32-20 (THREEFRY,
2-element state) fills the output's 32-bit words in order, and the counter's
low 64 bits advance by one per block.  int32, int64, uint32 or uint64 output."""
from __future__ import annotations

import numpy as np

from ._random import counters, philox, threefry
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What prepare computes for eval."""

    algorithm: int = None

DEFAULT, PHILOX, THREEFRY = 0, 1, 2


def prepare(node):
    od = node.draft(OpData)
    state, new_state, out = node.inputs[0], node.outputs[0], node.outputs[1]
    node.expect_dtype(state, np.uint64)
    node.expect_dtype(new_state, np.uint64)
    node.expect_dtype(out, np.int32, np.int64, np.uint32, np.uint64)
    algorithm = int(node.options.get("algorithm", DEFAULT))
    if algorithm not in (DEFAULT, PHILOX, THREEFRY):
        node.fail(f"algorithm {algorithm} is not DEFAULT (0), PHILOX (1) or THREEFRY (2)")
    sizes = (2,) if algorithm == THREEFRY else (2, 3)
    if len(state.shape) != 1 or state.shape[0] not in sizes:
        node.fail(f"a {('DEFAULT', 'PHILOX', 'THREEFRY')[algorithm]} state has {' or '.join(map(str, sizes))} "
                  f"uint64 values, got shape {list(state.shape)}")
    if out.shape is None or any(d is None or int(d) < 0 for d in out.shape):
        node.fail("the output's shape must be given in the model (LiteRT takes it from there)")
    od.algorithm = algorithm
    new_state.shape = tuple(state.shape)
    out.shape = tuple(int(d) for d in out.shape)
    return eval_rng


def eval_rng(node, inputs, outputs):
    state = inputs[0].astype(np.uint64)
    new_state, out = outputs
    words = [int(w) for w in state.view(np.uint32)]
    count = out.size * out.dtype.itemsize // 4
    if node.data.algorithm == THREEFRY:
        ctr, width, fn = [words[2], words[3]], 2, threefry
    else:
        ctr, width = [words[2], words[3]] + (words[4:6] if len(words) == 6 else words[0:2]), 4
        fn = philox
    blocks = -(-count // width)
    bits = fn(words[0], words[1], counters(ctr, blocks, 2)).reshape(-1)[:count] if blocks else np.zeros(0, np.uint32)
    out[...] = np.ascontiguousarray(bits).view(out.dtype).reshape(out.shape)
    low = ((ctr[0] | (ctr[1] << 32)) + blocks) & ((1 << 64) - 1)
    result = np.array(words, np.uint32)
    result[2], result[3] = low & 0xFFFFFFFF, low >> 32
    new_state[...] = result.view(np.uint64)
