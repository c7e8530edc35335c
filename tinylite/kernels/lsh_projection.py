"""LSH_PROJECTION(hash [num_hash, num_bits] float32, input [n, ...],
weight [n] float32, optional): for every seed of ``hash``, the sign bit of
sum_i weight[i] * Fingerprint64(seed bytes + bytes of input row i) (the
fingerprint as a signed 64-bit int, summed in double; weight 1 without a
weight input).  SPARSE: one int32 per hash row, its bits as a number plus
row * 2**num_bits; DENSE: every bit as an int32.  The input's rows are read
as raw bytes, so any fixed-width input type hashes.  A STRING input hashes as
LiteRT's kernel reads it: its packed buffer (count, offsets, then the strings'
bytes; flatbuffer/strings.py) cut into as many equal pieces as the input has
rows, len(buffer) // rows bytes each, the remainder dropped; so a row is not
one string, and the header's offsets are hashed too."""
from __future__ import annotations

import numpy as np

from ..flatbuffer import strings
from ._farmhash import fingerprint64
from ._base import OpDataBase, op_data


@op_data
class OpData(OpDataBase):
    """What prepare computes for eval."""

    kind: int = None

SPARSE, DENSE = 1, 2


def prepare(node):
    d = node.draft(OpData)
    h, x = node.inputs[0], node.inputs[1]
    w = node.inputs[2] if len(node.inputs) > 2 else None
    node.expect_dtype(h, np.float32)
    if len(h.shape) != 2 or h.shape[1] > 32:
        node.fail(f"hash must be 2-D with at most 32 bits per row, got shape {list(h.shape)}")
    if len(x.shape) < 1 or x.shape[0] < 1:
        node.fail(f"the input needs at least one row, got shape {list(x.shape)}")
    if w is not None:
        node.expect_dtype(w, np.float32)
        if len(w.shape) != 1 or w.shape[0] != x.shape[0]:
            node.fail(f"weight must be 1-D with one value per input row ({x.shape[0]}), got {list(w.shape)}")
    kind = int(node.options.get("type", 0))
    if kind not in (SPARSE, DENSE):
        node.fail(f"type {kind} is neither SPARSE (1) nor DENSE (2)")
    node.expect_dtype(node.outputs[0], np.int32)
    d.kind = kind
    node.outputs[0].shape = (h.shape[0] if kind == SPARSE else h.shape[0] * h.shape[1],)
    return eval_lsh_projection


def _rows(x):
    """The bytes LiteRT hashes for each input row."""
    if x.dtype == np.object_:
        raw = strings.encode(x).tobytes()
        item = len(raw) // x.shape[0]
        return [raw[i * item:(i + 1) * item] for i in range(x.shape[0])]
    return [r.tobytes() for r in np.ascontiguousarray(x).reshape(x.shape[0], -1)]


def _bits(seeds, x, w):
    rows = _rows(x)
    weights = None if w is None else [float(v) for v in w]
    bits = np.zeros(seeds.size, np.int32)
    for k, seed in enumerate(seeds.reshape(-1)):
        key = np.float32(seed).tobytes()
        score = 0.0
        for i, row in enumerate(rows):
            value = float(np.uint64(fingerprint64(key + row)).view(np.int64))
            score += value if weights is None else weights[i] * value
        bits[k] = score > 0
    return bits.reshape(seeds.shape)


def eval_lsh_projection(node, inputs, outputs):
    h, x = inputs[0], inputs[1]
    w = inputs[2] if len(inputs) > 2 else None
    bits = _bits(h, x, w)
    if node.data.kind == DENSE:
        outputs[0][...] = bits.reshape(-1)
        return
    num_bits = h.shape[1]
    value = np.zeros(h.shape[0], np.int64)
    for j in range(num_bits):
        value = (value << 1) | bits[:, j]
    # int32 arithmetic as in LiteRT: the bits shifted and the row's offset added wrap at 2**32.
    value = value + np.arange(h.shape[0], dtype=np.int64) * (1 << num_bits)
    outputs[0][...] = ((value + 2**31) % 2**32 - 2**31).astype(np.int32)
