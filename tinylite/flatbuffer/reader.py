"""Read a .tflite FlatBuffer into a `tinylite.graph.Model`.

Buffers become zero-copy numpy views of the bytes given.  Every vector length
and index is checked against the file before it is used, so a corrupt or
truncated file raises `InvalidModelError` instead of crashing or looping.
"""
from __future__ import annotations

import os
import struct

import flatbuffers.table
import numpy as np

from ..errors import InvalidModelError
from ..graph import (
    Buffer,
    Metadata,
    Model,
    Operator,
    OperatorCode,
    QuantizationParameters,
    SignatureDef,
    Subgraph,
    Tensor,
    TensorMap,
)
from .schema import OPTIONS2_NAMES, OPTIONS_NAMES, TENSOR_TYPE_NAMES, options_table

FILE_IDENTIFIER = b"TFL3"

_I32 = struct.Struct("<i").unpack_from
_U32 = struct.Struct("<I").unpack_from
_U16 = struct.Struct("<H").unpack_from
_SCALARS = {"b": struct.Struct("<b").unpack_from, "B": struct.Struct("<B").unpack_from, "i": _I32,
            "I": _U32, "Q": struct.Struct("<Q").unpack_from}


_DTYPES = {t: np.dtype(t) for t in (np.int32, np.int64, np.float32, np.uint8, np.bool_)}
_VTABLES: dict = {}


def _vtable(n):
    """unpack_from of a vtable's n field offsets (uint16)."""
    unpack = _VTABLES.get(n)
    if unpack is None:
        unpack = _VTABLES[n] = struct.Struct(f"<{n}H").unpack_from
    return unpack


class _T:
    """Direct access to one FlatBuffer table's fields by slot (the schema's field order).

    The generated `tflite` bindings go through several Python calls per field; the tensors and
    operators of a large model took most of a parse that way (dbface: 51 ms).  The vtable is
    read once per table (one struct call), so a field costs a tuple lookup.  struct raises on
    offsets past the end of the data and vector lengths are checked, as before."""

    __slots__ = ("data", "pos", "slots")

    def __init__(self, data, pos):
        self.data, self.pos = data, pos
        vt = pos - _I32(data, pos)[0]
        n = (_U16(data, vt)[0] - 4) >> 1
        self.slots = _vtable(n)(data, vt + 4) if n > 0 else ()

    def field(self, slot):
        slots = self.slots
        if slot >= len(slots):
            return 0
        off = slots[slot]
        return self.pos + off if off else 0

    def scalar(self, slot, fmt, default=0):
        slots = self.slots
        if slot < len(slots) and slots[slot]:
            return _SCALARS[fmt](self.data, self.pos + slots[slot])[0]
        return default

    def table(self, slot):
        p = self.field(slot)
        return _T(self.data, p + _U32(self.data, p)[0]) if p else None

    def vector(self, slot, name, elem_size=4):
        """(start, count) of a vector field, or None."""
        p = self.field(slot)
        if not p:
            return None
        start = p + _U32(self.data, p)[0]
        n = _U32(self.data, start)[0]
        if n * elem_size > len(self.data):
            raise InvalidModelError(f"vector {name} claims {n} elements, more than the file can hold")
        return start + 4, n

    def array(self, slot, name, dtype=np.int32):
        slots = self.slots
        if slot >= len(slots) or not slots[slot]:
            return None
        data = self.data
        p = self.pos + slots[slot]
        start = p + _U32(data, p)[0]
        n = _U32(data, start)[0]
        dtype = _DTYPES.get(dtype) or np.dtype(dtype)
        if n * dtype.itemsize > len(data):
            raise InvalidModelError(f"vector {name} claims {n} elements, more than the file can hold")
        return np.frombuffer(data, dtype, n, start + 4).copy()   # a copy, native order

    def ints(self, slot, name):
        v = self.vector(slot, name)
        return None if v is None else list(struct.unpack_from(f"<{v[1]}i", self.data, v[0]))

    def tables(self, slot, name):
        v = self.vector(slot, name)
        if v is None:
            return []
        start, n = v
        offsets = struct.unpack_from(f"<{n}I", self.data, start)
        return [_T(self.data, start + 4 * i + o) for i, o in enumerate(offsets)]

    def string(self, slot):
        p = self.field(slot)
        if not p:
            return None
        start = p + _U32(self.data, p)[0]
        n = _U32(self.data, start)[0]
        if start + 4 + n > len(self.data):
            raise InvalidModelError(f"a string claims {n} bytes, more than the file holds")
        return self.data[start + 4:start + 4 + n].decode("utf-8")


