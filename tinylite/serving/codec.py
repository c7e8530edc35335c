"""JSON <-> numpy for the TF Serving REST API.

Request bodies follow TF Serving's predict API: the row format (``instances``,
a list with one entry per batch row) and the columnar format (``inputs``, a
value or an object of named values).  Responses use ``predictions`` / ``outputs``
in the same shapes TF Serving gives them.  Values are decoded with numpy in one
pass (``np.asarray`` over the nested lists), then checked against the
signature's dtype and shape, so a malformed request is a 400 with a message
naming the input, never a failure inside the interpreter.

Quantized inputs and outputs (an integer tensor with one scale and zero
point) are exchanged as real numbers by default: the server quantizes inputs
(``round(x / scale + zero_point)``) and dequantizes outputs.  A real value outside
what the tensor's integers can represent (300 for an int8 input whose range is
[-1, 1], 1e30, NaN) is rejected with a 400 naming the input, the offending value
and the representable range, rather than clipped silently: clip on the client
if that is what you mean.  A request with ``"raw_integers": true`` exchanges the
stored integers instead.

``{"b64": "..."}`` in place of a tensor (columnar) or of one row (row format)
carries the raw little-endian bytes of that tensor in its stored dtype (an
image as uint8, for example); string tensors take it as TF Serving does, one
binary string per element.
"""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

import numpy as np

# TFLite TensorType code -> TensorFlow DataType name, as TF Serving prints them.
DT_NAMES = {
    0: "DT_FLOAT", 1: "DT_HALF", 2: "DT_INT32", 3: "DT_UINT8", 4: "DT_INT64", 5: "DT_STRING",
    6: "DT_BOOL", 7: "DT_INT16", 8: "DT_COMPLEX64", 9: "DT_INT8", 10: "DT_DOUBLE", 11: "DT_COMPLEX128",
    12: "DT_UINT64", 13: "DT_RESOURCE", 14: "DT_VARIANT", 15: "DT_UINT32", 16: "DT_UINT16",
    17: "DT_INT4", 18: "DT_BFLOAT16",
}
_DT_BY_NUMPY = {np.dtype(np.float32): "DT_FLOAT", np.dtype(np.float16): "DT_HALF", np.dtype(np.float64): "DT_DOUBLE",
                np.dtype(np.int8): "DT_INT8", np.dtype(np.uint8): "DT_UINT8", np.dtype(np.int16): "DT_INT16",
                np.dtype(np.uint16): "DT_UINT16", np.dtype(np.int32): "DT_INT32", np.dtype(np.uint32): "DT_UINT32",
                np.dtype(np.int64): "DT_INT64", np.dtype(np.uint64): "DT_UINT64", np.dtype(np.bool_): "DT_BOOL",
                np.dtype(object): "DT_STRING"}


