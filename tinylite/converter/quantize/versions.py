"""Operator versions and `min_runtime_version` of quantized models, as
TensorFlow's converter writes them: converter/versions.py handles the float
and int8 cases; this adds the hybrid kernels (dynamic range), QUANTIZE and
DEQUANTIZE, and gives 16x8 ops the versions TensorFlow 2.21 writes (the int8
ones: its 16x8 files carry CONV_2D v3, FULLY_CONNECTED v4, SOFTMAX v2, ...)."""
from __future__ import annotations

import copy

from ...flatbuffer.schema import OP_NAMES, TENSOR_TYPE_NAMES
from .. import versions as base

# Releases of the versions converter/versions.py does not list.
_MORE_RUNTIME = {
    "FULLY_CONNECTED": {10: "2.11.0", 11: "2.15.0", 12: "2.17.0"},
    "QUANTIZE": {1: "1.14.0", 2: "1.15.0", 3: "2.7.0"},
    "DEQUANTIZE": {1: "1.13.1", 2: "1.14.0", 3: "1.15.0", 4: "2.2.0"},
    "UNIDIRECTIONAL_SEQUENCE_LSTM": {1: "1.13.1", 2: "1.14.0", 3: "2.3.0"},
    "FILL": {1: "1.13.0", 2: "2.3.0", 3: "2.5.0"},
    "REVERSE_V2": {1: "1.14.0", 2: "2.2.0", 3: "2.5.0"},
}


def _type(sg, i):
    return TENSOR_TYPE_NAMES.get(sg.tensors[i].type, "") if i >= 0 else ""


def op_version(model, sg, op) -> int:
    name = OP_NAMES.get(model.operator_codes[op.opcode_index].builtin_code, "")
    t0 = _type(sg, op.inputs[0]) if op.inputs else ""
    t1 = _type(sg, op.inputs[1]) if len(op.inputs) > 1 else ""
    if name == "QUANTIZE":
        return 1 if t0 == "FLOAT32" else 2
    if name == "DEQUANTIZE":
        return 3 if t0 == "FLOAT16" else 2 if t0 in ("INT8", "INT16") else 1
    if name == "FILL":
        tv = _type(sg, op.inputs[1]) if len(op.inputs) > 1 else ""
        return 3 if tv in ("INT8", "INT16") else 2 if tv in ("BOOL", "STRING") else 1
    if name == "REVERSE_V2":
        return 3 if t0 == "INT8" else 2 if t0 == "BOOL" else 1
    if name == "UNIDIRECTIONAL_SEQUENCE_LSTM":
        t2 = _type(sg, op.inputs[2]) if len(op.inputs) > 2 else ""
        if t0 == "FLOAT32" and t2 == "INT8":
            return 3 if (op.builtin_options or {}).get("asymmetric_quantize_inputs") else 2
        return 1              # float, and TFLite's integer (int8) LSTM too
    hybrid = t0 == "FLOAT32" and t1 == "INT8"
    if hybrid:
        q = sg.tensors[op.inputs[1]].quantization
        per_channel = q is not None and q.scale is not None and len(q.scale) > 1
        opts = op.builtin_options or {}
        if name == "CONV_2D":
            return 5 if per_channel else 2
        if name == "FULLY_CONNECTED":
            return 12 if per_channel else 9 if opts.get("asymmetric_quantize_inputs") else 3
        if name == "DEPTHWISE_CONV_2D":
            return 6 if per_channel else 4
        if name == "BATCH_MATMUL":
            return 4
    if t0 == "INT16":
        # TensorFlow 2.21 versions 16x8 ops as their int8 forms.
        view = copy.copy(sg)
        view.tensors = [copy.copy(t) for t in sg.tensors]
        for t in view.tensors:
            if TENSOR_TYPE_NAMES.get(t.type) == "INT16":
                t.type = next(k for k, v in TENSOR_TYPE_NAMES.items() if v == "INT8")
        return base.op_version(model, view, op)
    return base.op_version(model, sg, op)


def set_versions(model) -> None:
    base.set_versions(model, op_version)


def runtime_version_bytes(model) -> bytes:
    best = ""
    for code in model.operator_codes:
        name = OP_NAMES.get(code.builtin_code, "")
        v = _MORE_RUNTIME.get(name, {}).get(code.version) or base.min_runtime_version([(name, code.version)])
        if v and (not best or base._key(v) > base._key(best)):
            best = v
    return best.encode().ljust(16, b"\0")[:16]


def finish(model) -> None:
    """Set versions and rewrite the min_runtime_version metadata."""
    set_versions(model)
    data = runtime_version_bytes(model)
    import numpy as np

    for md in model.metadata:
        if md.name == "min_runtime_version":
            md.buffer = model.add_buffer(np.frombuffer(data, np.uint8))
            break
    else:
        from ...graph import Metadata

        model.metadata.append(Metadata("min_runtime_version", model.add_buffer(np.frombuffer(data, np.uint8))))