def read_model(source) -> Model:
    """Parse a model from a path, bytes, bytearray or memoryview.

    >>> import tinylite.flatbuffer as fb
    >>> model = fb.read_model(fb.write_model(fb.Model()))   # doctest: +SKIP
    """
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            raise ValueError(f"Could not open '{path}': {e.strerror}. Check the path to the .tflite file.") from None
        return parse(data, origin=path)
    return parse(source)


def parse(data, origin: str = "model_content") -> Model:
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise TypeError(f"{origin}: expected bytes or a path, got {type(data).__name__}")
    if len(data) < 8:
        raise InvalidModelError(
            f"{origin}: {len(data)} bytes is too short for a .tflite model (a FlatBuffer has at least "
            "an 8-byte header). The file is empty or truncated; re-export it.")
    ident = data[4:8]
    if ident != FILE_IDENTIFIER:
        raise InvalidModelError(
            f"{origin}: file identifier is {ident!r}, expected {FILE_IDENTIFIER!r}. This is not a TFLite "
            "model (a SavedModel, .h5 or .keras file must be converted first: `tinylite convert`).")
    root = struct.unpack_from("<I", data, 0)[0]
    if root + 4 > len(data):
        raise InvalidModelError(f"{origin}: root table offset {root} is outside the {len(data)}-byte file; "
                                "the file is truncated or corrupt.")
    try:
        model = _Reader(data).model()
    except InvalidModelError as e:
        raise InvalidModelError(f"{origin}: {e}") from None
    except (struct.error, IndexError, ValueError, TypeError, OverflowError, UnicodeDecodeError,
            AttributeError, RecursionError, MemoryError) as e:
        raise InvalidModelError(
            f"{origin}: the model is not a valid FlatBuffer: {_flatbuffer_fault(e)}. The file is "
            "truncated or corrupt; re-export or re-download it.") from None
    validate(model, origin)
    return model


def _flatbuffer_fault(e: BaseException) -> str:
    """What a failure of the generated bindings means for the file (their own
    messages name Python internals, not the file)."""
    if isinstance(e, struct.error):
        return "a table or vector runs past the end of the file"
    if isinstance(e, UnicodeDecodeError):
        return "a name is not valid UTF-8"
    if isinstance(e, RecursionError):
        return "its tables refer to each other in a loop"
    if isinstance(e, MemoryError):
        return "a vector claims more elements than memory holds"
    if isinstance(e, (TypeError, OverflowError, ValueError)) and "bad number" in str(e):
        return "a field holds a value out of its type's range"
    return "an offset points outside the file or at the wrong kind of data"