class RequestError(Exception):
    """An error answered as ``{"error": message}`` with an HTTP status."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class TensorSpec:
    """One named input or output of a served signature."""

    key: str              # the signature's name for it (what clients use)
    tensor_name: str      # the .tflite tensor name (metadata's "name")
    index: int
    dtype: np.dtype       # stored dtype
    type_code: int        # TFLite TensorType
    shape: tuple          # shape_signature, -1 for free dimensions
    scale: float | None = None   # set for per-tensor quantized integer tensors
    zero_point: int = 0

    @property
    def quantized(self) -> bool:
        return self.scale is not None

    def wire_dtype(self, raw: bool) -> np.dtype:
        return np.dtype(np.float32) if self.quantized and not raw else self.dtype

    def wire_dt_name(self, raw: bool) -> str:
        return "DT_FLOAT" if self.quantized and not raw else DT_NAMES.get(self.type_code, "DT_INVALID")


def _short(value, limit: int = 120) -> str:
    try:
        text = json.dumps(value, allow_nan=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _json_type(value) -> str:
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (int, float)):
        return "Number"
    if isinstance(value, str):
        return "String"
    if isinstance(value, dict):
        return "Object"
    return "Array"


def is_b64(value) -> bool:
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get("b64"), str)


def _b64decode(value, where: str) -> bytes:
    try:
        return base64.b64decode(value["b64"], validate=True)
    except (binascii.Error, ValueError):
        try:   # TF Serving also accepts the URL-safe alphabet
            return base64.b64decode(value["b64"], altchars=b"-_", validate=True)
        except (binascii.Error, ValueError):
            raise RequestError(f"{where}: Unable to base64 decode {_short(value)}") from None


def _from_b64(value, spec: TensorSpec, shape: tuple, where: str) -> np.ndarray:
    """Raw bytes -> an array of the stored dtype; free dimensions (-1) are inferred from the size."""
    data = _b64decode(value, where)
    if spec.dtype == np.dtype(object):
        return np.array(data, dtype=object)
    item = spec.dtype.itemsize
    if len(data) % item:
        raise RequestError(f"{where}: {len(data)} base64-decoded bytes are not a whole number of "
                           f"{spec.dtype.name} values ({item} bytes each)")
    count = len(data) // item
    known = [d for d in shape if d != -1]
    free = len(shape) - len(known)
    fixed = int(np.prod(known)) if known else 1
    if free > 1:
        raise RequestError(f"{where}: binary ({{\"b64\": ...}}) values need a shape with at most one free "
                           f"dimension; the signature's shape is {list(shape)}; send a nested list instead")
    if (free == 0 and count != fixed) or (free == 1 and (fixed == 0 or count % fixed or count == 0)):
        raise RequestError(f"{where}: {count} {spec.dtype.name} values (from {len(data)} bytes) do not fit "
                           f"the shape {list(shape)}")
    out_shape = tuple(count // fixed if d == -1 else d for d in shape)
    return np.frombuffer(data, dtype=spec.dtype.newbyteorder("<")).astype(spec.dtype).reshape(out_shape)


def _contains_dict(value) -> bool:
    """Whether the first leaf of nested lists is a JSON object (b64 strings of a string tensor).
    Objects elsewhere are caught when numpy turns the lists into an object array."""
    while isinstance(value, list) and value:
        value = value[0]
    return isinstance(value, dict)


def _numbers_to_array(value, spec: TensorSpec, raw: bool, where: str) -> np.ndarray:
    """A JSON value (number, bool, string or nested lists of them) -> an array of the wire dtype."""
    target = spec.wire_dtype(raw)
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):
        raise RequestError(f"{where}: the nested lists are not rectangular (lists at the same depth must have the "
                           "same length and hold only lists, or only values)") from None
    except RecursionError:
        raise RequestError(f"{where}: the value is nested too deeply") from None
    kind = arr.dtype.kind
    dt_name = spec.wire_dt_name(raw)
    if kind == "O":
        # Ragged lists that numpy could not refuse (objects, None, integers beyond 64 bits) end here.
        bad = next((v for v in arr.reshape(-1)
                    if not isinstance(v, (int, float)) or isinstance(v, bool)), arr.reshape(-1)[0]) \
            if arr.size else value
        if isinstance(bad, int) and not isinstance(bad, bool):
            raise RequestError(f"{where}: JSON Value: {_short(bad)} is out of the range of {dt_name}")
        if target == np.dtype(object) and all(isinstance(v, str) for v in arr.reshape(-1)):
            return np.array([v.encode("utf-8") for v in arr.reshape(-1)], dtype=object).reshape(arr.shape)
        raise RequestError(f"{where}: JSON Value: {_short(bad)} Type: {_json_type(bad)} is not of expected "
                           f"type: {dt_name}")
    if target == np.dtype(object):
        if kind != "U":
            raise RequestError(f"{where}: JSON values of type {'Number' if kind in 'iuf' else 'Bool'} are not of "
                               f"expected type: {dt_name}")
        return np.array([v.encode("utf-8") for v in arr.reshape(-1).tolist()], dtype=object).reshape(arr.shape)
    if kind == "U":
        raise RequestError(f"{where}: JSON values of type String are not of expected type: {dt_name}")
    if target.kind == "b":
        if kind != "b":
            raise RequestError(f"{where}: JSON values of type Number are not of expected type: {dt_name} "
                               "(use true/false)")
        return arr
    if kind == "b":
        raise RequestError(f"{where}: JSON values of type Bool are not of expected type: {dt_name}")
    if target.kind == "f":
        if kind == "f" and arr.size:
            finite = arr[np.isfinite(arr)]
            limit = float(np.finfo(target).max)
            if finite.size and float(np.max(np.abs(finite))) > limit:
                raise RequestError(f"{where}: Cannot convert JSON value: "
                                   f"{_short(float(finite[np.argmax(np.abs(finite))]))} to {target.name} without "
                                   "loss of precision (out of range)")
        return arr.astype(target)
    # Integer target.
    if kind == "f":
        raise RequestError(f"{where}: JSON values of type Number with a fraction or exponent are not of expected "
                           f"type: {dt_name} (send integers)")
    if arr.size:
        info = np.iinfo(target)
        lo, hi = int(arr.min()), int(arr.max())
        if lo < info.min or hi > info.max:
            bad = lo if lo < info.min else hi
            raise RequestError(f"{where}: JSON Value: {bad} is out of the range of {dt_name} "
                               f"[{info.min}, {info.max}]")
    return arr.astype(target)


def value_to_array(value, spec: TensorSpec, raw: bool, where: str, row_shape: bool = False) -> np.ndarray:
    """One tensor (columnar) from JSON, in the wire dtype (b64 values: the stored dtype)."""
    if is_b64(value):
        shape = spec.shape[1:] if row_shape else spec.shape
        return _from_b64(value, spec, shape, where)
    if isinstance(value, dict):
        raise RequestError(f"{where}: JSON Value: {_short(value)} Type: Object is not of expected type: "
                           f"{spec.wire_dt_name(raw)}")
    if _contains_dict(value) and spec.dtype == np.dtype(object):
        return _strings_with_b64(value, where)
    return _numbers_to_array(value, spec, raw, where)


def _strings_with_b64(value, where: str) -> np.ndarray:
    def walk(v):
        if isinstance(v, list):
            return [walk(x) for x in v]
        if is_b64(v):
            return _b64decode(v, where)
        if isinstance(v, str):
            return v.encode("utf-8")
        raise RequestError(f"{where}: JSON Value: {_short(v)} Type: {_json_type(v)} is not of expected type: "
                           "DT_STRING")
    out = walk(value)
    arr = np.empty(np.shape(np.asarray(out, dtype=object)), dtype=object)
    arr[...] = out
    return arr


def rows_to_array(rows: list, spec: TensorSpec, raw: bool, where: str) -> np.ndarray:
    """The row-format values of one input (one entry per row) stacked along a new batch dimension."""
    if any(is_b64(r) for r in rows) and spec.dtype != np.dtype(object):
        parts = [value_to_array(r, spec, raw, f"{where} row {i}", row_shape=True) for i, r in enumerate(rows)]
        shapes = {p.shape for p in parts}
        if len(shapes) > 1:
            raise RequestError(f"{where}: rows have different shapes {sorted(shapes)}; every row of a batch "
                               "must have the same shape")
        return np.stack(parts)   # the stored dtype: to_stored leaves it as it is
    return value_to_array(rows, spec, raw, where)


def to_stored(arr: np.ndarray, spec: TensorSpec, where: str = "input") -> np.ndarray:
    """Wire values -> the tensor's stored dtype (quantizes real values of quantized inputs;
    values the integers cannot represent are a RequestError, see the module docstring)."""
    if arr.dtype == spec.dtype:
        return arr
    if spec.quantized and arr.dtype.kind == "f":
        info = np.iinfo(spec.dtype)
        with np.errstate(over="ignore", invalid="ignore"):
            q = np.round(arr.astype(np.float64) / spec.scale + spec.zero_point)
        bad = ~((q >= info.min) & (q <= info.max))          # NaN compares false: bad too
        if bad.any():
            k = int(np.flatnonzero(bad.reshape(-1))[0])
            lo = (info.min - spec.zero_point) * spec.scale
            hi = (info.max - spec.zero_point) * spec.scale
            raise RequestError(
                f"{where}: value {arr.reshape(-1)[k]!r} (element {k}; {int(bad.sum())} such values) is outside "
                f"the range this {spec.dtype.name} input represents, [{lo:.6g}, {hi:.6g}] (scale {spec.scale:.6g}, "
                f"zero point {spec.zero_point}); values are not clipped: clip them, or send the stored integers "
                "with \"raw_integers\": true")
        return q.astype(spec.dtype)
    return arr.astype(spec.dtype)


def from_stored(arr: np.ndarray, spec: TensorSpec, raw: bool) -> np.ndarray:
    if spec.quantized and not raw:
        return ((arr.astype(np.float32) - np.float32(spec.zero_point)) * np.float32(spec.scale)).astype(np.float32)
    return arr


def to_json_value(arr: np.ndarray, binary: bool = False):
    """An output array -> nested lists.  float32/float16 values go through their shortest decimal
    form, so 0.1f prints as 0.1 (as TF Serving prints floats) and parses back to the same float32."""
    kind = arr.dtype.kind
    if kind == "f" and arr.dtype.itemsize < 8:
        return arr.astype(str).astype(np.float64).tolist()
    if kind == "O" or kind == "S":
        flat = []
        for v in arr.reshape(-1).tolist():
            if isinstance(v, bytes):
                if binary:
                    v = {"b64": base64.b64encode(v).decode("ascii")}
                else:
                    try:
                        v = v.decode("utf-8")
                    except UnicodeDecodeError:
                        v = {"b64": base64.b64encode(v).decode("ascii")}
            flat.append(v)
        out = np.empty(len(flat), dtype=object)
        out[:] = flat
        return out.reshape(arr.shape).tolist()
    if kind == "c":
        raise RequestError("complex outputs have no JSON encoding in the TF Serving REST API", 400)
    return arr.tolist()


def dumps(document) -> bytes:
    # NaN / Infinity tokens are part of TF Serving's JSON dialect.
    return json.dumps(document, allow_nan=True, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class Signature:
    key: str
    inputs: tuple      # of TensorSpec, in the signature's order
    outputs: tuple
    subgraph_index: int = 0
    from_signature_def: bool = True   # False: synthesized from the model's input/output tensors

    def input(self, key):
        return next((s for s in self.inputs if s.key == key), None)


def parse_body(body: bytes) -> dict:
    if not body:
        raise RequestError("JSON Parse error: The document is empty")
    try:
        doc = json.loads(body)
    except RecursionError:
        raise RequestError("JSON Parse error: the document is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise RequestError(f"JSON Parse error: {e}") from None
    if not isinstance(doc, dict):
        raise RequestError(f"JSON Value: {_short(doc)} Is not object")
    return doc


def signature_name(doc: dict) -> str:
    name = doc.get("signature_name", "")
    if not isinstance(name, str):
        raise RequestError("JSON Value: 'signature_name' not formatted correctly. 'signature_name' key must be a "
                           "string value.")
    return name


def raw_integers(doc: dict) -> bool:
    raw = doc.get("raw_integers", False)
    if not isinstance(raw, bool):
        raise RequestError(f"'raw_integers' must be true or false, got {_short(raw)}")
    return raw


def _check_shape(arr: np.ndarray, spec: TensorSpec, where: str) -> None:
    want = spec.shape
    if arr.ndim != len(want):
        raise RequestError(f"{where}: expected a tensor of rank {len(want)} (shape {list(want)}, -1 = any size), "
                           f"got rank {arr.ndim} (shape {list(arr.shape)})")
    for d, (got, w) in enumerate(zip(arr.shape, want)):
        # Dimension 0 is the batch: the interpreter resizes it (fixed-batch models run row by row).
        if d > 0 and w != -1 and got != w:
            raise RequestError(f"{where}: dimension {d} must be {w} (the model's shape is {list(want)}), "
                               f"got shape {list(arr.shape)}")
    if arr.size == 0:
        raise RequestError(f"{where}: empty tensor (shape {list(arr.shape)}); every dimension must be at least 1")


def decode_predict(doc: dict, sig: Signature, raw: bool, max_rows: int) -> tuple[dict, str]:
    """A predict request document -> ({input key: array of the stored dtype}, "row" | "columnar")."""
    has_rows, has_cols = "instances" in doc, "inputs" in doc
    if has_rows and has_cols:
        raise RequestError("Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist")
    if not has_rows and not has_cols:
        raise RequestError("Missing 'inputs' or 'instances' key")
    names = [s.key for s in sig.inputs]
    arrays = {}
    if has_rows:
        rows = doc["instances"]
        if not isinstance(rows, list):
            raise RequestError("Excepting 'instances' to be an list/array")
        if not rows:
            raise RequestError("No values in 'instances' array")
        if len(rows) > max_rows:
            raise RequestError(f"'instances' has {len(rows)} rows; this server accepts at most {max_rows} per "
                               "request (--max_request_batch); split the request")
        objects = isinstance(rows[0], dict) and not is_b64(rows[0])
        if not objects and len(names) > 1:
            raise RequestError("instances is a plain list, but expecting list of objects as multiple input tensors "
                               f"required as per tensorinfo_map (inputs: {', '.join(sorted(names))})")
        if objects:
            for i, row in enumerate(rows):
                if not isinstance(row, dict) or is_b64(row):
                    raise RequestError(f"Expecting object but got {_json_type(row).lower()} at item {i} of input list")
                if set(row) != set(names):
                    raise RequestError(f"Failed to process element: {i} of 'instances' list. JSON object: "
                                       f"{_short(row)} keys must be equal to: {','.join(sorted(names))}")
            for spec in sig.inputs:
                arrays[spec.key] = rows_to_array([r[spec.key] for r in rows], spec, raw,
                                                 f"'instances' input '{spec.key}'")
        else:
            for i, row in enumerate(rows):
                if isinstance(row, dict) and not is_b64(row):
                    raise RequestError(f"Expecting value/list but got object at item {i} of input list")
            spec = sig.inputs[0]
            arrays[spec.key] = rows_to_array(rows, spec, raw, f"'instances' input '{spec.key}'")
        fmt = "row"
    else:
        value = doc["inputs"]
        if isinstance(value, dict) and not is_b64(value):
            missing = [n for n in names if n not in value]
            if missing:
                raise RequestError(f"Missing named input: {missing[0]} in 'inputs' object. "
                                   f"The signature '{sig.key}' has inputs: {', '.join(names)}")
            extra = [k for k in value if k not in names]
            if extra:
                raise RequestError(f"Unknown input: {extra[0]} in 'inputs' object. "
                                   f"The signature '{sig.key}' has inputs: {', '.join(names)}")
            for spec in sig.inputs:
                arrays[spec.key] = value_to_array(value[spec.key], spec, raw, f"'inputs' input '{spec.key}'")
        else:
            if len(names) > 1:
                raise RequestError("inputs is a plain value/list, but expecting an object as multiple input tensors "
                                   f"required as per tensorinfo_map (inputs: {', '.join(names)})")
            spec = sig.inputs[0]
            arrays[spec.key] = value_to_array(value, spec, raw, f"'inputs' input '{spec.key}'")
        fmt = "columnar"
    for spec in sig.inputs:
        arr = arrays[spec.key]
        _check_shape(arr, spec, f"input '{spec.key}'")
        if arr.ndim and arr.shape[0] > max_rows:
            raise RequestError(f"input '{spec.key}' has a batch of {arr.shape[0]}; this server accepts at most "
                               f"{max_rows} per request (--max_request_batch); split the request")
        arrays[spec.key] = to_stored(arr, spec, f"input '{spec.key}'")
    return arrays, fmt


# JSON bytes one tensor element may take in a request: a float32 written with full
# precision and a separator ("-1.2345678e-38, ") is ~17; this allows generous spacing.
BYTES_PER_ELEMENT = 64


def max_request_bytes(sig: Signature, max_rows: int) -> int | None:
    """The most bytes a predict request for `sig` with at most `max_rows` rows can need, or
    None when it cannot be bounded (strings, or shapes with free dimensions past the batch).
    Checked against Content-Length before the body is read or parsed."""
    elements = 0
    for spec in sig.inputs:
        if spec.dtype == np.dtype(object) or any(d < 0 for d in spec.shape[1:]):
            return None
        elements += int(np.prod(spec.shape[1:], dtype=np.int64))
    # b64 rows hold stored bytes as base64 (4/3 of itemsize <= 11 bytes per element).
    return max_rows * elements * BYTES_PER_ELEMENT + 4096


def encode_predict(outputs: dict, sig: Signature, fmt: str, raw: bool) -> dict:
    """Output arrays -> the response document (TF Serving's shapes: one output is unnamed)."""
    values = {}
    for spec in sig.outputs:
        arr = from_stored(outputs[spec.key], spec, raw)
        values[spec.key] = arr
    if fmt == "columnar":
        if len(sig.outputs) == 1:
            spec = sig.outputs[0]
            return {"outputs": to_json_value(values[spec.key], spec.key.endswith("_bytes"))}
        return {"outputs": {k: to_json_value(v, k.endswith("_bytes")) for k, v in values.items()}}
    batch = None
    for k, v in values.items():
        if v.ndim == 0:
            raise RequestError(f"Tensor name: {k} has no shape information (a scalar output cannot be split into "
                               "rows); use the columnar format ('inputs')")
        if batch is None:
            batch = v.shape[0]
        elif v.shape[0] != batch:
            raise RequestError(f"Tensor name: {k} has inconsistent batch size: {v.shape[0]} expecting: {batch}; "
                               "use the columnar format ('inputs')")
    if len(values) == 1:
        k, v = next(iter(values.items()))
        return {"predictions": to_json_value(v, k.endswith("_bytes"))}
    columns = {k: to_json_value(v, k.endswith("_bytes")) for k, v in values.items()}
    return {"predictions": [{k: col[i] for k, col in columns.items()} for i in range(batch)]}


def tensor_info(spec: TensorSpec, raw: bool) -> dict:
    return {
        "dtype": spec.wire_dt_name(raw),
        "tensor_shape": {"dim": [{"size": str(int(d)), "name": ""} for d in spec.shape], "unknown_rank": False},
        "name": spec.tensor_name,
    }


def signature_def(sig: Signature, raw: bool) -> dict:
    return {
        "inputs": {s.key: tensor_info(s, raw) for s in sig.inputs},
        "outputs": {s.key: tensor_info(s, raw) for s in sig.outputs},
        "method_name": "tensorflow/serving/predict",
    }
