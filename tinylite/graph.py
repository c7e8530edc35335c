"""The in-memory model: the TFLite schema as plain Python objects.

This is both what the FlatBuffer reader produces and what the converter's
frontends and passes build and rewrite before the writer serializes it.  Field
names are the schema's.  Enum-valued fields hold the schema's integer codes;
`tinylite.flatbuffer.schema` maps them to names.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class QuantizationParameters:
    """The schema's QuantizationParameters: real = scale * (q - zero_point), per tensor or per channel."""

    scale: np.ndarray | None = None          # float32, one per channel or one
    zero_point: np.ndarray | None = None     # int64
    min: np.ndarray | None = None
    max: np.ndarray | None = None
    quantized_dimension: int = 0
    details_type: int = 0                    # QuantizationDetails union type
    details: bytes | None = None             # CustomQuantization.custom

    @property
    def is_quantized(self) -> bool:
        return self.scale is not None and len(self.scale) > 0

    @property
    def per_channel(self) -> bool:
        return self.scale is not None and len(self.scale) > 1


@dataclass
class Tensor:
    """The schema's Tensor: shape, element type, buffer index and quantization."""

    name: str
    shape: np.ndarray                        # int32
    type: int = 0                            # TensorType code (FLOAT32 = 0)
    buffer: int = 0                          # 0 = no data (the schema's sentinel)
    quantization: QuantizationParameters | None = None
    is_variable: bool = False
    sparsity: dict | None = None             # SparsityParameters, as nested dicts
    shape_signature: np.ndarray | None = None
    has_rank: bool = False
    variant_tensors: list | None = None      # [(shape, type)]


@dataclass
class Operator:
    """The schema's Operator: an opcode index, tensor indices (-1: an omitted optional input) and options."""

    opcode_index: int
    inputs: list[int]
    outputs: list[int]
    builtin_options_type: int = 0
    builtin_options: dict | None = None
    custom_options: bytes | None = None
    custom_options_format: int = 0
    mutating_variable_inputs: list[bool] | None = None
    intermediates: list[int] | None = None
    large_custom_options_offset: int = 0
    large_custom_options_size: int = 0
    builtin_options_2_type: int = 0
    builtin_options_2: dict | None = None
    debug_metadata_index: int = -1


@dataclass
class OperatorCode:
    """The schema's OperatorCode: a builtin (or custom) op and its version."""

    builtin_code: int                         # the full code (the larger of the two fields)
    custom_code: str | None = None
    version: int = 1


@dataclass
class Buffer:
    """The schema's Buffer: a constant's bytes, or where they lie past the FlatBuffer (offset, size)."""

    data: np.ndarray | None = None           # uint8, possibly a view into the file
    offset: int = 0                          # > 1: data lives outside the FlatBuffer
    size: int = 0


@dataclass
class Subgraph:
    """The schema's SubGraph: tensors, operators in execution order, inputs and outputs."""

    tensors: list[Tensor] = field(default_factory=list)
    inputs: list[int] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)
    operators: list[Operator] = field(default_factory=list)
    name: str | None = None
    debug_metadata_index: int = -1


@dataclass
class Metadata:
    """The schema's Metadata: a named buffer (e.g. min_runtime_version)."""

    name: str
    buffer: int


@dataclass
class TensorMap:
    """The schema's TensorMap: a signature name for a tensor index."""

    name: str
    tensor_index: int


@dataclass
class SignatureDef:
    """The schema's SignatureDef: named inputs and outputs of one subgraph."""

    inputs: list[TensorMap]
    outputs: list[TensorMap]
    signature_key: str
    subgraph_index: int = 0


@functools.cache
def _schema():
    """tinylite.flatbuffer.schema, imported on first use (it imports this module's package)."""
    from .flatbuffer import schema

    return schema


@functools.lru_cache(maxsize=1024)
def _code_name(builtin_code: int, custom_code: str | None) -> str:
    """An operator code's op name (Model.op_name; the interpreter asks for it per op at every load)."""
    OP_NAMES = _schema().OP_NAMES
    if custom_code is not None and OP_NAMES.get(builtin_code) == "CUSTOM":
        return custom_code
    return OP_NAMES.get(builtin_code, f"UNKNOWN_OP_{builtin_code}")


