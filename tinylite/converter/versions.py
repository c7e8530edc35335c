"""Operator versions and the model's minimum runtime version, as TensorFlow's
converter computes them (tflite/tools/versioning): an op's version is the
lowest kernel version that supports its types and options."""
from __future__ import annotations

from ..flatbuffer.schema import OP_NAMES, TENSOR_TYPE_NAMES

# (op, version) -> the first TFLite runtime release that runs it.
_RUNTIME = {
    "AVERAGE_POOL_2D": ["1.5.0", "1.14.0", "2.3.0"],
    "BATCH_MATMUL": ["2.3.0", "2.3.0", "2.4.0", "2.5.0"],
    "CONV_2D": ["1.5.0", "1.14.0", "1.14.0", "2.3.0", "2.4.0", "2.9.0"],
    "DEPTHWISE_CONV_2D": ["1.5.0", "1.12.0", "1.14.0", "2.2.0", "2.3.0", "2.3.0"],
    "ADD": ["1.5.0", "1.14.0", "2.4.0", "2.6.0"],
    "ADD_N": ["1.14.0"],
    "BROADCAST_TO": ["2.5.0", "2.5.0", "2.5.0"],     # version 1 was never registered (see op_version)
    "SPACE_TO_BATCH_ND": ["1.6.0", "1.14.0", "2.3.0"],
    "SUB": ["1.6.0", "1.14.0", "2.3.0", "2.4.0", "2.4.0"],
    "DIV": ["1.6.0", "2.3.0"],
    "BATCH_TO_SPACE_ND": ["1.6.0", "1.14.0", "2.3.0"],
    "CAST": ["1.5.0", "2.7.0", "2.8.0", "2.9.0"],
    "CONCATENATION": ["1.5.0", "1.14.0", "2.3.0"],
    "DEPTH_TO_SPACE": ["2.1.0", "2.5.0"],
    "FULLY_CONNECTED": ["1.5.0", "1.10.0", "1.14.0", "1.14.0", "2.0.0", "2.1.0", "2.3.0", "2.3.0", "2.3.0"],
    "GATHER": ["1.6.0", "1.14.0", "1.15.0", "2.4.0", "2.5.0"],
    "L2_NORMALIZATION": ["1.5.0", "1.14.0"],
    "MAX_POOL_2D": ["1.5.0", "1.14.0", "2.3.0"],
    "MAXIMUM": ["1.14.0", "1.14.0", "2.3.0", "2.3.0"],
    "MINIMUM": ["1.14.0", "1.14.0", "2.3.0", "2.3.0"],
    "MUL": ["1.5.0", "1.14.0", "1.15.0", "2.3.0", "2.6.0"],
    "PAD": ["1.5.0", "1.14.0", "2.4.0", "2.6.0"],
    "TILE": ["1.10.1", "2.2.0", "2.8.0"],
    "PADV2": ["1.9.0", "1.14.0", "2.4.0", "2.6.0"],
    "RESHAPE": ["1.5.0"],
    "SOFTMAX": ["1.5.0", "1.14.0", "2.3.0"],
    "SPACE_TO_DEPTH": ["1.5.0", "1.14.0"],
    "TRANSPOSE": ["1.6.0", "1.14.0", "1.15.0", "2.3.0", "2.4.0"],
    "MEAN": ["1.6.0", "1.14.0", "2.4.0"],
    "SUM": ["1.10.0", "1.15.0"],
    "REDUCE_MAX": ["1.11.0", "1.14.0", "2.5.0"],
    "REDUCE_MIN": ["1.11.0", "1.14.0", "2.5.0"],
    "RELU6": ["1.5.0", "1.14.0", "2.5.0"],
    "RESIZE_BILINEAR": ["1.7.0", "1.14.0", "2.2.0", "2.5.0"],
    "RESIZE_NEAREST_NEIGHBOR": ["1.13.1", "1.14.0", "2.3.0", "2.4.0"],
    "SQUEEZE": ["1.6.0", "2.5.0"],
    "SPLIT": ["1.5.0", "1.14.0", "1.14.0", "2.3.0"],
    "SPLIT_V": ["1.13.1", "2.3.0"],
    "STRIDED_SLICE": ["1.6.0", "1.14.0", "2.1.0", "2.2.0", "2.5.0", "2.6.0"],
    "TRANSPOSE_CONV": ["1.9.0", "2.2.0", "2.3.0"],
    "EXPAND_DIMS": ["1.10.0"],
    "PACK": ["1.11.0", "1.14.0", "2.3.0"],
    "SHAPE": ["1.10.0"],
    "SLICE": ["1.14.0", "1.14.0", "1.14.0", "2.4.0", "2.5.0"],
    "TANH": ["1.14.0", "1.14.0", "2.3.0"],
    "LEAKY_RELU": ["1.13.1", "2.3.0"],
    "LOGISTIC": ["1.14.0", "1.14.0", "2.3.0"],
    "LOG_SOFTMAX": ["1.14.0", "1.14.0"],
    "SQUARED_DIFFERENCE": ["1.13.1", "2.5.0"],
    "MIRROR_PAD": ["1.13.1", "2.3.0"],
    "ELU": ["1.14.0"],
    "RELU": ["1.5.0", "2.1.0", "2.5.0"],
    "RELU_N1_TO_1": ["1.5.0"],
    "PRELU": ["1.8.0"],
    "EXP": ["1.7.0"],
    "NEG": ["1.9.0"],
    "LOG": ["1.14.0"],
    "SQRT": ["1.10.0"],
    "RSQRT": ["1.10.0", "2.5.0"],
    "SQUARE": ["1.12.0"],
    "ABS": ["1.13.0", "2.4.0", "2.5.0", "2.6.0"],
    "HARD_SWISH": ["1.15.0"],
    "GELU": ["2.9.0", "2.9.0"],
}


