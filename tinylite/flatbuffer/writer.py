"""Serialize a `tinylite.graph.Model` into .tflite FlatBuffer bytes.

Tables are built with the generated builder functions of the `tflite`
bindings.  Buffer data is 16-byte aligned, as TensorFlow's converter writes it,
so kernels that map weights in place (XNNPack, TFLite Micro) can use them.
"""
from __future__ import annotations

import os
import tempfile

import flatbuffers
import numpy as np

from ..graph import Model
from .schema import generated_module as _fb

BUFFER_ALIGNMENT = 16


def write_model(model: Model) -> bytes:
    """Serialize a model to bytes."""
    return bytes(serialize(model))


def serialize(model: Model) -> memoryview:
    """The serialized model as a view of the builder's buffer: writing it to a file needs no
    copy of a model's (possibly large) weights into a bytes object first."""
    size = sum(0 if b.data is None else b.data.size + BUFFER_ALIGNMENT for b in model.buffers)
    builder = flatbuffers.Builder(size + 4096)
    _Writer(builder).model(model)
    return memoryview(builder.Bytes)[builder.Head():]


def save_model(model_or_bytes, path) -> None:
    """Write a model to `path` atomically: a temp file in the same folder, then rename."""
    data = model_or_bytes if isinstance(model_or_bytes, (bytes, bytearray)) else write_model(model_or_bytes)
    atomic_write(path, data)