class _Reader:
    def __init__(self, data: bytes):
        from tflite.Model import Model as FbModel

        self.data = data
        self.size = len(data)
        self.fb = FbModel.GetRootAs(data, 0)

    def _count(self, obj, field: str, elem_size: int = 4) -> int:
        n = getattr(obj, field + "Length")()
        if n < 0 or n * elem_size > self.size:
            raise InvalidModelError(f"vector {field} claims {n} elements, more than the file can hold")
        return n

    def _ints(self, obj, field: str, dtype=np.int32) -> np.ndarray | None:
        if getattr(obj, field + "IsNone")():
            return None
        self._count(obj, field, np.dtype(dtype).itemsize)
        return np.array(getattr(obj, field + "AsNumpy")(), dtype=dtype)

    @staticmethod
    def _str(b) -> str | None:
        return None if b is None else b.decode("utf-8")

    def model(self) -> Model:
        fb = self.fb
        m = Model(version=fb.Version(), buffers=[])
        m.operator_codes = [self.opcode(fb.OperatorCodes(i)) for i in range(self._count(fb, "OperatorCodes"))]
        root = _T(self.data, fb._tab.Pos)
        m.buffers = [self.buffer(b) for b in root.tables(4, "Buffers")]
        m.subgraphs = [self.subgraph(sg) for sg in root.tables(2, "Subgraphs")]
        m.description = self._str(fb.Description())
        mb = self._ints(fb, "MetadataBuffer")
        m.metadata_buffer = None if mb is None else [int(x) for x in mb]
        m.metadata = [Metadata(self._str(md.Name()), md.Buffer())
                      for md in (fb.Metadata(i) for i in range(self._count(fb, "Metadata")))]
        m.signature_defs = [self.signature(fb.SignatureDefs(i)) for i in range(self._count(fb, "SignatureDefs"))]
        return m

    def opcode(self, oc) -> OperatorCode:
        # Old files only fill deprecated_builtin_code; new ones put 127 there for
        # codes above it.  The real code is the larger of the two, as in TFLite.
        code = max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode())
        return OperatorCode(code, self._str(oc.CustomCode()), oc.Version())

    def buffer(self, b: _T) -> Buffer:
        offset, size = b.scalar(1, "Q"), b.scalar(2, "Q")
        if offset > 1:
            # Large models keep tensor data after the FlatBuffer, addressed from the file start.
            if offset + size > self.size:
                raise InvalidModelError(f"a buffer points at bytes {offset}..{offset + size}, past the end "
                                        f"of the {self.size}-byte file")
            return Buffer(np.frombuffer(self.data, np.uint8, size, offset), offset, size)
        v = b.vector(0, "Data", 1)
        if v is None:
            return Buffer(None, offset, size)
        return Buffer(np.frombuffer(self.data, np.uint8, v[1], v[0]), offset, size)

    def quantization(self, q: _T | None) -> QuantizationParameters | None:
        if q is None:
            return None
        p = QuantizationParameters(
            scale=q.array(2, "Scale", np.float32),
            zero_point=q.array(3, "ZeroPoint", np.int64),
            min=q.array(0, "Min", np.float32),
            max=q.array(1, "Max", np.float32),
            quantized_dimension=q.scalar(6, "i"),
            details_type=q.scalar(4, "B"),
        )
        if p.details_type == 1:
            details = q.table(5)
            custom = None if details is None else details.array(0, "Custom", np.uint8)
            p.details = None if custom is None else custom.tobytes()
        elif p.details_type in (2, 3):
            import flatbuffers.table

            details = q.table(5)
            if details is None:
                raise InvalidModelError(f"quantization details of type {p.details_type} without their table")
            p.details = self.index_quantization(flatbuffers.table.Table(self.data, details.pos), p.details_type)
        return p

    def index_quantization(self, t, kind) -> dict:
        """BlockwiseQuantization (2) or MultiAxisQuantization (3): tables the generated
        bindings predate, read field by field (scales, zero_points, block_size
        [, quantized_dimensions])."""
        import flatbuffers
        from flatbuffers.number_types import Int32Flags

        tab = flatbuffers.table.Table(t.Bytes, t.Pos)

        def field(slot, default):
            o = tab.Offset(4 + 2 * slot)
            return tab.Get(Int32Flags, o + tab.Pos) if o else default

        d = {"scales": field(0, -1), "zero_points": field(1, -1), "block_size": field(2, 0)}
        if kind == 3:
            o = tab.Offset(10)
            if o:
                n = tab.VectorLen(o)
                if n * 4 > len(self.data):
                    raise InvalidModelError(f"vector quantized_dimensions claims {n} elements, more "
                                            "than the file can hold")
                d["quantized_dimensions"] = tab.GetVectorAsNumpy(Int32Flags, o).astype(np.int32)
            else:
                d["quantized_dimensions"] = np.zeros(0, np.int32)
        return d

    def sparsity(self, s) -> dict | None:
        if s is None:
            return None
        from tflite.SparseIndexVector import SparseIndexVector

        from .schema import generated_module

        vector_tables = {}
        for name in ("Int32Vector", "Uint16Vector", "Uint8Vector"):
            mod = generated_module(name)
            vector_tables[getattr(SparseIndexVector, name)] = (getattr(mod, name), np.dtype(
                {"Int32Vector": np.int32, "Uint16Vector": np.uint16, "Uint8Vector": np.uint8}[name]))

        def index_vector(kind, table):
            if kind == 0 or table is None:
                return None
            cls, dtype = vector_tables[kind]
            v = cls()
            v.Init(table.Bytes, table.Pos)
            return (kind, self._ints(v, "Values", dtype))

        dims = []
        for i in range(self._count(s, "DimMetadata")):
            d = s.DimMetadata(i)
            dims.append({
                "format": d.Format(),
                "dense_size": d.DenseSize(),
                "array_segments": index_vector(d.ArraySegmentsType(), d.ArraySegments()),
                "array_indices": index_vector(d.ArrayIndicesType(), d.ArrayIndices()),
            })
        return {
            "traversal_order": self._ints(s, "TraversalOrder"),
            "block_map": self._ints(s, "BlockMap"),
            "dim_metadata": dims,
        }

    def tensor(self, t: _T) -> Tensor:
        variants = None
        if t.field(9):
            variants = [(v.array(0, "Shape"), v.scalar(1, "b")) for v in t.tables(9, "VariantTensors")]
        sparsity = None
        if t.field(6):
            from tflite.Tensor import Tensor as FbTensor

            fb = FbTensor()
            fb.Init(self.data, t.pos)
            sparsity = self.sparsity(fb.Sparsity())
        shape = t.array(0, "Shape")
        return Tensor(
            name=t.string(3) or "",
            shape=np.zeros(0, np.int32) if shape is None else shape,
            type=t.scalar(1, "b"),
            buffer=t.scalar(2, "I"),
            quantization=self.quantization(t.table(4)),
            is_variable=bool(t.scalar(5, "B")),
            sparsity=sparsity,
            shape_signature=t.array(7, "ShapeSignature"),
            has_rank=bool(t.scalar(8, "B")),
            variant_tensors=variants,
        )

    def operator(self, op: _T) -> Operator:
        o = Operator(
            opcode_index=op.scalar(0, "I"),
            inputs=op.ints(1, "Inputs") or [],
            outputs=op.ints(2, "Outputs") or [],
            builtin_options_type=op.scalar(3, "B"),
            custom_options_format=op.scalar(6, "b"),
            large_custom_options_offset=op.scalar(9, "Q"),
            large_custom_options_size=op.scalar(10, "Q"),
            builtin_options_2_type=op.scalar(11, "B"),
            debug_metadata_index=op.scalar(13, "i", -1),
        )
        for kind, slot, names, attr in ((o.builtin_options_type, 4, OPTIONS_NAMES, "builtin_options"),
                                        (o.builtin_options_2_type, 12, OPTIONS2_NAMES, "builtin_options_2")):
            if kind:
                name = names.get(kind)
                if name is None:
                    raise InvalidModelError(f"unknown {attr} type {kind}")
                table = op.table(slot)
                setattr(o, attr, options_table(name).read(flatbuffers.table.Table(self.data, table.pos))
                        if table is not None else options_table(name).defaults())
        custom = op.vector(5, "CustomOptions", 1)
        if custom is not None:
            o.custom_options = self.data[custom[0]:custom[0] + custom[1]]
        elif o.large_custom_options_offset > 1:
            end = o.large_custom_options_offset + o.large_custom_options_size
            if end > self.size:
                raise InvalidModelError("large custom options point past the end of the file")
            o.custom_options = self.data[o.large_custom_options_offset:end]
        mvi = op.array(7, "MutatingVariableInputs", np.bool_)
        o.mutating_variable_inputs = None if mvi is None else [bool(x) for x in mvi]
        o.intermediates = op.ints(8, "Intermediates")
        return o

    def subgraph(self, sg: _T) -> Subgraph:
        return Subgraph(
            tensors=[self.tensor(t) for t in sg.tables(0, "Tensors")],
            inputs=sg.ints(1, "Inputs") or [],
            outputs=sg.ints(2, "Outputs") or [],
            operators=[self.operator(op) for op in sg.tables(3, "Operators")],
            name=sg.string(4),
            debug_metadata_index=sg.scalar(5, "i", -1),
        )

    def signature(self, s) -> SignatureDef:
        def maps(field):
            return [TensorMap(self._str(t.Name()) or "", t.TensorIndex())
                    for t in (getattr(s, field)(i) for i in range(self._count(s, field)))]

        return SignatureDef(maps("Inputs"), maps("Outputs"), self._str(s.SignatureKey()) or "",
                            s.SubgraphIndex())


