"""The TFLite schema as Python sees it: enums, dtypes and builtin options.

The generated bindings of the `tflite` package (flatc output for schema v3)
are the single source of truth for numbers and field layouts; this module only
derives name tables from them, so no table offset or enum value is written by
hand here.  Options tables are introspected once per class: every field that
has a generated ``<Table>Add<Field>`` builder function is a field, read with
its generated accessor and written with its generated builder.
"""
from __future__ import annotations

import functools
import importlib
import importlib.util
import os
import re
import struct
import sys

import numpy as np


def _bindings_folder() -> str | None:
    """The folder of the generated `tflite` package, found without running its __init__."""
    spec = importlib.util.find_spec("tflite")
    if spec is None:
        raise ImportError("tinylite needs the generated TFLite schema bindings: pip install tflite")
    locations = list(spec.submodule_search_locations or ())
    return locations[0] if len(locations) == 1 and spec.origin and spec.origin.endswith("__init__.py") else None


_FOLDER = _bindings_folder()
_LOADED: dict = {}


def generated_module(table_name: str):
    """The generated module of a table or enum (``tflite.X`` itself is shadowed by class X).

    The `tflite` package's __init__ imports all of its ~190 modules (about a fifth
    of a conversion's run time), while a conversion needs a few dozen.  So unless
    the package is already imported (then its modules are used), the one file is
    executed on its own, under a private name: ``sys.modules["tflite"]`` is never
    touched, and a later ``import tflite`` by the user gets the ordinary package.
    The generated code is self-contained (it imports flatbuffers and, lazily inside
    accessors, other ``tflite.X`` modules through the normal import system).
    """
    module = sys.modules.get(f"tflite.{table_name}") or _LOADED.get(table_name)
    if module is not None:
        return module
    if _FOLDER is None or "tflite" in sys.modules:
        return importlib.import_module(f"tflite.{table_name}")
    spec = importlib.util.spec_from_file_location(f"tinylite._tflite_schema.{table_name}",
                                                  f"{_FOLDER}/{table_name}.py")
    if spec is None or not os.path.isfile(spec.origin):
        return importlib.import_module(f"tflite.{table_name}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    _LOADED[table_name] = module
    return module


def _enum(name: str):
    return getattr(generated_module(name), name)


ActivationFunctionType = _enum("ActivationFunctionType")
BuiltinOperator = _enum("BuiltinOperator")
BuiltinOptions = _enum("BuiltinOptions")
BuiltinOptions2 = _enum("BuiltinOptions2")
Padding = _enum("Padding")
TensorType = _enum("TensorType")


def _enum_names(enum_cls) -> dict[int, str]:
    return {v: k for k, v in vars(enum_cls).items() if not k.startswith("_") and isinstance(v, int)}


#: builtin operator code -> name, e.g. 3 -> "CONV_2D"
OP_NAMES: dict[int, str] = _enum_names(BuiltinOperator)
#: name -> builtin operator code
OP_CODES: dict[str, int] = {v: k for k, v in OP_NAMES.items()}
# Ops the schema gained after the generated bindings (LiteRT's schema.fbs).
for _code, _name in {209: "STABLEHLO_CASE"}.items():
    if _code not in OP_NAMES and _name not in OP_CODES:
        OP_NAMES[_code], OP_CODES[_name] = _name, _code
#: Codes above this live only in OperatorCode.builtin_code (schema v3a).
PLACEHOLDER_FOR_GREATER_OP_CODES = OP_CODES["PLACEHOLDER_FOR_GREATER_OP_CODES"]

TENSOR_TYPE_NAMES: dict[int, str] = _enum_names(TensorType)
# Types the schema gained after the generated bindings (LiteRT's schema.fbs).
for _code, _name in {17: "INT4", 18: "BFLOAT16", 19: "INT2", 20: "UINT4", 21: "FLOAT8_E4M3FN",
                     22: "FLOAT8_E5M2"}.items():
    TENSOR_TYPE_NAMES.setdefault(_code, _name)
TENSOR_TYPES: dict[str, int] = {v: k for k, v in TENSOR_TYPE_NAMES.items()}
ACTIVATION_NAMES: dict[int, str] = _enum_names(ActivationFunctionType)
ACTIVATIONS: dict[str, int] = {v: k for k, v in ACTIVATION_NAMES.items()}
PADDING_NAMES: dict[int, str] = _enum_names(Padding)
PADDINGS: dict[str, int] = {v: k for k, v in PADDING_NAMES.items()}

OPTIONS_NAMES: dict[int, str] = _enum_names(BuiltinOptions)
OPTIONS_TYPES: dict[str, int] = {v: k for k, v in OPTIONS_NAMES.items()}
OPTIONS2_NAMES: dict[int, str] = _enum_names(BuiltinOptions2)
# Options tables the schema gained after the generated bindings: (union code, {field: vector dtype}),
# read and written by _PlainOptionsTable.
_PLAIN_OPTIONS2 = {"StablehloCaseOptions": (23, {"branch_subgraph_indices": np.int32})}
for _table, (_code, _fields) in _PLAIN_OPTIONS2.items():
    if _code not in OPTIONS2_NAMES and _table not in OPTIONS2_NAMES.values():
        OPTIONS2_NAMES[_code] = _table
OPTIONS2_TYPES: dict[str, int] = {v: k for k, v in OPTIONS2_NAMES.items()}

# numpy dtypes by schema type name.  STRING/RESOURCE/VARIANT have no numpy
# equivalent with fixed width; they are carried as object/bytes.
_NUMPY_BY_NAME = {
    "FLOAT32": np.float32, "FLOAT16": np.float16, "FLOAT64": np.float64,
    "INT8": np.int8, "INT16": np.int16, "INT32": np.int32, "INT64": np.int64,
    "UINT8": np.uint8, "UINT16": np.uint16, "UINT32": np.uint32, "UINT64": np.uint64,
    "BOOL": np.bool_, "COMPLEX64": np.complex64, "COMPLEX128": np.complex128,
    "STRING": np.object_, "RESOURCE": np.object_, "VARIANT": np.object_,
    # INT4 is stored packed two per byte; BFLOAT16 has no numpy dtype.
    "INT4": np.int8, "BFLOAT16": np.uint16,
    # Packed sub-byte integers and 8-bit floats: carried as their raw bytes.
    "INT2": np.int8, "UINT4": np.uint8, "FLOAT8_E4M3FN": np.uint8, "FLOAT8_E5M2": np.uint8,
}
NUMPY_DTYPES: dict[int, type] = {code: _NUMPY_BY_NAME[name] for code, name in TENSOR_TYPE_NAMES.items()}
_TYPE_BY_NUMPY = {np.dtype(_NUMPY_BY_NAME[n]): c for c, n in TENSOR_TYPE_NAMES.items()
                  if n not in ("STRING", "RESOURCE", "VARIANT", "INT4", "BFLOAT16", "INT2", "UINT4",
                               "FLOAT8_E4M3FN", "FLOAT8_E5M2")}


def numpy_dtype(tensor_type: int) -> type:
    """The numpy scalar type of a schema ``TensorType`` code."""
    return NUMPY_DTYPES[tensor_type]


def tensor_type(dtype) -> int:
    """The schema ``TensorType`` code of a numpy dtype."""
    dtype = np.dtype(dtype)
    if dtype.kind in "OSU":
        return TENSOR_TYPES["STRING"]   # bytes/str arrays; RESOURCE and VARIANT are never inferred
    try:
        return _TYPE_BY_NUMPY[dtype]
    except KeyError:
        raise ValueError(f"no TFLite tensor type for numpy dtype {np.dtype(dtype)}") from None


def snake(name: str) -> str:
    """CamelCase generated accessor name -> the schema's snake_case field name."""
    s = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    s = re.sub(r"(?<=[A-Z])([A-Z][a-z])", r"_\1", s)
    return s.lower()


class OptionsField:
    """One field of an options table: its schema name and how to read/write it."""

    __slots__ = ("name", "accessor", "adder", "kind", "start_vector", "dtype")

    def __init__(self, name, accessor, adder, kind, start_vector, dtype=None):
        self.name = name            # snake_case schema name, e.g. "stride_w"
        self.accessor = accessor    # generated method name, e.g. "StrideW"
        self.adder = adder          # generated builder function
        self.kind = kind            # "scalar" | "vector" | "string"
        self.start_vector = start_vector
        self.dtype = dtype          # element type of a vector field


class OptionsTable:
    """Reader/writer for one builtin options table, e.g. ``Conv2DOptions``."""

    def __init__(self, table_name: str):
        self.table_name = table_name
        module = generated_module(table_name)
        self.cls = getattr(module, table_name)
        self.start = getattr(module, f"{table_name}Start")
        self.end = getattr(module, f"{table_name}End")
        fields = []
        members = list(vars(self.cls))
        for member in members:
            adder = getattr(module, f"{table_name}Add{member}", None)
            if adder is None:
                continue
            dtype = None
            if f"{member}Length" in members:
                kind = "vector"
                dtype = _vector_dtype(self.cls, member)
            else:
                kind = "string" if "String" in _names(self.cls, member) else "scalar"
            fields.append(OptionsField(snake(member), member, adder, kind,
                                       getattr(module, f"{table_name}Start{member}Vector", None), dtype))
        self.fields: list[OptionsField] = fields
        self.plan = _scalar_plan(self.cls, fields)

    def read(self, table) -> dict:
        """Decode a generated ``flatbuffers.table.Table`` into {field: value}."""
        plan = self.plan
        if plan is not None:
            # Scalar fields straight from the vtable (the generated accessors take ~4 us a field).
            data, pos = table.Bytes, table.Pos
            vt = pos - _SOFFSET(data, pos)[0]
            vlen = _VOFFSET(data, vt)[0]
            out = {}
            for name, voff, unpack, default, as_bool in plan:
                o = _VOFFSET(data, vt + voff)[0] if voff < vlen else 0
                if o:
                    v = unpack(data, pos + o)[0]
                    out[name] = bool(v) if as_bool else v
                else:
                    out[name] = default
            return out
        obj = self.cls()
        obj.Init(table.Bytes, table.Pos)
        out = {}
        for f in self.fields:
            if f.kind == "vector":
                if getattr(obj, f.accessor + "IsNone")():
                    out[f.name] = None
                else:
                    out[f.name] = np.array(getattr(obj, f.accessor + "AsNumpy")())
            elif f.kind == "string":
                raw = getattr(obj, f.accessor)()
                out[f.name] = None if raw is None else raw.decode("utf-8", "replace")
            else:
                out[f.name] = getattr(obj, f.accessor)()
        return out

    def defaults(self) -> dict:
        """Field values of an empty table (the schema defaults)."""
        import flatbuffers

        b = flatbuffers.Builder(64)
        self.start(b)
        b.Finish(self.end(b))
        buf = b.Output()
        obj = self.cls.GetRootAs(buf, 0)
        return self.read(obj._tab)

    def write(self, builder, values: dict) -> int:
        """Serialize {field: value} and return the table offset."""
        prepared = {}
        # Vectors and strings must be created before the table is started.
        for f in self.fields:
            v = values.get(f.name)
            if v is None:
                continue
            if f.kind == "vector":
                prepared[f.name] = builder.CreateNumpyVector(np.ascontiguousarray(v, dtype=f.dtype))
            elif f.kind == "string":
                prepared[f.name] = builder.CreateString(v)
        self.start(builder)
        for f in self.fields:
            v = values.get(f.name)
            if v is None:
                continue
            f.adder(builder, prepared.get(f.name, v) if f.kind != "scalar" else _scalar(v))
        return self.end(builder)


_SOFFSET = struct.Struct("<i").unpack_from
_VOFFSET = struct.Struct("<H").unpack_from
_FLAG_FORMATS = {"BoolFlags": "<B", "Int8Flags": "<b", "Uint8Flags": "<B", "Int16Flags": "<h", "Uint16Flags": "<H",
                 "Int32Flags": "<i", "Uint32Flags": "<I", "Int64Flags": "<q", "Uint64Flags": "<Q",
                 "Float32Flags": "<f", "Float64Flags": "<d"}
_ACCESSOR_NAMES = ("flatbuffers", "number_types", "UOffsetTFlags", "py_type", "_tab", "Offset")


def _scalar_plan(cls, fields):
    """[(name, vtable offset, unpack, default, as_bool)] for a table of scalar fields only, read
    from its generated accessors' code (`o = ...Offset(N)`, `Get(...XFlags, ...)`, `return D`), or
    None when a field is not a scalar or an accessor does not have exactly that form (the
    accessors are then called)."""
    import dis

    plan = []
    for f in fields:
        if f.kind != "scalar":
            return None
        code = getattr(getattr(cls, f.accessor, None), "__code__", None)
        if code is None:
            return None
        names = code.co_names
        as_bool = "bool" in names
        rest = tuple(n for n in names if n != "bool")
        if (len(rest) != 9 or rest[:6] != _ACCESSOR_NAMES or rest[6] != "Get" or rest[8] != "Pos"
                or rest[7] not in _FLAG_FORMATS or (as_bool and rest[7] != "BoolFlags")):
            return None
        ops = [i for i in dis.get_instructions(code) if i.opname not in ("CACHE", "NOP", "RESUME")]
        consts = [i.argval for i in ops if i.opname in ("LOAD_CONST", "RETURN_CONST")]
        # The first constant is Offset's argument; the last one is returned when the field is absent.
        if not consts or not ops[-1].opname.startswith("RETURN") or (
                ops[-1].opname == "RETURN_VALUE" and ops[-2].opname != "LOAD_CONST"):
            return None
        offset, default = consts[0], consts[-1]
        if type(offset) is not int or offset < 4 or offset % 2 or type(default) not in (int, float, bool):
            return None
        plan.append((f.name, offset, struct.Struct(_FLAG_FORMATS[rest[7]]).unpack_from, default, as_bool))
    return plan


def _scalar(v):
    if isinstance(v, (np.generic,)):
        return v.item()
    return v


def _names(cls, member) -> tuple:
    """Names a generated accessor's bytecode uses (no source files are read)."""
    code = getattr(getattr(cls, member, None), "__code__", None)
    return code.co_names if code is not None else ()


def _vector_dtype(cls, member):
    """Element type of a vector field, from the flags its AsNumpy accessor reads (e.g. Int32Flags)."""
    flags = [n for n in _names(cls, member + "AsNumpy") if n.endswith("Flags") and n != "UOffsetTFlags"]
    return np.dtype(flags[0][:-len("Flags")].lower()) if flags else None


class _PlainOptionsTable:
    """An options table of numeric vector fields only (in slot order), for the
    tables the generated bindings lack; the same interface as OptionsTable."""

    def __init__(self, table_name: str, fields: dict):
        self.table_name = table_name
        self.fields = [OptionsField(name, None, None, "vector", None, np.dtype(dtype))
                       for name, dtype in fields.items()]

    def read(self, table) -> dict:
        from flatbuffers import number_types

        out = {}
        for slot, f in enumerate(self.fields):
            o = table.Offset(4 + 2 * slot)
            flags = getattr(number_types, f.dtype.name.capitalize() + "Flags")
            out[f.name] = np.array(table.GetVectorAsNumpy(flags, o)) if o else None
        return out

    def defaults(self) -> dict:
        return {f.name: None for f in self.fields}

    def write(self, builder, values: dict) -> int:
        vectors = {f.name: builder.CreateNumpyVector(np.ascontiguousarray(values[f.name], dtype=f.dtype))
                   for f in self.fields if values.get(f.name) is not None}
        builder.StartObject(len(self.fields))
        for slot, f in enumerate(self.fields):
            if f.name in vectors:
                builder.PrependUOffsetTRelativeSlot(slot, vectors[f.name], 0)
        return builder.EndObject()


@functools.lru_cache(maxsize=None)
def options_table(table_name: str) -> OptionsTable:
    try:
        return OptionsTable(table_name)
    except ImportError:
        if table_name not in _PLAIN_OPTIONS2:
            raise
        return _PlainOptionsTable(table_name, _PLAIN_OPTIONS2[table_name][1])


# The options table each builtin operator uses, derived from the schema's naming
# ("CONV_2D" -> "Conv2DOptions").  Ops whose options table does not follow the
# naming rule are found by a normalised-name match; the few true exceptions
# (one table shared by several ops) are listed where the schema shares them.
_SHARED_OPTIONS = {
    "MAX_POOL_2D": "Pool2DOptions", "AVERAGE_POOL_2D": "Pool2DOptions", "L2_POOL_2D": "Pool2DOptions",
    "REDUCE_MAX": "ReducerOptions", "REDUCE_MIN": "ReducerOptions", "REDUCE_PROD": "ReducerOptions",
    "REDUCE_ANY": "ReducerOptions", "REDUCE_ALL": "ReducerOptions", "SUM": "ReducerOptions",
    "MEAN": "ReducerOptions",
    "RELU_N1_TO_1": None, "RELU": None, "RELU6": None, "LOGISTIC": None, "TANH": None,
    "LSTM": "LSTMOptions", "UNIDIRECTIONAL_SEQUENCE_LSTM": "UnidirectionalSequenceLSTMOptions",
    "BIDIRECTIONAL_SEQUENCE_LSTM": "BidirectionalSequenceLSTMOptions",
    "RNN": "RNNOptions", "UNIDIRECTIONAL_SEQUENCE_RNN": "SequenceRNNOptions",
    "BIDIRECTIONAL_SEQUENCE_RNN": "BidirectionalSequenceRNNOptions",
    "DEPTHWISE_CONV_2D": "DepthwiseConv2DOptions", "CONV_3D": "Conv3DOptions",
    "CONV_3D_TRANSPOSE": "Conv3DOptions", "TRANSPOSE_CONV": "TransposeConvOptions",
    "SPLIT_V": "SplitVOptions", "PADV2": "PadV2Options", "SELECT_V2": "SelectV2Options",
    "RESIZE_NEAREST_NEIGHBOR": "ResizeNearestNeighborOptions",
    "CONCATENATION": "ConcatenationOptions", "L2_NORMALIZATION": "L2NormOptions",
    "LOCAL_RESPONSE_NORMALIZATION": "LocalResponseNormalizationOptions",
    "BATCH_MATMUL": "BatchMatMulOptions", "LEAKY_RELU": "LeakyReluOptions",
    "SQUARED_DIFFERENCE": "SquaredDifferenceOptions", "MIRROR_PAD": "MirrorPadOptions",
    "SPACE_TO_DEPTH": "SpaceToDepthOptions", "DEPTH_TO_SPACE": "DepthToSpaceOptions",
    "ARG_MAX": "ArgMaxOptions", "ARG_MIN": "ArgMinOptions", "LOG_SOFTMAX": "LogSoftmaxOptions",
    "EMBEDDING_LOOKUP_SPARSE": "EmbeddingLookupSparseOptions", "HARD_SWISH": "HardSwishOptions",
    "STRIDED_SLICE": "StridedSliceOptions", "FULLY_CONNECTED": "FullyConnectedOptions",
    "UNSORTED_SEGMENT_PROD": "UnsortedSegmentProdOptions",
    "RANDOM_UNIFORM": "RandomOptions", "RANDOM_STANDARD_NORMAL": "RandomOptions", "MULTINOMIAL": "RandomOptions",
}


def _norm(s: str) -> str:
    return s.replace("_", "").lower()


@functools.lru_cache(maxsize=None)
def options_for_op(op_name: str) -> tuple[str, int] | None:
    """(options table name, BuiltinOptions union type) for a builtin op, or None.

    Looks in BuiltinOptions first, then BuiltinOptions2 (StableHLO ops); the
    second element tells which union via its table name membership.
    """
    if op_name in _SHARED_OPTIONS:
        table = _SHARED_OPTIONS[op_name]
        if table is None:
            return None
        if table in OPTIONS_TYPES:
            return table, OPTIONS_TYPES[table]
        if table in OPTIONS2_TYPES:
            return table, OPTIONS2_TYPES[table]
        return None
    key = _norm(op_name) + "options"
    for names in (OPTIONS_TYPES, OPTIONS2_TYPES):
        for table, code in names.items():
            if _norm(table) == key:
                return table, code
    return None
