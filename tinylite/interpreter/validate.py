"""Graph checks run on a subgraph before any of its ops is prepared.

The reader has already checked that every index points somewhere; these are
the rules about what the graph means that LiteRT enforces when it builds an
interpreter or allocates it, and that tinylite's kernels rely on: every tensor
an op reads exists by the time the op runs, every tensor has one writer, a
variable holds no constant data, and quantization parameters describe the
tensor they are attached to.  A graph breaking one of them would otherwise run
on garbage, or fail deep inside a kernel with a message about numpy instead
of about the model.
"""
from __future__ import annotations


import numpy as np

from ..errors import InvalidModelError
from ..flatbuffer.schema import TENSOR_TYPE_NAMES, numpy_dtype
from ..graph import Model

_FIX = "The file is corrupt or was written by a broken tool: re-export it from the original model."
_INTEGER_TYPES = {"INT4", "INT8", "UINT8", "INT16", "UINT16", "INT32", "UINT32", "INT64", "UINT64"}


def _has_data(model: Model, t) -> bool:
    if t.buffer <= 0 or t.buffer >= len(model.buffers):
        return False
    b = model.buffers[t.buffer]
    return (b.data is not None and b.data.size > 0) or b.size > 0


def _tensor_name(sg, i: int) -> str:
    return f"tensor {i} ({sg.tensors[i].name!r})"


def validate_subgraph(model: Model, index: int) -> None:
    """Raise InvalidModelError naming the node and tensor of the first broken rule."""
    sg = model.subgraphs[index]
    where = f"subgraph {index}: " if index else ""

    def bad(msg):
        raise InvalidModelError(f"{where}{msg}. {_FIX}")

    constant = set()
    scales_ok = _integer_scales_valid(sg)
    # The shapes as lists of ints, once (a loop over a numpy array's elements costs ~0.2 us each).
    shapes = [t.shape.tolist() if isinstance(t.shape, np.ndarray) else [int(d) for d in t.shape] for t in sg.tensors]
    for i, t in enumerate(sg.tensors):
        _check_tensor(sg, i, t, bad, scales_ok)
        if _has_data(model, t):
            _check_data_size(model, sg, i, t, bad, shapes[i])
            if t.is_variable:
                bad(f"{_tensor_name(sg, i)} is a variable tensor but also has constant data (buffer {t.buffer}); "
                    "LiteRT rejects variables with a buffer: a variable starts at zero")
            constant.add(i)
    # Tensors readable before the first op: the subgraph's inputs, constants and variables.
    # (A tensor with no elements, such as the empty axis list of a MEAN over nothing, holds
    # nothing to read.)
    ready = set(sg.inputs) | constant | {i for i, t in enumerate(sg.tensors) if t.is_variable or 0 in shapes[i]}
    writer: dict[int, int] = {}
    for oi, op in enumerate(sg.operators):
        node = f"Node number {oi} ({model.op_name(op)})"
        for i in op.outputs:
            if i in op.inputs:
                bad(f"{node} reads {_tensor_name(sg, i)}, which is its own output: an op cannot read what it "
                    "writes (the graph has a cycle)")
            if i in writer:
                bad(f"{_tensor_name(sg, i)} has two writers, Node number {writer[i]} and {node}: every tensor must "
                    "be written by one op")
            if i in constant:
                bad(f"{node} writes {_tensor_name(sg, i)}, which is a constant of the model (buffer "
                    f"{sg.tensors[i].buffer}): an op's outputs must not hold data")
            if i in sg.inputs:
                bad(f"{node} writes {_tensor_name(sg, i)}, which is an input of the {'sub' if index else ''}graph: "
                    "inputs are set by the caller, not by an op")
        for i in op.inputs:
            if i >= 0 and i not in ready:
                later = next((k for k in range(oi + 1, len(sg.operators)) if i in sg.operators[k].outputs), None)
                why = (f"it is written only later, by Node number {later} (the ops are out of order)"
                       if later is not None else
                       "no op writes it and it is neither an input of the graph, a constant nor a variable")
                bad(f"{node} reads {_tensor_name(sg, i)}, but {why}")
        for i in op.outputs:
            writer[i] = oi
            ready.add(i)
    for i in sg.outputs:
        if i not in ready:
            bad(f"output {_tensor_name(sg, i)} of the {'sub' if index else ''}graph is never written: no op writes "
                "it and it is neither an input, a constant nor a variable")