def min_runtime_version(versions) -> str:
    """The highest runtime release any of the (op name, version) pairs needs."""
    best = ""
    for name, version in versions:
        table = _RUNTIME.get(name)
        if not table or not 1 <= version <= len(table):
            continue
        v = table[version - 1]
        if not best or _key(v) > _key(best):
            best = v
    return best


def _key(v: str):
    return tuple(int(p) for p in v.split("."))


def _type(t) -> str:
    return TENSOR_TYPE_NAMES.get(t.type, "") if t is not None else ""


def op_version(model, sg, op) -> int:
    """The version TensorFlow's converter gives this operator (float, int32 and
    int8 cases; quantization-specific versions are the quantizer's job)."""
    name = OP_NAMES.get(model.operator_codes[op.opcode_index].builtin_code, "")
    ins = [sg.tensors[i] if i >= 0 else None for i in op.inputs]
    outs = [sg.tensors[i] for i in op.outputs]
    t0 = _type(ins[0]) if ins else ""
    rank0 = len(ins[0].shape) if ins and ins[0] is not None else 0
    opts = op.builtin_options or {}
    int8 = 2 if t0 == "INT8" else 1

    if name == "CONV_2D":
        if ins[1] is not None and ins[0].shape[-1] != ins[1].shape[-1]:
            return 6                                   # grouped convolution
        return 3 if t0 == "INT8" else 1
    if name == "DEPTHWISE_CONV_2D":
        if t0 == "INT8":
            return 3
        return 2 if opts.get("dilation_w_factor", 1) != 1 or opts.get("dilation_h_factor", 1) != 1 else 1
    if name == "FULLY_CONNECTED":
        if len(op.inputs) == 2:
            return 6
        if opts.get("keep_num_dims"):
            return 5
        return 4 if t0 == "INT8" else 1
    if name == "TRANSPOSE_CONV":
        if opts.get("fused_activation_function"):
            return 4
        if len(op.inputs) == 4 and op.inputs[3] >= 0:
            return 3
        return 2 if _type(ins[1]) == "INT8" else 1
    if name == "TRANSPOSE":
        if rank0 > 5:
            return 6
        if rank0 > 4:
            return 4
        return 3 if t0 == "BOOL" else int8
    if name in ("PAD", "PADV2"):
        return 4 if rank0 > 4 else int8
    if name == "SLICE":
        return 5 if rank0 > 4 else int8
    if name == "STRIDED_SLICE":
        if opts.get("offset"):
            return 8
        if opts.get("ellipsis_mask") or opts.get("new_axis_mask"):
            return 6
        if rank0 > 4:
            return 4
        return 3 if t0 == "BOOL" else int8
    if name in ("MAXIMUM", "MINIMUM", "SUB", "DIV"):
        if name == "SUB" and t0 == "INT64":
            return 4
        broadcast = len(ins) > 1 and ins[1] is not None and list(ins[0].shape) != list(ins[1].shape)
        if broadcast and max(len(t.shape) for t in ins if t is not None) > 4:
            return 2 if name == "DIV" else 3
        return 1 if name == "DIV" else int8
    if name == "ADD":
        return 4 if t0 == "INT64" else int8
    if name == "MUL":
        return 5 if t0 == "INT64" else int8
    if name == "RESIZE_BILINEAR":
        return 3 if opts.get("half_pixel_centers") else int8
    if name == "RESIZE_NEAREST_NEIGHBOR":
        return 3 if opts.get("half_pixel_centers") or opts.get("align_corners") else int8
    if name in ("SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND"):
        return 3 if rank0 != 4 else int8
    if name == "GATHER":
        if opts.get("batch_dims"):
            return 5
        return 3 if t0 == "BOOL" else int8
    if name == "CAST":
        types = {t0, _type(outs[0])}
        if types & {"FLOAT64", "FLOAT16"}:
            return 5
        if "UINT16" in types:
            return 4
        if "INT8" in types:
            return 3
        return 2 if "UINT32" in types else 1
    if name == "BROADCAST_TO":
        # LiteRT registers versions 2 to 4 only (version 1 was never a kernel).
        return 3 if t0 in ("INT8", "INT16") else 2
    if name == "TILE":
        return 3 if t0 == "INT8" else 2 if t0 == "STRING" else 1
    if name == "PACK":
        return int8
    if name in ("MAX_POOL_2D", "AVERAGE_POOL_2D", "TANH", "LOGISTIC", "CONCATENATION", "SOFTMAX", "MEAN",
                "MIRROR_PAD", "REDUCE_MAX", "REDUCE_MIN", "RELU6", "RSQRT", "SPACE_TO_DEPTH", "SUM",
                "LOG_SOFTMAX", "SQUARED_DIFFERENCE", "DEPTH_TO_SPACE", "EXP", "LOG", "SQRT", "RELU",
                "L2_NORMALIZATION", "SPLIT", "SPLIT_V", "ARG_MAX", "ARG_MIN", "GELU", "BATCH_MATMUL"):
        return int8
    return 1


def set_versions(model, version_of=None) -> None:
    """Give every operator code the highest version its uses need
    (`version_of(model, subgraph, op)`, by default `op_version`)."""
    version_of = version_of or op_version
    need = [1] * len(model.operator_codes)
    for sg in model.subgraphs:
        for op in sg.operators:
            need[op.opcode_index] = max(need[op.opcode_index], version_of(model, sg, op))
    for code, v in zip(model.operator_codes, need):
        code.version = v


def runtime_version_bytes(model) -> bytes:
    """The 16-byte `min_runtime_version` metadata buffer TensorFlow writes."""
    pairs = []
    for sg in model.subgraphs:
        for op in sg.operators:
            code = model.operator_codes[op.opcode_index]
            pairs.append((OP_NAMES.get(code.builtin_code, ""), code.version))
    return min_runtime_version(pairs).encode().ljust(16, b"\0")[:16]


__all__ = ["op_version", "set_versions", "min_runtime_version", "runtime_version_bytes"]
