"""The counter-based generators LiteRT's random ops draw from: Philox4x32-10
(TensorFlow's PhiloxRandom and StableHLO's philox) and Threefry2x32-20, and
TensorFlow's conversions of their 32-bit words to floats.  Integer
arithmetic, so the same seed gives LiteRT's numbers bit for bit; the
Box-Muller transform's log, sqrt and sincos are taken in double and rounded
to float32 each, where LiteRT calls the float32 libm functions."""
from __future__ import annotations

import os

import numpy as np
from ._base import OpDataBase, op_data


@op_data
class RandomData(OpDataBase):
    """The fields this module's helpers fill on behalf of an op."""

    stream: PhiloxStream = None

U32 = np.uint64(0xFFFFFFFF)
PHILOX_A, PHILOX_B = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
PHILOX_W_A, PHILOX_W_B = 0x9E3779B9, 0xBB67AE85
THREEFRY_PARITY = 0x1BD11BDA


def counters(ctr: list[int], n: int, carry_words: int) -> np.ndarray:
    """n consecutive 4- (or 2-) word counters from ``ctr`` (words, low first):
    the low 64 bits count up; with carry_words 4 the carry goes on into the
    high 64 bits (TensorFlow's 128-bit counter), with 2 it is lost (StableHLO's
    rng_bit_generator increments only its first two words)."""
    words = len(ctr)
    start = np.uint64(ctr[0] | (ctr[1] << 32))
    with np.errstate(over="ignore"):
        low = start + np.arange(n, dtype=np.uint64)          # wraps at 2**64
    out = np.empty((n, words), np.uint64)
    out[:, 0] = low & U32
    out[:, 1] = low >> np.uint64(32)
    if words == 4:
        high = np.full(n, np.uint64(ctr[2] | (ctr[3] << 32)))
        if carry_words == 4:
            with np.errstate(over="ignore"):
                high = high + (low < start).astype(np.uint64)
        out[:, 2] = high & U32
        out[:, 3] = high >> np.uint64(32)
    return out


def philox(key0: int, key1: int, ctr: np.ndarray) -> np.ndarray:
    """Philox4x32 with 10 rounds of each row of ctr ((n, 4) words in uint64)."""
    c = [ctr[:, k].copy() for k in range(4)]
    k0, k1 = np.uint64(key0), np.uint64(key1)
    for _ in range(10):
        p0 = PHILOX_A * c[0]
        p1 = PHILOX_B * c[2]
        c = [(p1 >> np.uint64(32)) ^ c[1] ^ k0, p1 & U32, (p0 >> np.uint64(32)) ^ c[3] ^ k1, p0 & U32]
        k0 = np.uint64((int(k0) + PHILOX_W_A) & 0xFFFFFFFF)
        k1 = np.uint64((int(k1) + PHILOX_W_B) & 0xFFFFFFFF)
    return np.stack(c, axis=1).astype(np.uint32)


def threefry(key0: int, key1: int, ctr: np.ndarray) -> np.ndarray:
    """Threefry2x32 with 20 rounds of each row of ctr ((n, 2) words in uint64)."""
    key2 = key0 ^ key1 ^ THREEFRY_PARITY
    ks = [np.uint64(key0), np.uint64(key1), np.uint64(key2)]
    rotations = ((13, 15, 26, 6), (17, 29, 16, 24))
    x0 = (ctr[:, 0] + ks[0]) & U32
    x1 = (ctr[:, 1] + ks[1]) & U32
    for b, (r, a0, a1) in enumerate(((0, 1, 2), (1, 2, 0), (0, 0, 1), (1, 1, 2), (0, 2, 0)), start=1):
        for rot in rotations[r]:
            x0 = (x0 + x1) & U32
            x1 = ((x1 << np.uint64(rot)) | (x1 >> np.uint64(32 - rot))) & U32
            x1 ^= x0
        x0 = (x0 + ks[a0]) & U32
        x1 = (x1 + ks[a1] + np.uint64(b)) & U32
    return np.stack([x0, x1], axis=1).astype(np.uint32)