@dataclass
class Model:
    """The schema's Model: the root table of a .tflite file."""

    version: int = 3
    operator_codes: list[OperatorCode] = field(default_factory=list)
    subgraphs: list[Subgraph] = field(default_factory=list)
    description: str | None = None
    buffers: list[Buffer] = field(default_factory=lambda: [Buffer()])
    metadata_buffer: list[int] | None = None
    metadata: list[Metadata] = field(default_factory=list)
    signature_defs: list[SignatureDef] = field(default_factory=list)

    # -- convenience used by the interpreter, the tools and the converter --

    def op_name(self, op: Operator) -> str:
        code = self.operator_codes[op.opcode_index]
        return _code_name(code.builtin_code, code.custom_code)

    def buffer_array(self, tensor: Tensor) -> np.ndarray | None:
        """The constant data of a tensor as a typed, shaped, read-only array (or None)."""
        if tensor.buffer <= 0 or tensor.buffer >= len(self.buffers):
            return None
        raw = self.buffers[tensor.buffer].data
        schema = _schema()
        TENSOR_TYPE_NAMES, numpy_dtype = schema.TENSOR_TYPE_NAMES, schema.numpy_dtype
        if raw is None or raw.size == 0:
            # A constant with no elements (e.g. the empty shape of a reshape to a
            # scalar) is still a constant; anything else without bytes has no data.
            if 0 in [int(d) for d in tensor.shape] and TENSOR_TYPE_NAMES.get(tensor.type) != "STRING":
                return np.zeros([int(d) for d in tensor.shape], numpy_dtype(tensor.type))
            return None

        type_name = TENSOR_TYPE_NAMES.get(tensor.type)
        if type_name == "STRING":
            from .flatbuffer.strings import decode

            return decode(raw, tensor.shape, tensor.name)
        dtype = np.dtype(numpy_dtype(tensor.type))
        # (tolist: a loop over a numpy array's elements costs ~0.2 us each, for every constant at every load)
        shape = tuple(tensor.shape.tolist() if isinstance(tensor.shape, np.ndarray) else (int(d) for d in tensor.shape))
        count = math.prod(shape)
        if type_name == "INT4":
            return _unpack_int4(raw, count).reshape(shape)
        if type_name in ("UINT4", "INT2"):
            return _unpack_bits(raw, count, 4 if type_name == "UINT4" else 2,
                                signed=type_name == "INT2").reshape(shape)
        if tensor.sparsity is not None:
            # Kernels see sparse constants dense, as LiteRT's DENSIFY and its
            # sparse-weight kernels compute with them.
            from .errors import InvalidModelError
            from .sparsity import SparsityError, densify

            if raw.ctypes.data % dtype.alignment:
                raw = raw.copy()
            try:
                dense = densify(np.frombuffer(raw, dtype=dtype, count=raw.size // dtype.itemsize), shape,
                                tensor.sparsity)
            except SparsityError as e:
                raise InvalidModelError(f"tensor {tensor.name!r}: {e}; the file is corrupt or was written by "
                                        "a broken tool") from None
            dense.setflags(write=False)
            return dense
        if raw.size < count * dtype.itemsize:
            from .errors import InvalidModelError

            raise InvalidModelError(
                f"tensor {tensor.name!r}: buffer {tensor.buffer} holds {raw.size} bytes but shape "
                f"{list(shape)} of {type_name} needs {count * dtype.itemsize}; the file is corrupt "
                "or was written by a broken tool")
        data = np.frombuffer(raw, dtype=dtype, count=count)
        if not data.flags.aligned:      # (raw.ctypes costs ~5 us a tensor)
            data = np.frombuffer(raw.copy(), dtype=dtype, count=count)
        return data.reshape(shape)

    def metadata_bytes(self, name: str) -> bytes | None:
        for m in self.metadata:
            if m.name == name and 0 <= m.buffer < len(self.buffers):
                data = self.buffers[m.buffer].data
                return b"" if data is None else data.tobytes()
        return None

    # -- building (the converter's API) --

    def add_buffer(self, data: np.ndarray | bytes | None) -> int:
        if data is None:
            self.buffers.append(Buffer())
        else:
            if isinstance(data, (bytes, bytearray)):
                arr = np.frombuffer(bytes(data), dtype=np.uint8)
            elif np.asarray(data).dtype.kind in "OSU":
                from .flatbuffer.strings import encode

                arr = encode(data)      # a STRING constant, in TFLite's packed string format
            else:
                arr = np.ascontiguousarray(data).reshape(-1).view(np.uint8)
            self.buffers.append(Buffer(data=arr))
        return len(self.buffers) - 1

    def opcode_index(self, builtin_code: int, version: int = 1, custom_code: str | None = None) -> int:
        for i, oc in enumerate(self.operator_codes):
            if oc.builtin_code == builtin_code and oc.custom_code == custom_code:
                oc.version = max(oc.version, version)
                return i
        self.operator_codes.append(OperatorCode(builtin_code, custom_code, version))
        return len(self.operator_codes) - 1


def _unpack_int4(raw: np.ndarray, count: int) -> np.ndarray:
    # Two signed nibbles per byte, low nibble first (the schema's INT4 packing).
    low = (raw & 0x0F).astype(np.int8)
    high = (raw >> 4).astype(np.int8)
    both = np.stack([low, high], axis=-1).reshape(-1)[:count]
    return np.where(both > 7, both - 16, both).astype(np.int8)


def _unpack_bits(raw: np.ndarray, count: int, bits: int, signed: bool) -> np.ndarray:
    # Packed sub-byte integers, lowest bits first (the schema's packing of INT4/UINT4/INT2).
    per = 8 // bits
    mask = (1 << bits) - 1
    parts = np.stack([(raw >> (bits * k)) & mask for k in range(per)], axis=-1).reshape(-1)[:count]
    if count > parts.size:
        from .errors import InvalidModelError

        raise InvalidModelError(f"a packed {bits}-bit buffer of {raw.size} bytes holds fewer than {count} values")
    if signed:
        return np.where(parts >= 1 << (bits - 1), parts.astype(np.int16) - (1 << bits), parts).astype(np.int8)
    return parts.astype(np.uint8)


def is_same(a: Any, b: Any) -> bool:
    """Structural equality for model objects (arrays compared by value)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if a is None or b is None:
            return a is None and b is None
        return np.array_equal(np.asarray(a), np.asarray(b)) and np.asarray(a).dtype == np.asarray(b).dtype
    if hasattr(a, "__dataclass_fields__"):
        if type(a) is not type(b):
            return False
        return all(is_same(getattr(a, f), getattr(b, f)) for f in a.__dataclass_fields__)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(is_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(is_same(x, y) for x, y in zip(a, b))
    return a == b
