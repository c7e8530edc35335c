"""TensorFlow's tensor-bundle checkpoint (``variables/variables.index`` + data shards).

The index is a LevelDB-format sorted-string table: data blocks of prefix-compressed
key/value entries with a restart array, each block followed by a 5-byte trailer
(compression type + CRC), and a 48-byte footer pointing at the index block.  Its
values are BundleEntryProto messages saying where each tensor's raw bytes lie in
which ``variables.data-NNNNN-of-MMMMM`` shard; the empty key holds the header.
"""
from __future__ import annotations

import os
import struct

import numpy as np

from ...errors import ConverterError
from . import wire

_MAGIC = 0xDB4775248B80FB57

# tensorflow/core/framework/types.proto DataType -> numpy
DTYPES = {1: np.float32, 2: np.float64, 3: np.int32, 4: np.uint8, 5: np.int16, 6: np.int8, 9: np.int64,
          10: np.bool_, 17: np.uint16, 19: np.float16, 22: np.uint32, 23: np.uint64}
DTYPE_NAMES = {1: "float32", 2: "float64", 3: "int32", 4: "uint8", 5: "int16", 6: "int8", 7: "string",
               9: "int64", 10: "bool", 14: "bfloat16", 17: "uint16", 19: "float16", 20: "resource",
               21: "variant", 22: "uint32", 23: "uint64"}


def dtype_of(enum: int, what: str):
    dt = DTYPES.get(enum)
    if dt is None:
        raise ConverterError(f"{what}: TensorFlow dtype {DTYPE_NAMES.get(enum, enum)} is not supported "
                             f"(supported: {', '.join(DTYPE_NAMES[k] for k in DTYPES)}).")
    return dt


def _varint(buf, pos):
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def snappy_decompress(data) -> bytes:
    """Raw snappy (the block format LevelDB tables use)."""
    n, pos = _varint(data, 0)
    out = bytearray()
    end = len(data)
    while pos < end:
        tag = data[pos]
        pos += 1
        kind = tag & 3
        if kind == 0:                           # literal
            length = tag >> 2
            if length >= 60:
                extra = length - 59
                length = int.from_bytes(data[pos:pos + extra], "little")
                pos += extra
            length += 1
            out += data[pos:pos + length]
            pos += length
            continue
        if kind == 1:
            length = 4 + ((tag >> 2) & 7)
            offset = ((tag >> 5) << 8) | data[pos]
            pos += 1
        elif kind == 2:
            length = (tag >> 2) + 1
            offset = int.from_bytes(data[pos:pos + 2], "little")
            pos += 2
        else:
            length = (tag >> 2) + 1
            offset = int.from_bytes(data[pos:pos + 4], "little")
            pos += 4
        if offset == 0 or offset > len(out):
            raise ConverterError("snappy block: bad back-reference (corrupt variables.index)")
        start = len(out) - offset
        if offset >= length:
            out += out[start:start + length]
        else:
            for k in range(length):
                out.append(out[start + k])
    if len(out) != n:
        raise ConverterError("snappy block: wrong decompressed length (corrupt variables.index)")
    return bytes(out)


def _block(data, offset, size, path):
    if offset + size + 5 > len(data):
        raise ConverterError(f"{path}: a block lies past the end of the file (truncated index)")
    raw = data[offset:offset + size]
    kind = data[offset + size]
    if kind == 0:
        return raw
    if kind == 1:
        return snappy_decompress(raw)
    raise ConverterError(f"{path}: block compression type {kind} is not supported (none or snappy)")


def _entries(block):
    """(key, value) pairs of one table block."""
    if len(block) < 4:
        raise ConverterError("table block too short")
    nrest = struct.unpack_from("<I", block, len(block) - 4)[0]
    limit = len(block) - 4 - 4 * nrest
    pos, key = 0, b""
    while pos < limit:
        shared, pos = _varint(block, pos)
        unshared, pos = _varint(block, pos)
        vlen, pos = _varint(block, pos)
        key = key[:shared] + bytes(block[pos:pos + unshared])
        pos += unshared
        yield key, block[pos:pos + vlen]
        pos += vlen


