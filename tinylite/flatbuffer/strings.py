"""STRING tensors: TFLite's packed buffer format <-> numpy object arrays of bytes.

A STRING tensor's buffer is ``int32 count``, then ``count + 1`` int32 byte
offsets from the start of the buffer (the last one is the buffer's length),
then the strings' bytes back to back, little-endian.  tinylite holds such a
tensor as an object array of ``bytes``, as LiteRT's ``get_tensor`` returns it.

>>> import numpy as np
>>> raw = encode(np.array([b"ab", b"", b"xyz"], dtype=object))
>>> raw.tobytes()[:4], len(raw)
(b'\\x03\\x00\\x00\\x00', 25)
>>> decode(raw, (3,))
array([b'ab', b'', b'xyz'], dtype=object)
"""
from __future__ import annotations

import numpy as np

from ..errors import InvalidModelError


def decode(raw: np.ndarray, shape, name: str = "") -> np.ndarray:
    """The strings of a packed STRING buffer, as a read-only object array of `shape`."""
    data = np.asarray(raw, np.uint8).tobytes()
    where = f"STRING tensor {name!r}" if name else "STRING tensor"
    shape = tuple(int(d) for d in shape)
    want = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if len(data) < 4:
        raise InvalidModelError(f"{where}: its buffer holds {len(data)} bytes, fewer than the 4-byte string count; "
                                "the file is corrupt or was written by a broken tool")
    count = int(np.frombuffer(data, "<i4", 1)[0])
    if count < 0 or 4 * (count + 2) > len(data):
        raise InvalidModelError(f"{where}: its buffer claims {count} strings, which its {len(data)} bytes cannot "
                                "hold; the file is corrupt or was written by a broken tool")
    if count != want:
        raise InvalidModelError(f"{where}: its buffer holds {count} strings but its shape {list(shape)} needs "
                                f"{want}; the file is corrupt or was written by a broken tool")
    offsets = np.frombuffer(data, "<i4", count + 1, 4).astype(np.int64)
    if count and (offsets[0] < 4 * (count + 2) or np.any(np.diff(offsets) < 0) or offsets[-1] > len(data)):
        raise InvalidModelError(f"{where}: its string offsets are out of order or point past the end of its "
                                f"{len(data)}-byte buffer; the file is corrupt or was written by a broken tool")
    out = np.empty(count, dtype=object)
    for k in range(count):
        out[k] = data[offsets[k]:offsets[k + 1]]
    out = out.reshape(shape)
    out.setflags(write=False)
    return out


def encode(values) -> np.ndarray:
    """A packed STRING buffer (uint8) holding `values` (bytes or str; str as UTF-8) in C order."""
    items = [to_bytes(v) for v in np.asarray(values, dtype=object).reshape(-1)]
    count = len(items)
    header = 4 * (count + 2)
    offsets = np.cumsum([header] + [len(b) for b in items], dtype=np.int64)
    if offsets[-1] > np.iinfo(np.int32).max:
        raise ValueError(f"{count} strings of {offsets[-1] - header} bytes exceed the 2 GiB a STRING tensor holds")
    head = np.concatenate([[count], offsets]).astype("<i4").tobytes()
    return np.frombuffer(head + b"".join(items), np.uint8)


def to_bytes(value) -> bytes:
    """One element of a STRING tensor: bytes as they are, str as UTF-8 (LiteRT's conversion)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, np.bytes_):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    raise ValueError(f"a STRING tensor holds bytes or str values, got {type(value).__name__} ({value!r:.40})")


def from_numpy(value: np.ndarray) -> np.ndarray:
    """What LiteRT's set_tensor stores for a numpy value given to a STRING tensor.

    Elements of a bytes (``S``) or str (``U``) array are read as numpy reads them
    (trailing NUL bytes dropped), str as UTF-8; except that a 0-d bytes array is
    taken whole, NULs included, as LiteRT takes it.  Object arrays may hold bytes
    or str.  (Of a 0-d str array LiteRT stores the raw UCS-4 bytes, and of a 0-d
    object array the object's address: tinylite stores the string in both cases.)
    """
    kind = value.dtype.kind
    out = np.empty(value.shape, dtype=object)
    if value.ndim == 0 and kind == "S":
        out[()] = value.tobytes()
        return out
    flat = out.reshape(-1)
    for k, v in enumerate(value.reshape(-1).tolist() if kind != "O" else value.reshape(-1)):
        flat[k] = to_bytes(v)
    return out
