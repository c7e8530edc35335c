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


# Float ops whose fused activation (RELU, RELU6) clamps their output at 0 below, as tinylite's
# kernels and LiteRT's apply it; and the ops that are such a clamp.
_FUSED_CLAMP_OPS = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "SUB", "MUL",
                              "AVERAGE_POOL_2D", "MAX_POOL_2D"})
_CLAMP_OPS = frozenset({"RELU", "RELU6", "RELU_0_TO_1"})
_CLAMPS_AT_ZERO = (1, 3)               # ActivationFunctionType RELU, RELU6


def non_negative_tensors(model, sg) -> set[int]:
    """Indices of the float32 tensors of subgraph `sg` whose every value is >= 0 or NaN:
    the outputs of a RELU, RELU6 or RELU_0_TO_1, or of an op above with a fused RELU or
    RELU6 (not a subgraph input or a variable, which something else may write).  A hybrid
    op's run-time quantization then needs only its input's maximum (optimized/_hybrid).

    >>> import numpy as np
    >>> from tinylite.testing import chain_model
    >>> from tinylite.flatbuffer.reader import parse
    >>> content = chain_model(("x", [1, 4]), [("RELU", [], ("r", [1, 4]), None), ("TANH", [], ("t", [1, 4]), None)])
    >>> model = parse(content)
    >>> sg = model.subgraphs[0]
    >>> sorted(sg.tensors[i].name for i in non_negative_tensors(model, sg))
    ['r']
    """
    outside = set(sg.inputs) | {i for i, t in enumerate(sg.tensors) if t.is_variable}
    found = set()
    for op in sg.operators:
        name = model.op_name(op)
        if name in _CLAMP_OPS:
            pass
        elif name in _FUSED_CLAMP_OPS:
            options = op.builtin_options if isinstance(op.builtin_options, dict) else {}
            if options.get("fused_activation_function") not in _CLAMPS_AT_ZERO:
                continue
        else:
            continue
        found.update(t for t in op.outputs[:1] if t >= 0 and t not in outside and sg.tensors[t].type == _FLOAT32)
    return found