def atomic_write(path, data: bytes | bytearray | memoryview) -> None:
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.basename(path), dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        # mkstemp creates the file private (0600); give it the usual permissions.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class _Writer:
    def __init__(self, builder):
        self.b = builder

    def _vector(self, start_fn, values, kind="offset"):
        """A vector of table offsets (kind='offset')."""
        b = self.b
        start_fn(b, len(values))
        for v in reversed(values):
            b.PrependUOffsetTRelative(v)
        return b.EndVector()

    def _ints(self, values, dtype=np.int32):
        return self.b.CreateNumpyVector(np.ascontiguousarray(np.asarray(values, dtype=dtype).reshape(-1)))

    def _string(self, s):
        return None if s is None else self.b.CreateString(s)

    def model(self, m: Model):
        M = _fb("Model")

        b = self.b
        # Buffers go first so that their data ends up last in the file, after
        # all tables (the same layout as TensorFlow's converter).
        buffers = [self.buffer(buf) for buf in m.buffers]
        codes = [self.opcode(oc) for oc in m.operator_codes]
        subgraphs = [self.subgraph(sg) for sg in m.subgraphs]
        metadata = [self.metadata(md) for md in m.metadata]
        signatures = [self.signature(sd) for sd in m.signature_defs]
        description = self._string(m.description)
        metadata_buffer = None if m.metadata_buffer is None else self._ints(m.metadata_buffer)

        v_codes = self._vector(M.ModelStartOperatorCodesVector, codes)
        v_subgraphs = self._vector(M.ModelStartSubgraphsVector, subgraphs)
        v_buffers = self._vector(M.ModelStartBuffersVector, buffers)
        v_metadata = self._vector(M.ModelStartMetadataVector, metadata) if m.metadata else None
        v_signatures = self._vector(M.ModelStartSignatureDefsVector, signatures) if m.signature_defs else None

        M.ModelStart(b)
        M.ModelAddVersion(b, m.version)
        M.ModelAddOperatorCodes(b, v_codes)
        M.ModelAddSubgraphs(b, v_subgraphs)
        if description is not None:
            M.ModelAddDescription(b, description)
        M.ModelAddBuffers(b, v_buffers)
        if metadata_buffer is not None:
            M.ModelAddMetadataBuffer(b, metadata_buffer)
        if v_metadata is not None:
            M.ModelAddMetadata(b, v_metadata)
        if v_signatures is not None:
            M.ModelAddSignatureDefs(b, v_signatures)
        b.Finish(M.ModelEnd(b), file_identifier=b"TFL3")

    def buffer(self, buf):
        B = _fb("Buffer")

        b = self.b
        data = None
        if buf.data is not None:
            raw = np.ascontiguousarray(buf.data).reshape(-1).view(np.uint8)
            b.StartVector(1, raw.size, BUFFER_ALIGNMENT)
            b.head -= raw.size
            b.Bytes[b.head:b.head + raw.size] = memoryview(raw)     # (no intermediate bytes copy)
            data = b.EndVector()
        B.BufferStart(b)
        if data is not None:
            B.BufferAddData(b, data)
        return B.BufferEnd(b)

    def opcode(self, oc):
        O = _fb("OperatorCode")

        from .schema import PLACEHOLDER_FOR_GREATER_OP_CODES

        b = self.b
        custom = self._string(oc.custom_code)
        O.OperatorCodeStart(b)
        O.OperatorCodeAddDeprecatedBuiltinCode(b, min(oc.builtin_code, PLACEHOLDER_FOR_GREATER_OP_CODES))
        if custom is not None:
            O.OperatorCodeAddCustomCode(b, custom)
        O.OperatorCodeAddVersion(b, oc.version)
        O.OperatorCodeAddBuiltinCode(b, oc.builtin_code)
        return O.OperatorCodeEnd(b)

    def quantization(self, q):
        Q = _fb("QuantizationParameters")

        b = self.b
        vecs = {}
        for name, dtype in (("min", np.float32), ("max", np.float32), ("scale", np.float32),
                            ("zero_point", np.int64)):
            v = getattr(q, name)
            if v is not None:
                vecs[name] = self._ints(v, dtype)
        details = None
        if q.details_type in (2, 3) and isinstance(q.details, dict):
            details = self.index_quantization(q.details, q.details_type)
        elif q.details_type and q.details is not None:
            C = _fb("CustomQuantization")

            custom = self._ints(np.frombuffer(q.details, np.uint8), np.uint8)
            C.CustomQuantizationStart(b)
            C.CustomQuantizationAddCustom(b, custom)
            details = C.CustomQuantizationEnd(b)
        Q.QuantizationParametersStart(b)
        if "min" in vecs:
            Q.QuantizationParametersAddMin(b, vecs["min"])
        if "max" in vecs:
            Q.QuantizationParametersAddMax(b, vecs["max"])
        if "scale" in vecs:
            Q.QuantizationParametersAddScale(b, vecs["scale"])
        if "zero_point" in vecs:
            Q.QuantizationParametersAddZeroPoint(b, vecs["zero_point"])
        if details is not None:
            Q.QuantizationParametersAddDetailsType(b, q.details_type)
            Q.QuantizationParametersAddDetails(b, details)
        Q.QuantizationParametersAddQuantizedDimension(b, q.quantized_dimension)
        return Q.QuantizationParametersEnd(b)

    def index_quantization(self, d, kind):
        """BlockwiseQuantization / MultiAxisQuantization, built field by field (the generated
        bindings predate them)."""
        b = self.b
        dims = None
        if kind == 3:
            dims = self._ints(np.asarray(d.get("quantized_dimensions", []), np.int32), np.int32)
        b.StartObject(4 if kind == 3 else 3)
        b.PrependInt32Slot(0, int(d["scales"]), 0)
        b.PrependInt32Slot(1, int(d.get("zero_points", -1)), 0)
        b.PrependInt32Slot(2, int(d.get("block_size", 0)), 0)
        if dims is not None:
            b.PrependUOffsetTRelativeSlot(3, dims, 0)
        return b.EndObject()

    def sparsity(self, s):
        D = _fb("DimensionMetadata")
        S = _fb("SparsityParameters")

        b = self.b

        def index_vector(entry):
            if entry is None:
                return 0, None
            kind, values = entry
            SparseIndexVector = _fb("SparseIndexVector").SparseIndexVector
            name = {v: k for k, v in vars(SparseIndexVector).items() if not k.startswith("_")}[kind]
            mod = _fb(name)
            vec = self.b.CreateNumpyVector(np.ascontiguousarray(values))
            getattr(mod, f"{name}Start")(b)
            getattr(mod, f"{name}AddValues")(b, vec)
            return kind, getattr(mod, f"{name}End")(b)

        dims = []
        for d in s["dim_metadata"]:
            seg_type, seg = index_vector(d["array_segments"])
            idx_type, idx = index_vector(d["array_indices"])
            D.DimensionMetadataStart(b)
            D.DimensionMetadataAddFormat(b, d["format"])
            D.DimensionMetadataAddDenseSize(b, d["dense_size"])
            if seg is not None:
                D.DimensionMetadataAddArraySegmentsType(b, seg_type)
                D.DimensionMetadataAddArraySegments(b, seg)
            if idx is not None:
                D.DimensionMetadataAddArrayIndicesType(b, idx_type)
                D.DimensionMetadataAddArrayIndices(b, idx)
            dims.append(D.DimensionMetadataEnd(b))
        traversal = None if s["traversal_order"] is None else self._ints(s["traversal_order"])
        block_map = None if s["block_map"] is None else self._ints(s["block_map"])
        v_dims = self._vector(S.SparsityParametersStartDimMetadataVector, dims)
        S.SparsityParametersStart(b)
        if traversal is not None:
            S.SparsityParametersAddTraversalOrder(b, traversal)
        if block_map is not None:
            S.SparsityParametersAddBlockMap(b, block_map)
        S.SparsityParametersAddDimMetadata(b, v_dims)
        return S.SparsityParametersEnd(b)

    def tensor(self, t):
        T = _fb("Tensor")

        b = self.b
        shape = self._ints(t.shape)
        name = self._string(t.name)
        quant = self.quantization(t.quantization) if t.quantization is not None else None
        sparsity = self.sparsity(t.sparsity) if t.sparsity is not None else None
        signature = self._ints(t.shape_signature) if t.shape_signature is not None else None
        variants = None
        if t.variant_tensors is not None:
            V = _fb("VariantSubType")
            subs = []
            for vshape, vtype in t.variant_tensors:
                vs = self._ints(vshape) if vshape is not None else None
                V.VariantSubTypeStart(b)
                if vs is not None:
                    V.VariantSubTypeAddShape(b, vs)
                V.VariantSubTypeAddType(b, vtype)
                subs.append(V.VariantSubTypeEnd(b))
            variants = self._vector(T.TensorStartVariantTensorsVector, subs)
        T.TensorStart(b)
        T.TensorAddShape(b, shape)
        T.TensorAddType(b, t.type)
        T.TensorAddBuffer(b, t.buffer)
        T.TensorAddName(b, name)
        if quant is not None:
            T.TensorAddQuantization(b, quant)
        if t.is_variable:
            T.TensorAddIsVariable(b, True)
        if sparsity is not None:
            T.TensorAddSparsity(b, sparsity)
        if signature is not None:
            T.TensorAddShapeSignature(b, signature)
        if t.has_rank:
            T.TensorAddHasRank(b, True)
        if variants is not None:
            T.TensorAddVariantTensors(b, variants)
        return T.TensorEnd(b)

    def operator(self, op):
        O = _fb("Operator")

        from .schema import OPTIONS2_NAMES, OPTIONS_NAMES, options_table

        b = self.b
        inputs = self._ints(op.inputs)
        outputs = self._ints(op.outputs)
        options = options2 = None
        if op.builtin_options_type:
            options = options_table(OPTIONS_NAMES[op.builtin_options_type]).write(b, op.builtin_options or {})
        if op.builtin_options_2_type:
            options2 = options_table(OPTIONS2_NAMES[op.builtin_options_2_type]).write(b, op.builtin_options_2 or {})
        custom = self._ints(np.frombuffer(op.custom_options, np.uint8), np.uint8) \
            if op.custom_options is not None else None
        mvi = self._ints(op.mutating_variable_inputs, np.bool_) if op.mutating_variable_inputs is not None else None
        inter = self._ints(op.intermediates) if op.intermediates is not None else None
        O.OperatorStart(b)
        O.OperatorAddOpcodeIndex(b, op.opcode_index)
        O.OperatorAddInputs(b, inputs)
        O.OperatorAddOutputs(b, outputs)
        if options is not None:
            O.OperatorAddBuiltinOptionsType(b, op.builtin_options_type)
            O.OperatorAddBuiltinOptions(b, options)
        if custom is not None:
            O.OperatorAddCustomOptions(b, custom)
            O.OperatorAddCustomOptionsFormat(b, op.custom_options_format)
        if mvi is not None:
            O.OperatorAddMutatingVariableInputs(b, mvi)
        if inter is not None:
            O.OperatorAddIntermediates(b, inter)
        if options2 is not None:
            O.OperatorAddBuiltinOptions2Type(b, op.builtin_options_2_type)
            O.OperatorAddBuiltinOptions2(b, options2)
        if op.debug_metadata_index != -1:
            O.OperatorAddDebugMetadataIndex(b, op.debug_metadata_index)
        return O.OperatorEnd(b)

    def subgraph(self, sg):
        S = _fb("SubGraph")

        b = self.b
        tensors = [self.tensor(t) for t in sg.tensors]
        ops = [self.operator(op) for op in sg.operators]
        v_tensors = self._vector(S.SubGraphStartTensorsVector, tensors)
        v_ops = self._vector(S.SubGraphStartOperatorsVector, ops)
        inputs = self._ints(sg.inputs)
        outputs = self._ints(sg.outputs)
        name = self._string(sg.name)
        S.SubGraphStart(b)
        S.SubGraphAddTensors(b, v_tensors)
        S.SubGraphAddInputs(b, inputs)
        S.SubGraphAddOutputs(b, outputs)
        S.SubGraphAddOperators(b, v_ops)
        if name is not None:
            S.SubGraphAddName(b, name)
        if sg.debug_metadata_index != -1:
            S.SubGraphAddDebugMetadataIndex(b, sg.debug_metadata_index)
        return S.SubGraphEnd(b)

    def metadata(self, md):
        M = _fb("Metadata")

        name = self._string(md.name)
        M.MetadataStart(self.b)
        M.MetadataAddName(self.b, name)
        M.MetadataAddBuffer(self.b, md.buffer)
        return M.MetadataEnd(self.b)

    def signature(self, sd):
        S = _fb("SignatureDef")
        T = _fb("TensorMap")

        b = self.b

        def maps(items):
            out = []
            for tm in items:
                name = b.CreateString(tm.name)
                T.TensorMapStart(b)
                T.TensorMapAddName(b, name)
                T.TensorMapAddTensorIndex(b, tm.tensor_index)
                out.append(T.TensorMapEnd(b))
            return out

        v_in = self._vector(S.SignatureDefStartInputsVector, maps(sd.inputs))
        v_out = self._vector(S.SignatureDefStartOutputsVector, maps(sd.outputs))
        key = b.CreateString(sd.signature_key)
        S.SignatureDefStart(b)
        S.SignatureDefAddInputs(b, v_in)
        S.SignatureDefAddOutputs(b, v_out)
        S.SignatureDefAddSignatureKey(b, key)
        S.SignatureDefAddSubgraphIndex(b, sd.subgraph_index)
        return S.SignatureDefEnd(b)