def validate(model: Model, origin: str = "model") -> None:
    """Check every cross-reference in the model; raise InvalidModelError on the first bad one."""
    def bad(msg):
        raise InvalidModelError(f"{origin}: {msg}. The file is corrupt or was written by a broken tool.")

    if not model.subgraphs:
        bad("the model has no subgraphs")
    nbuf, nops = len(model.buffers), len(model.operator_codes)
    for si, sg in enumerate(model.subgraphs):
        nt = len(sg.tensors)
        # One check of all the shapes; the loop below names the first bad tensor.
        bad_shapes = nt > 0 and np.concatenate([np.asarray(t.shape).reshape(-1) for t in sg.tensors]).min(
            initial=0) < -1
        for ti, t in enumerate(sg.tensors):
            if not 0 <= t.buffer < max(nbuf, 1):
                bad(f"subgraph {si} tensor {ti} ({t.name!r}) uses buffer {t.buffer}, but there are {nbuf} buffers")
            if bad_shapes and np.any(t.shape < -1):
                bad(f"subgraph {si} tensor {ti} ({t.name!r}) has invalid shape {t.shape.tolist()}")
            if t.type not in TENSOR_TYPE_NAMES:
                bad(f"subgraph {si} tensor {ti} ({t.name!r}) has tensor type {t.type}, which the TFLite schema "
                    f"does not define (known: 0..{max(TENSOR_TYPE_NAMES)})")
        for kind, ids in (("input", sg.inputs), ("output", sg.outputs)):
            for i in ids:
                if not 0 <= i < nt:
                    bad(f"subgraph {si} {kind} tensor index {i} is out of range (0..{nt - 1})")
        for oi, op in enumerate(sg.operators):
            if not 0 <= op.opcode_index < nops:
                bad(f"subgraph {si} operator {oi} uses opcode index {op.opcode_index}, but there are {nops} "
                    "operator codes")
            for i in op.inputs:
                if not -1 <= i < nt:
                    bad(f"subgraph {si} operator {oi} ({model.op_name(op)}) reads tensor {i}, out of range "
                        f"(0..{nt - 1})")
            for i in op.outputs:
                if not 0 <= i < nt:
                    bad(f"subgraph {si} operator {oi} ({model.op_name(op)}) writes tensor {i}, out of range "
                        f"(0..{nt - 1})")
            for i in op.intermediates or ():
                if not -1 <= i < nt:
                    bad(f"subgraph {si} operator {oi} ({model.op_name(op)}) names intermediate tensor {i}, out of "
                        f"range (0..{nt - 1})")
    for md in model.metadata:
        if not 0 <= md.buffer < nbuf:
            bad(f"metadata {md.name!r} uses buffer {md.buffer}, but there are {nbuf} buffers")
    for sd in model.signature_defs:
        if not 0 <= sd.subgraph_index < len(model.subgraphs):
            bad(f"signature {sd.signature_key!r} names subgraph {sd.subgraph_index}, which does not exist")
        nt = len(model.subgraphs[sd.subgraph_index].tensors)
        for tm in sd.inputs + sd.outputs:
            if not 0 <= tm.tensor_index < nt:
                bad(f"signature {sd.signature_key!r} maps {tm.name!r} to tensor {tm.tensor_index}, out of range")