def _integer_scales_valid(sg) -> bool:
    """Whether every integer tensor's quantization scales are finite and not negative (0 is a
    constant's scale where TensorFlow quantized a tensor of zeros, the initial state of a
    dynamic-batch RNN in 16x8 files; LiteRT runs those, its multipliers then 0): one vector
    test over the subgraph (a test per tensor cost ~6 us each); _check_tensor names the first
    bad one when this fails."""
    parts = [t.quantization.scale for t in sg.tensors
             if t.quantization is not None and t.quantization.scale is not None and len(t.quantization.scale)
             and TENSOR_TYPE_NAMES.get(t.type) in _INTEGER_TYPES]
    if not parts:
        return True
    scales = np.concatenate(parts, axis=None).astype(np.float64)
    return bool(np.all(np.isfinite(scales) & (scales >= 0)))


def _check_tensor(sg, i: int, t, bad, scales_ok=False) -> None:
    type_name = TENSOR_TYPE_NAMES.get(t.type)
    q = t.quantization
    if q is None or q.scale is None or not len(q.scale):
        return
    scale = q.scale if scales_ok else np.asarray(q.scale, np.float64)
    if type_name in _INTEGER_TYPES and not scales_ok:
        # One vector test over the scales; the loop only runs to name the first bad one.
        invalid = ~(np.isfinite(scale) & (scale >= 0))
        if invalid.any():
            k = int(np.argmax(invalid))
            s = float(scale[k])
            which = f"scale {k}" if len(scale) > 1 else "scale"
            bad(f"{_tensor_name(sg, i)} ({type_name}) has quantization {which} {s!r}; a quantized tensor's "
                "scales must be finite and not negative")
    zp = q.zero_point
    if zp is not None and len(zp) and len(zp) != len(scale):
        bad(f"{_tensor_name(sg, i)} has {len(scale)} quantization scales but {len(zp)} zero points; they must "
            "be as many")
    if len(scale) > 1:
        rank, axis = len(t.shape), q.quantized_dimension
        if rank == 1 and int(t.shape[0]) == len(scale):
            # A vector has one channel axis whatever the file says: TFLite Micro's
            # person_detect gives its biases axis 3, which LiteRT rejects and TFLM runs.
            return
        if not 0 <= axis < rank:
            bad(f"{_tensor_name(sg, i)} is quantized per channel along dimension {axis}, but it has rank {rank}")
        if int(t.shape[axis]) != len(scale):
            bad(f"{_tensor_name(sg, i)} of shape {[int(d) for d in t.shape]} has {len(scale)} per-channel scales "
                f"for dimension {axis}, which has {int(t.shape[axis])} channels; there must be one scale per channel")


# Sub-byte integer types are packed, lowest bits first, several values a byte.
_PACKED_PER_BYTE = {"INT4": 2, "UINT4": 2, "INT2": 4}


def _check_data_size(model: Model, sg, i: int, t, bad, shape=None) -> None:
    """A constant's bytes must be exactly what its shape and type need, as LiteRT requires
    (more is as wrong as fewer: the shape or the data is not what the writer meant).
    `shape`: t.shape as a list of ints, where the caller has it."""
    type_name = TENSOR_TYPE_NAMES.get(t.type)
    if type_name in ("STRING", "RESOURCE", "VARIANT") or t.sparsity:
        return
    b = model.buffers[t.buffer]
    have = b.data.size if b.data is not None else b.size
    count = 1
    for d in (shape if shape is not None else t.shape):
        count *= max(int(d), 0)
    per_byte = _PACKED_PER_BYTE.get(type_name)
    need = -(-count // per_byte) if per_byte else count * np.dtype(numpy_dtype(t.type)).itemsize
    if have != need:
        bad(f"constant {_tensor_name(sg, i)} of shape {[int(d) for d in t.shape]} and type {type_name} needs "
            f"{need} bytes, but its buffer {t.buffer} holds {have}")