class PhiloxStream:
    """TensorFlow's PhiloxRandom(seed, seed2): 4 words per call, the 128-bit
    counter advancing by one each call (Skip advances it by many)."""

    def __init__(self, seed: int, seed2: int):
        # LiteRT keeps the options' int64 seeds in int fields: only their low 32 bits count, sign-extended.
        seed, seed2 = (((s + 2**31) % 2**32) - 2**31 for s in (seed, seed2))
        if seed == 0 and seed2 == 0:
            # LiteRT seeds from /dev/urandom then: no two runs agree.
            seed, seed2 = (int.from_bytes(os.urandom(8), "little") for _ in range(2))
        seed, seed2 = seed & ((1 << 64) - 1), seed2 & ((1 << 64) - 1)
        self.key = (seed & 0xFFFFFFFF, seed >> 32)
        self.counter = seed2 << 64            # words 0, 1 zero; words 2, 3 from seed2

    def copy(self):
        other = PhiloxStream.__new__(PhiloxStream)
        other.key, other.counter = self.key, self.counter
        return other

    def skip(self, count: int):
        self.counter = (self.counter + count) % (1 << 128)

    def words(self, calls: int) -> np.ndarray:
        """The words of the next ``calls`` calls, shape (calls, 4)."""
        c = self.counter
        ctr = [(c >> (32 * k)) & 0xFFFFFFFF for k in range(4)]
        out = philox(*self.key, counters(ctr, calls, 4))
        self.skip(calls)
        return out


def uint32_to_float(x: np.ndarray) -> np.ndarray:
    """A float in [0, 1) from the low 23 bits of each word (TensorFlow's Uint32ToFloat)."""
    bits = (np.uint32(127) << np.uint32(23)) | (x.astype(np.uint32) & np.uint32(0x7FFFFF))
    return bits.view(np.float32) - np.float32(1.0)


def uint64_to_double(x0: np.ndarray, x1: np.ndarray) -> np.ndarray:
    """A double in [0, 1) from 20 bits of x0 and all of x1 (TensorFlow's Uint64ToDouble)."""
    man = ((x0.astype(np.uint64) & np.uint64(0xFFFFF)) << np.uint64(32)) | x1.astype(np.uint64)
    return (np.uint64(1023 << 52) | man).view(np.float64) - 1.0


def box_muller(x0: np.ndarray, x1: np.ndarray):
    """Two standard normal float32s from two words each (TensorFlow's BoxMullerFloat)."""
    u1 = np.maximum(uint32_to_float(x0), np.float32(1.0e-7))
    v1 = (2.0 * np.pi * uint32_to_float(x1).astype(np.float64)).astype(np.float32)
    log = np.log(u1.astype(np.float64)).astype(np.float32)
    u2 = np.sqrt(np.float32(-2.0) * log)
    v = v1.astype(np.float64)
    return np.sin(v).astype(np.float32) * u2, np.cos(v).astype(np.float32) * u2


def stream(node) -> PhiloxStream:
    """The node's Philox stream: made at its first prepare, kept by the runner across
    re-prepares (a dynamic shape, allocate_tensors again) until an input is resized."""
    state = node.runner.op_state
    if node.index not in state:
        state[node.index] = PhiloxStream(int(node.options.get("seed", 0)), int(node.options.get("seed2", 0)))
    return state[node.index]


def prepare_random(node):
    """What RANDOM_UNIFORM and RANDOM_STANDARD_NORMAL share: the shape input, the float32
    output and the stream (set up once; a re-prepare for a new shape keeps it going)."""
    od = node.draft(RandomData)
    shape = node.inputs[0]
    node.expect_dtype(shape, np.int32)
    if len(shape.shape) != 1:
        node.fail(f"the shape input must be 1-D, got shape {list(shape.shape)}")
    node.expect_dtype(node.outputs[0], np.float32)
    od.stream = stream(node)
    dims = [int(d) for d in np.asarray(node.value(0)).reshape(-1)]
    if min(dims, default=0) < 0:
        node.fail(f"the shape {dims} has a negative dimension")
    node.outputs[0].shape = tuple(dims)
