"""Fuse RELU, RELU6 and RELU_N1_TO_1 into the operator before them when that op's
LiteRT kernel applies a fused activation (as TensorFlow's converter does).

The schema gives more ops a fused_activation_function option than LiteRT's kernels
honour: CONCATENATION's and L2_NORMALIZATION's prepare reject anything but NONE,
so a file fused there fails to load.  _FUSES_INTO lists only ops whose kernels
(float path) apply the activation; tests/converter/test_fuse_activation.py loads
each fusion in LiteRT."""
from __future__ import annotations

from ...flatbuffer.schema import ACTIVATIONS
from ._graph import NONE, consumers, op_name

_ACTIVATIONS = {"RELU": ACTIVATIONS["RELU"], "RELU6": ACTIVATIONS["RELU6"], "RELU_N1_TO_1": ACTIVATIONS["RELU_N1_TO_1"]}
_FUSES_INTO = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "SUB", "MUL", "DIV",
               "MAX_POOL_2D", "AVERAGE_POOL_2D"}


def run(model) -> None:
    for sg in model.subgraphs:
        users = consumers(sg)
        produced = {o: op for op in sg.operators for o in op.outputs}
        removed = set()
        for act in sg.operators:
            kind = op_name(model, act)
            if kind not in _ACTIVATIONS or not act.inputs:
                continue
            src = act.inputs[0]
            prev = produced.get(src)
            if prev is None or id(prev) in removed or op_name(model, prev) not in _FUSES_INTO:
                continue
            options = prev.builtin_options
            if options is None or "fused_activation_function" not in options \
                    or options["fused_activation_function"] != NONE:
                continue
            if len(users.get(src, [])) != 1 or src in sg.outputs or len(prev.outputs) != 1:
                continue
            if sg.tensors[src].type != 0:          # float only: quantized fusion changes ranges
                continue
            options["fused_activation_function"] = _ACTIVATIONS[kind]
            prev.outputs = [act.outputs[0]]
            produced[act.outputs[0]] = prev
            removed.add(id(act))
        sg.operators = [op for op in sg.operators if id(op) not in removed]