def read_table(path) -> dict:
    """All key -> value (bytes) of a LevelDB-format table file."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 48 or struct.unpack_from("<Q", data, len(data) - 8)[0] != _MAGIC:
        raise ConverterError(f"{path}: not a TensorFlow checkpoint index (no table magic number at the end; "
                             "the file is truncated or of another kind)")
    footer = memoryview(data)[len(data) - 48:]
    _meta_off, pos = _varint(footer, 0)
    _meta_size, pos = _varint(footer, pos)
    idx_off, pos = _varint(footer, pos)
    idx_size, pos = _varint(footer, pos)
    out = {}
    try:
        index = _block(data, idx_off, idx_size, path)
        for _, handle in _entries(index):
            off, p = _varint(handle, 0)
            size, _ = _varint(handle, p)
            for k, v in _entries(_block(data, off, size, path)):
                out[k.decode("utf-8", "replace")] = bytes(v)
    except (IndexError, struct.error) as e:
        raise ConverterError(f"{path}: corrupt checkpoint index ({e})") from None
    return out


class Checkpoint:
    """A tensor bundle: `get(key)` reads one tensor from its shard (memory-mapped)."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        index = prefix + ".index"
        if not os.path.exists(index):
            raise ConverterError(f"{index} does not exist: the SavedModel's variables are missing (expected "
                                 "variables/variables.index and variables/variables.data-*-of-* beside "
                                 "saved_model.pb). Copy the whole SavedModel directory.")
        table = read_table(index)
        header = wire.decode(table.pop("", b""), wire.BUNDLE_HEADER)
        self.num_shards = header.get("num_shards", 1)
        self.entries = {k: v for k, v in table.items()}
        self._shards: dict = {}

    def keys(self):
        return self.entries.keys()

    def __contains__(self, key):
        return key in self.entries

    def _shard(self, k):
        arr = self._shards.get(k)
        if arr is None:
            path = f"{self.prefix}.data-{k:05d}-of-{self.num_shards:05d}"
            if not os.path.exists(path):
                raise ConverterError(f"{path} does not exist: a shard of the SavedModel's variables is missing.")
            arr = self._shards[k] = np.memmap(path, np.uint8, mode="r") if os.path.getsize(path) else \
                np.zeros(0, np.uint8)
        return arr

    def entry(self, key):
        raw = self.entries.get(key)
        if raw is None:
            raise ConverterError(f"{self.prefix}.index has no tensor {key!r}")
        return wire.decode(raw, wire.BUNDLE_ENTRY)

    def get(self, key) -> np.ndarray:
        e = self.entry(key)
        if e.get("slices"):
            raise ConverterError(f"checkpoint tensor {key!r} is saved in slices (partitioned variable), which "
                                 "is not supported")
        shape = tuple(int(d.get("size", 0)) for d in e.get("shape", {}).get("dim", []))
        shard = self._shard(e.get("shard_id", 0))
        off, size = e.get("offset", 0), e.get("size", 0)
        if off + size > len(shard):
            raise ConverterError(f"checkpoint tensor {key!r}: bytes {off}..{off + size} lie past the end of its "
                                 f"data shard ({len(shard)} bytes; truncated variables.data file)")
        raw = shard[off:off + size]
        if e.get("dtype") == 7:
            return _strings(raw, shape, key)
        dt = np.dtype(dtype_of(e.get("dtype", 0), f"checkpoint tensor {key!r}"))
        count = int(np.prod(shape, dtype=np.int64))
        if count * dt.itemsize != size:
            raise ConverterError(f"checkpoint tensor {key!r}: {size} bytes for shape {list(shape)} of {dt}")
        return np.frombuffer(raw, dt).reshape(shape)


def _strings(raw, shape, key):
    """DT_STRING: varint lengths, a 4-byte checksum, then the bytes."""
    n = int(np.prod(shape, dtype=np.int64))
    raw = bytes(raw)
    lens, pos = [], 0
    for _ in range(n):
        ln, pos = _varint(raw, pos)
        lens.append(ln)
    pos += 4
    out = []
    for ln in lens:
        out.append(raw[pos:pos + ln])
        pos += ln
    arr = np.empty(n, object)
    arr[:] = out
    return arr.reshape(shape)
