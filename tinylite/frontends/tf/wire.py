"""A protobuf wire-format decoder for the few TensorFlow messages tinylite reads.

Why not the `protobuf` package: the messages needed are a small, stable subset of
TensorFlow's protos (field numbers never change once released), the files are
small, and decoding them here costs less than importing `google.protobuf` plus
compiled descriptors would.  No new dependency, no generated code to keep in step.

A schema is a dict ``field_number -> (name, kind)``; kind is one of the scalar
kinds below, another schema dict (a nested message), or ``("map", key_kind,
value_kind)``.  Names ending in ``[]`` are repeated fields (packed or not).
Decoded messages are plain dicts holding only the fields present.
"""
from __future__ import annotations

import struct

from ...errors import ConverterError


class WireError(ConverterError):
    """The bytes are not a valid protobuf encoding of the expected message."""


_F32 = struct.Struct("<f")
_F64 = struct.Struct("<d")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


def _varint(buf, pos, end):
    result = shift = 0
    while True:
        if pos >= end:
            raise WireError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise WireError("varint longer than 10 bytes")


def _signed64(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def _signed32(v):
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v


_VARINT_KINDS = {"uint": lambda v: v, "int64": _signed64, "int32": _signed32, "enum": _signed32,
                 "bool": bool}
_FIXED32_KINDS = {"float": lambda b, p: _F32.unpack_from(b, p)[0], "fixed32": lambda b, p: _U32.unpack_from(b, p)[0]}
_FIXED64_KINDS = {"double": lambda b, p: _F64.unpack_from(b, p)[0], "fixed64": lambda b, p: _U64.unpack_from(b, p)[0]}

_compiled: dict = {}


def _compile(schema):
    """Field table: number -> (name, repeated, kind)."""
    table = _compiled.get(id(schema))
    if table is None:
        table = {}
        for num, (name, kind) in schema.items():
            rep = name.endswith("[]")
            table[num] = (name[:-2] if rep else name, rep, kind)
        _compiled[id(schema)] = table
    return table


def decode(buf, schema, start: int = 0, end: int | None = None) -> dict:
    """Decode one message of `schema` from buf[start:end] (bytes or memoryview); WireError if
    the bytes are not such a message."""
    try:
        return _decode(buf, schema, start, end)
    except (struct.error, IndexError, ValueError, TypeError, RecursionError) as e:
        if isinstance(e, WireError):
            raise
        raise WireError(f"malformed protobuf ({type(e).__name__}: {e})") from None


def _decode(buf, schema, start: int = 0, end: int | None = None) -> dict:
    if end is None:
        end = len(buf)
    table = _compile(schema)
    out: dict = {}
    pos = start
    while pos < end:
        key, pos = _varint(buf, pos, end)
        num, wt = key >> 3, key & 7
        field = table.get(num)
        if wt == 0:
            v, pos = _varint(buf, pos, end)
            if field is not None:
                name, rep, kind = field
                conv = _VARINT_KINDS.get(kind) if isinstance(kind, str) else None
                if conv is None:
                    raise WireError(f"field {name} (#{num}) has wire type varint, expected {kind}")
                _put(out, name, rep, conv(v))
        elif wt == 2:
            n, pos = _varint(buf, pos, end)
            stop = pos + n
            if stop > end:
                raise WireError(f"field #{num}: {n} bytes declared, {end - pos} left (truncated)")
            if field is not None:
                name, rep, kind = field
                if kind == "bytes":
                    _put(out, name, rep, bytes(buf[pos:stop]))
                elif kind == "string":
                    _put(out, name, rep, bytes(buf[pos:stop]).decode("utf-8", "replace"))
                elif kind == "view":
                    _put(out, name, rep, buf[pos:stop])
                elif isinstance(kind, dict):
                    _put(out, name, rep, _decode(buf, kind, pos, stop))
                elif isinstance(kind, tuple):          # map entry: key = 1, value = 2
                    entry = _decode(buf, _map_entry(kind), pos, stop)
                    m = out.setdefault(name, {})
                    v = entry.get("v")
                    m[entry.get("k", "" if kind[1] == "string" else 0)] = {} if v is None and isinstance(kind[2], dict) else v
                else:                                  # packed repeated scalars
                    lst = out.setdefault(name, [])
                    lst.extend(_packed(buf, pos, stop, kind, name))
            pos = stop
        elif wt == 5:
            if pos + 4 > end:
                raise WireError("truncated fixed32")
            if field is not None:
                name, rep, kind = field
                conv = _FIXED32_KINDS.get(kind) if isinstance(kind, str) else None
                if conv is None:
                    raise WireError(f"field {name} (#{num}) has wire type fixed32, expected {kind}")
                _put(out, name, rep, conv(buf, pos))
            pos += 4
        elif wt == 1:
            if pos + 8 > end:
                raise WireError("truncated fixed64")
            if field is not None:
                name, rep, kind = field
                conv = _FIXED64_KINDS.get(kind) if isinstance(kind, str) else None
                if conv is None:
                    raise WireError(f"field {name} (#{num}) has wire type fixed64, expected {kind}")
                _put(out, name, rep, conv(buf, pos))
            pos += 8
        else:
            raise WireError(f"unsupported wire type {wt} for field #{num} at byte {pos}")
    if pos != end:
        raise WireError("message overruns its length (truncated)")
    return out


_entries: dict = {}


def _map_entry(kind):
    entry = _entries.get(id(kind))
    if entry is None:
        entry = _entries[id(kind)] = {1: ("k", kind[1]), 2: ("v", kind[2])}
    return entry


def _put(out, name, rep, v):
    if rep:
        out.setdefault(name, []).append(v)
    else:
        out[name] = v


def _packed(buf, pos, stop, kind, name):
    if kind in _VARINT_KINDS:
        conv = _VARINT_KINDS[kind]
        vals = []
        while pos < stop:
            v, pos = _varint(buf, pos, stop)
            vals.append(conv(v))
        return vals
    if kind in ("float", "fixed32"):
        if (stop - pos) % 4:
            raise WireError(f"packed field {name}: length not a multiple of 4")
        return list(struct.unpack_from(f"<{(stop - pos) // 4}{'f' if kind == 'float' else 'I'}", buf, pos))
    if kind in ("double", "fixed64"):
        if (stop - pos) % 8:
            raise WireError(f"packed field {name}: length not a multiple of 8")
        return list(struct.unpack_from(f"<{(stop - pos) // 8}{'d' if kind == 'double' else 'Q'}", buf, pos))
    raise WireError(f"field {name} has wire type length-delimited, expected {kind}")


# -- the TensorFlow messages (field numbers from tensorflow/core/framework/*.proto) ----------

TENSOR_SHAPE = {2: ("dim[]", {1: ("size", "int64"), 2: ("name", "string")}), 3: ("unknown_rank", "bool")}

TENSOR = {
    1: ("dtype", "enum"), 2: ("tensor_shape", TENSOR_SHAPE), 3: ("version_number", "int32"),
    4: ("tensor_content", "view"), 5: ("float_val[]", "float"), 6: ("double_val[]", "double"),
    7: ("int_val[]", "int32"), 8: ("string_val[]", "bytes"), 10: ("int64_val[]", "int64"),
    11: ("bool_val[]", "bool"), 13: ("half_val[]", "int32"), 16: ("uint32_val[]", "uint"),
    17: ("uint64_val[]", "uint"),
}

ATTR_VALUE: dict = {}
NAME_ATTR_LIST = {1: ("name", "string"), 2: ("attr", ("map", "string", ATTR_VALUE))}
ATTR_LIST = {2: ("s[]", "bytes"), 3: ("i[]", "int64"), 4: ("f[]", "float"), 5: ("b[]", "bool"),
             6: ("type[]", "enum"), 7: ("shape[]", TENSOR_SHAPE), 8: ("tensor[]", TENSOR),
             9: ("func[]", NAME_ATTR_LIST)}
ATTR_VALUE.update({1: ("list", ATTR_LIST), 2: ("s", "bytes"), 3: ("i", "int64"), 4: ("f", "float"),
                   5: ("b", "bool"), 6: ("type", "enum"), 7: ("shape", TENSOR_SHAPE), 8: ("tensor", TENSOR),
                   9: ("placeholder", "string"), 10: ("func", NAME_ATTR_LIST)})

NODE = {1: ("name", "string"), 2: ("op", "string"), 3: ("input[]", "string"), 4: ("device", "string"),
        5: ("attr", ("map", "string", ATTR_VALUE))}

ARG_DEF = {1: ("name", "string"), 3: ("type", "enum"), 4: ("type_attr", "string"),
           5: ("number_attr", "string"), 6: ("type_list_attr", "string")}
OP_DEF = {1: ("name", "string"), 2: ("input_arg[]", ARG_DEF), 3: ("output_arg[]", ARG_DEF)}
FUNCTION = {1: ("signature", OP_DEF), 3: ("node_def[]", NODE), 4: ("ret", ("map", "string", "string")),
            5: ("attr", ("map", "string", ATTR_VALUE))}
# Functions stay undecoded until the lowering calls one: a SavedModel also holds its
# save/restore functions and a wrapper per signature, which a conversion never reads.
LIBRARY = {1: ("function[]", "view")}
FUNCTION_NAME = {1: ("signature", {1: ("name", "string")})}
GRAPH = {1: ("node[]", NODE), 2: ("library", LIBRARY)}

TENSOR_INFO = {1: ("name", "string"), 2: ("dtype", "enum"), 3: ("tensor_shape", TENSOR_SHAPE)}
SIGNATURE = {1: ("inputs", ("map", "string", TENSOR_INFO)), 2: ("outputs", ("map", "string", TENSOR_INFO)),
             3: ("method_name", "string")}

OBJECT_REF = {1: ("node_id", "int32"), 2: ("local_name", "string")}
SAVED_VARIABLE = {1: ("dtype", "enum"), 2: ("shape", TENSOR_SHAPE), 6: ("name", "string")}
SAVED_OBJECT = {1: ("children[]", OBJECT_REF), 7: ("variable", SAVED_VARIABLE),
                6: ("function", {1: ("concrete_functions[]", "string")}),
                8: ("bare_concrete_function", {1: ("concrete_function_name", "string")}),
                9: ("constant", {1: ("operation", "string")}),
                4: ("user_object", {1: ("identifier", "string")})}
SAVED_CONCRETE_FUNCTION = {2: ("bound_inputs[]", "int32")}
OBJECT_GRAPH = {1: ("nodes[]", SAVED_OBJECT), 2: ("concrete_functions", ("map", "string", SAVED_CONCRETE_FUNCTION))}

META_INFO = {4: ("tags[]", "string"), 5: ("tensorflow_version", "string")}
META_GRAPH = {1: ("meta_info_def", META_INFO), 2: ("graph_def", GRAPH),
              5: ("signature_def", ("map", "string", SIGNATURE)), 7: ("object_graph_def", OBJECT_GRAPH)}
SAVED_MODEL = {1: ("saved_model_schema_version", "int64"), 2: ("meta_graphs[]", META_GRAPH)}

# tensorflow/core/protobuf/tensor_bundle.proto
BUNDLE_HEADER = {1: ("num_shards", "int32"), 2: ("endianness", "enum")}
BUNDLE_ENTRY = {1: ("dtype", "enum"), 2: ("shape", TENSOR_SHAPE), 3: ("shard_id", "int32"),
                4: ("offset", "int64"), 5: ("size", "int64"), 6: ("crc32c", "fixed32"),
                7: ("slices[]", "bytes")}

# tensorflow/core/protobuf/trackable_object_graph.proto (the checkpoint's object graph)
TRACKABLE_GRAPH = {1: ("nodes[]", {1: ("children[]", OBJECT_REF),
                                   2: ("attributes[]", {1: ("name", "string"), 2: ("full_name", "string"),
                                                        3: ("checkpoint_key", "string")})})}
