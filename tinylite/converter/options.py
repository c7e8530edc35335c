"""Builtin options by schema field name: enum values may be given by name."""
from __future__ import annotations

import functools

from ..flatbuffer.schema import (
    ACTIVATIONS,
    OPTIONS2_TYPES,
    OPTIONS_TYPES,
    PADDINGS,
    TENSOR_TYPES,
    generated_module,
    options_for_op,
    options_table,
)

# Option values given by name are turned into the schema's enum codes.
_ENUM_FIELDS = {
    "fused_activation_function": ACTIVATIONS,
    "padding": PADDINGS,
    "in_data_type": TENSOR_TYPES, "out_data_type": TENSOR_TYPES,
    "output_type": TENSOR_TYPES, "out_type": TENSOR_TYPES, "idx_out_type": TENSOR_TYPES,
}


def _mirror_pad_modes():
    MirrorPadMode = generated_module("MirrorPadMode").MirrorPadMode
    return {k: v for k, v in vars(MirrorPadMode).items() if not k.startswith("_")}


@functools.lru_cache(maxsize=None)
def _defaults(table: str) -> dict:
    # Decoding an empty table takes a FlatBuffer round trip; every op of a model asks.
    return options_table(table).defaults()


def encode_options(op_name: str, options: dict | None) -> tuple[int, dict | None]:
    """(builtin_options_type, options dict with enum names replaced by codes)."""
    found = options_for_op(op_name)
    if found is None:
        if options:
            raise ValueError(f"{op_name} takes no builtin options, got {sorted(options)}")
        return 0, None
    table, code = found
    values = dict(_defaults(table))
    string_fields = {f.name for f in options_table(table).fields if f.kind == "string"}
    for k, v in (options or {}).items():
        if k not in values:
            raise ValueError(f"{table} has no field {k!r}; fields: {sorted(values)}")
        if isinstance(v, str) and k not in string_fields:
            enum = _ENUM_FIELDS.get(k) or (_mirror_pad_modes() if k == "mode" else None)
            if enum is None:
                raise ValueError(f"{table}.{k} is not an enum; got {v!r}")
            v = enum[v]
        values[k] = v
    return code, values


def set_options(op, op_name: str, options: dict | None) -> None:
    """Encode `options` onto an Operator, in whichever options union the op's table lives."""
    options_type, values = encode_options(op_name, options)
    found = options_for_op(op_name)
    if found is not None and found[0] not in OPTIONS_TYPES and found[0] in OPTIONS2_TYPES:
        op.builtin_options_2_type, op.builtin_options_2 = options_type, values
    else:
        op.builtin_options_type, op.builtin_options = options_type, values
