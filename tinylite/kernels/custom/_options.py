"""Reading a custom op's options: the FlexBuffer map most custom ops store, and
its values read as LiteRT's kernels read them (flexbuffers' AsInt64, AsFloat,
AsBool convert whatever type the writer chose, and a missing key reads as 0)."""
from __future__ import annotations

import math


def flexbuffer_map(node) -> dict:
    """The custom options of `node` as a dict; {} when it has none."""
    raw = node.custom_options
    if raw is None or len(raw) == 0:
        return {}
    from flatbuffers import flexbuffers

    try:
        value = flexbuffers.Loads(bytes(raw))
    except Exception as e:  # malformed bytes: say what and where
        node.fail(f"custom options are not a valid FlexBuffer ({type(e).__name__}: {e}); "
                  "the file is damaged or was written for another op")
    if not isinstance(value, dict):
        node.fail(f"custom options hold a {type(value).__name__}, expected a FlexBuffer map")
    return value


def _number(node, opts, key):
    value = opts.get(key)
    if value is None:
        return 0
    if isinstance(value, (bool, int, float)):
        return value
    node.fail(f"custom option {key!r} holds a {type(value).__name__} ({value!r}), expected a number")


def as_int(node, opts, key) -> int:
    """flexbuffers' AsInt64: a float truncates toward zero (a C cast), a bool is 0 or 1."""
    value = _number(node, opts, key)
    if isinstance(value, float):
        if not math.isfinite(value) or abs(value) >= 2.0**63:
            node.fail(f"custom option {key!r} is {value}, which no 64-bit integer holds")
        return int(value)
    return int(value)


def as_float(node, opts, key) -> float:
    """flexbuffers' AsFloat."""
    return float(_number(node, opts, key))


def as_bool(node, opts, key) -> bool:
    """flexbuffers' AsBool: any nonzero number is true."""
    return bool(_number(node, opts, key))


def expect_io(node, inputs: str, outputs: str = "1 output"):
    """Fail unless the op has as many inputs and outputs as `inputs` and `outputs` say
    ("2 inputs (spectrogram, sample rate)": the count comes first)."""
    if len(node.inputs) != int(inputs.split()[0]) or len(node.outputs) != int(outputs.split()[0]):
        node.fail(f"expects {inputs} and {outputs}, got {len(node.inputs)} input(s) and {len(node.outputs)} output(s)")
