"""Which ops' float results a hybrid (dynamic-range) op quantizes.

A hybrid op (float activations, integer weights) quantizes its float input at
run time from that input's own range, so its output moves by a quantization
step when an earlier float op differs from LiteRT's in the last bit.  The ops
found here (every op from whose outputs such an input is computed) sum in
LiteRT's order (kernels/_litert_order.py); the others keep the faster kernels.

>>> import numpy as np
>>> from tinylite.testing import chain_model
>>> from tinylite.flatbuffer.reader import parse
>>> content = chain_model(("x", [1, 4]), [
...     ("RELU", [], ("r", [1, 4]), None),
...     ("FULLY_CONNECTED", [dict(name="w", data=np.ones((2, 4), np.int8), quantization=([0.5], [0])), None],
...      ("y", [1, 2]), None)])
>>> model = parse(content)
>>> sorted(feeding_hybrid_ops(model, model.subgraphs[0]))
[0]
"""
from __future__ import annotations

# Ops that quantize a float input at run time when their weights are integers.
HYBRID_OPS = frozenset({
    "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "BATCH_MATMUL", "SVDF", "RNN", "LSTM",
    "UNIDIRECTIONAL_SEQUENCE_RNN", "BIDIRECTIONAL_SEQUENCE_RNN", "UNIDIRECTIONAL_SEQUENCE_LSTM",
    "BIDIRECTIONAL_SEQUENCE_LSTM"})
_FLOAT32 = 0
_INTEGER_WEIGHTS = (3, 9, 17)          # UINT8, INT8, INT4 (schema TensorType)


def feeding_hybrid_ops(model, sg) -> set[int]:
    """Indices of the ops of subgraph `sg` whose outputs reach, through any ops, the
    float input of a hybrid op."""
    producer = {t: k for k, op in enumerate(sg.operators) for t in op.outputs}
    pending = []
    for op in sg.operators:
        if model.op_name(op) not in HYBRID_OPS:
            continue
        ins = [i for i in op.inputs if i >= 0]
        if not ins or sg.tensors[ins[0]].type != _FLOAT32:
            continue
        if any(sg.tensors[i].type in _INTEGER_WEIGHTS and model.buffer_array(sg.tensors[i]) is not None for i in ins[1:]):
            pending += [i for i in ins if sg.tensors[i].type == _FLOAT32]
    found: set[int] = set()
    seen: set[int] = set()
    while pending:
        t = pending.pop()
        if t in seen:
            continue
        seen.add(t)
        k = producer.get(t)
        if k is not None and k not in found:
            found.add(k)
            pending += [i for i in sg.operators[k].inputs if i >= 0]
    return found
