"""Read a .tflite FlatBuffer into a `tinylite.graph.Model`.

Buffers become zero-copy numpy views of the bytes given.  Every vector length
and index is checked against the file before it is used, so a corrupt or
truncated file raises `InvalidModelError` instead of crashing or looping.
"""
from __future__ import annotations

import os
import struct

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

FILE_IDENTIFIER = b"TFL3"


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
            f"{origin}: the model is not a valid FlatBuffer ({type(e).__name__}: {e}). The file is "
            "truncated or corrupt; re-export or re-download it.") from None
    validate(model, origin)
    return model


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
        m.buffers = [self.buffer(fb.Buffers(i)) for i in range(self._count(fb, "Buffers"))]
        m.subgraphs = [self.subgraph(fb.Subgraphs(i)) for i in range(self._count(fb, "Subgraphs"))]
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

    def buffer(self, b) -> Buffer:
        offset, size = b.Offset(), b.Size()
        if offset > 1:
            # Large models keep tensor data after the FlatBuffer, addressed from the file start.
            if offset + size > self.size:
                raise InvalidModelError(f"a buffer points at bytes {offset}..{offset + size}, past the end "
                                        f"of the {self.size}-byte file")
            return Buffer(np.frombuffer(self.data, np.uint8, size, offset), offset, size)
        if b.DataIsNone():
            return Buffer(None, offset, size)
        self._count(b, "Data", 1)
        return Buffer(b.DataAsNumpy(), offset, size)

    def quantization(self, q) -> QuantizationParameters | None:
        if q is None:
            return None
        p = QuantizationParameters(
            scale=self._ints(q, "Scale", np.float32),
            zero_point=self._ints(q, "ZeroPoint", np.int64),
            min=self._ints(q, "Min", np.float32),
            max=self._ints(q, "Max", np.float32),
            quantized_dimension=q.QuantizedDimension(),
            details_type=q.DetailsType(),
        )
        if p.details_type == 1:
            from tflite.CustomQuantization import CustomQuantization

            t = q.Details()
            cq = CustomQuantization()
            cq.Init(t.Bytes, t.Pos)
            custom = self._ints(cq, "Custom", np.uint8)
            p.details = None if custom is None else custom.tobytes()
        elif p.details_type in (2, 3):
            p.details = self.index_quantization(q.Details(), p.details_type)
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

    def tensor(self, t) -> Tensor:
        variants = None
        if not t.VariantTensorsIsNone():
            variants = []
            for i in range(self._count(t, "VariantTensors")):
                v = t.VariantTensors(i)
                variants.append((self._ints(v, "Shape"), v.Type()))
        shape = self._ints(t, "Shape")
        return Tensor(
            name=self._str(t.Name()) or "",
            shape=np.zeros(0, np.int32) if shape is None else shape,
            type=t.Type(),
            buffer=t.Buffer(),
            quantization=self.quantization(t.Quantization()),
            is_variable=bool(t.IsVariable()),
            sparsity=self.sparsity(t.Sparsity()),
            shape_signature=self._ints(t, "ShapeSignature"),
            has_rank=bool(t.HasRank()),
            variant_tensors=variants,
        )

    def operator(self, op) -> Operator:
        from .schema import OPTIONS2_NAMES, OPTIONS_NAMES, options_table

        o = Operator(
            opcode_index=op.OpcodeIndex(),
            inputs=[int(x) for x in (self._ints(op, "Inputs") if not op.InputsIsNone() else [])],
            outputs=[int(x) for x in (self._ints(op, "Outputs") if not op.OutputsIsNone() else [])],
            builtin_options_type=op.BuiltinOptionsType(),
            custom_options_format=op.CustomOptionsFormat(),
            large_custom_options_offset=op.LargeCustomOptionsOffset(),
            large_custom_options_size=op.LargeCustomOptionsSize(),
            builtin_options_2_type=op.BuiltinOptions2Type(),
            debug_metadata_index=op.DebugMetadataIndex(),
        )
        if o.builtin_options_type:
            name = OPTIONS_NAMES.get(o.builtin_options_type)
            if name is None:
                raise InvalidModelError(f"unknown builtin_options type {o.builtin_options_type}")
            o.builtin_options = options_table(name).read(op.BuiltinOptions())
        if o.builtin_options_2_type:
            name = OPTIONS2_NAMES.get(o.builtin_options_2_type)
            if name is None:
                raise InvalidModelError(f"unknown builtin_options_2 type {o.builtin_options_2_type}")
            o.builtin_options_2 = options_table(name).read(op.BuiltinOptions2())
        custom = self._ints(op, "CustomOptions", np.uint8)
        if custom is not None:
            o.custom_options = custom.tobytes()
        elif o.large_custom_options_offset > 1:
            end = o.large_custom_options_offset + o.large_custom_options_size
            if end > self.size:
                raise InvalidModelError("large custom options point past the end of the file")
            o.custom_options = self.data[o.large_custom_options_offset:end]
        mvi = self._ints(op, "MutatingVariableInputs", np.bool_)
        o.mutating_variable_inputs = None if mvi is None else [bool(x) for x in mvi]
        inter = self._ints(op, "Intermediates")
        o.intermediates = None if inter is None else [int(x) for x in inter]
        return o

    def subgraph(self, sg) -> Subgraph:
        return Subgraph(
            tensors=[self.tensor(sg.Tensors(i)) for i in range(self._count(sg, "Tensors"))],
            inputs=[int(x) for x in (self._ints(sg, "Inputs") if not sg.InputsIsNone() else [])],
            outputs=[int(x) for x in (self._ints(sg, "Outputs") if not sg.OutputsIsNone() else [])],
            operators=[self.operator(sg.Operators(i)) for i in range(self._count(sg, "Operators"))],
            name=self._str(sg.Name()),
            debug_metadata_index=sg.DebugMetadataIndex(),
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
        for ti, t in enumerate(sg.tensors):
            if not 0 <= t.buffer < max(nbuf, 1):
                bad(f"subgraph {si} tensor {ti} ({t.name!r}) uses buffer {t.buffer}, but there are {nbuf} buffers")
            if np.any(t.shape < -1):
                bad(f"subgraph {si} tensor {ti} ({t.name!r}) has invalid shape {t.shape.tolist()}")
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
