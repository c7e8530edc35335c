"""Read Keras model files without Keras: legacy HDF5 (`model.save('x.h5')`, as
Keras 2 and Keras 3 write it) and the Keras 3 `.keras` zip.  Only h5py is needed."""
from __future__ import annotations

import json
import os

from ...errors import ConverterError
from .config import model_from_config
from .spec import ModelSpec, as_float32


def _h5py():
    try:
        import h5py
    except ImportError:  # pragma: no cover - depends on the machine
        raise ConverterError("reading .h5 and .keras files needs h5py: pip install h5py") from None
    return h5py


def _text(v) -> str:
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


def load_file(path) -> ModelSpec:
    """A Keras model file (.h5/.hdf5 or .keras) as a ModelSpec."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ConverterError(
            f"{path!r} is a folder. A SavedModel folder is not supported yet (convert from the Keras "
            "model instead: `model.save('model.keras')`, then --keras_model_file=model.keras).")
    if not os.path.isfile(path):
        raise ConverterError(f"Keras model file {path!r} does not exist. Check the path.")
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(b"PK"):
        return _load_keras_zip(path)
    if head == b"\x89HDF\r\n\x1a\n":
        return _load_h5(path)
    raise ConverterError(
        f"{path!r} is neither an HDF5 (.h5) nor a .keras (zip) file: it starts with {head!r}. The file "
        "is corrupt, truncated, or not a Keras model; save it again with model.save('model.keras').")


# -- legacy HDF5 ------------------------------------------------------------------------------

def _read_hdf5(path, kind, what):
    from . import h5read

    _h5py()
    try:
        return h5read.read(path, kind)
    except h5read.ReadError as e:
        raise ConverterError(f"{path!r}: cannot read {what}: {e}. The file is corrupt or truncated; save the "
                             "model again with model.save('model.keras').") from None


def _parse_config(path, text, where):
    """The model config JSON as a dict, or an error naming the file and the place."""
    try:
        top = json.loads(text)
    except ValueError as e:
        raise ConverterError(f"{path!r}: {where} is not valid JSON ({e}); the file is corrupt. Save the model "
                             "again with model.save('model.keras').") from None
    if not isinstance(top, dict) or not isinstance(top.get("config", {}), (dict, list)):
        raise ConverterError(f"{path!r}: {where} holds a JSON {type(top).__name__}, not a Keras model config "
                             "(an object with 'class_name' and 'config'); the file is corrupt or not a Keras "
                             "model. Save the model again with model.save('model.keras').")
    return top


def _build(path, top, weights, version):
    try:
        return model_from_config(top, weights, version)
    except ConverterError as e:
        if path in str(e):
            raise
        raise ConverterError(f"{path!r}: {e}") from None
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as e:
        raise ConverterError(f"{path!r}: unexpected model config layout ({type(e).__name__}: {e}); the file is "
                             "corrupt or was written by an unsupported Keras version. Save the model again "
                             "with model.save('model.keras').") from None


def _load_h5(path) -> ModelSpec:
    manifest, arrays = _read_hdf5(path, "h5", "the HDF5 file")
    raw = manifest["model_config"]
    if raw is None:
        raise ConverterError(
            f"{path!r} holds no model_config: it is a weights-only file (model.save_weights). Save "
            "the whole model with model.save('model.h5') or model.save('model.keras').")
    top = _parse_config(path, raw, "its model_config attribute")
    version = manifest["keras_version"]
    layers = {name: [(n, as_float32(arrays[key])) for n, key in ws] for name, ws in manifest["layers"].items()}

    def weights(names_path, keras_path, class_name):
        ws = layers.get(names_path[0], [])
        if len(names_path) == 1:
            return ws
        # Weights of a nested model are stored together under the outer layer's
        # group; each name ends in ".../<layer name>/<variable>".
        lname = names_path[-1]
        return [(n, w) for n, w in ws if n.split("/")[-2:-1] == [lname]]

    return _build(path, top, weights, version)


# -- .keras zip -------------------------------------------------------------------------------

# Largest config.json / metadata.json read (real configs are kilobytes to a few MB).
MAX_JSON_BYTES = 64 << 20
# A weights member expanding more than this many times its compressed size, beyond
# BOMB_FLOOR_BYTES, is a zip bomb (Keras itself stores members uncompressed).
MAX_EXPANSION = 100
BOMB_FLOOR_BYTES = 256 << 20


def _member(path, z, info, limit, sink):
    """Stream member `info` into `sink`, never more than its declared size nor `limit`."""
    if info.file_size > limit:
        raise ConverterError(f"{path!r}: member {info.filename!r} declares {info.file_size} bytes, more than the "
                             f"{limit} a Keras file's {info.filename} can take; the file is corrupt or a zip bomb. Save the model "
                             "again with model.save('model.keras').")
    if info.file_size > BOMB_FLOOR_BYTES and info.file_size > MAX_EXPANSION * max(info.compress_size, 1):
        raise ConverterError(f"{path!r}: member {info.filename!r} would expand {info.compress_size} bytes to "
                             f"{info.file_size}: a zip bomb, not a model Keras saved (Keras stores members uncompressed). Save "
                             "the model again with model.save('model.keras').")
    size = 0
    with z.open(info) as f:
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                break
            size += len(chunk)
            if size > info.file_size:
                raise ConverterError(f"{path!r}: member {info.filename!r} expands beyond the {info.file_size} "
                                     "bytes its header declares; the file is corrupt or a zip bomb. Save the model again "
                                     "with model.save('model.keras').")
            sink(chunk)


def _json_member(path, z, info):
    parts: list[bytes] = []
    _member(path, z, info, MAX_JSON_BYTES, parts.append)
    try:
        return b"".join(parts).decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConverterError(f"{path!r}: {info.filename} is not UTF-8 text ({e}); the file is corrupt. Save the "
                             "model again with model.save('model.keras').") from None


def _load_keras_zip(path) -> ModelSpec:
    import tempfile
    import zipfile

    _h5py()
    with tempfile.TemporaryDirectory(prefix="tinylite-keras-") as tmp:
        weights_path = os.path.join(tmp, "model.weights.h5")
        try:
            with zipfile.ZipFile(path) as z:
                infos = {i.filename: i for i in z.infolist()}
                if "config.json" not in infos:
                    raise ConverterError(f"{path!r}: not a valid .keras archive: it has no config.json (members: "
                                         f"{sorted(infos)[:10]}). Save the model with model.save('model.keras').")
                config_text = _json_member(path, z, infos["config.json"])
                meta_text = _json_member(path, z, infos["metadata.json"]) if "metadata.json" in infos else "{}"
                info = infos.get("model.weights.h5")
                if info is None:
                    raise ConverterError(f"{path!r} has no model.weights.h5 (weights stored another way are not "
                                         "supported).")
                with open(weights_path, "wb") as out:
                    _member(path, z, info, 1 << 62, out.write)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, RuntimeError,
                NotImplementedError) as e:
            raise ConverterError(f"{path!r}: not a valid .keras archive ({type(e).__name__}: {e}). The file is "
                                 "corrupt or truncated; save it again with model.save('model.keras').") from None
        top = _parse_config(path, config_text, "config.json")
        try:
            meta = json.loads(meta_text)
        except ValueError:
            meta = {}
        version = str(meta.get("keras_version", "3")) if isinstance(meta, dict) else "3"
        manifest, arrays = _read_hdf5(weights_path, "vars", "its model.weights.h5")
    by_path = {p: [as_float32(arrays[k]) for k in keys] for p, keys in manifest["vars"].items()}
    by_name = manifest["names"]

    def weights(names_path, keras_path, class_name):
        # Keras >= 3.? names each vars group after its layer; older files are
        # keyed only by the attribute path Keras derives from class names.
        path = by_name.get(names_path[-1]) if by_name else keras_path
        if path is None or path not in by_path:
            return []
        out = [(None, a) for a in by_path[path]]
        # A layer holding layers (an RNN's cell, Bidirectional, TimeDistributed,
        # MultiHeadAttention's projections) stores their variables in sub-groups.
        # They are named "<layer>/<sub path>/vars/<k>" like the h5 weight names,
        # so the lowering can tell the sublayers apart.
        for sub in sorted(p for p in by_path if p.startswith(path + "/") and by_path[p]):
            rel = sub[len(path) + 1:]
            out.extend((f"{names_path[-1]}/{rel}/vars/{k}", a) for k, a in enumerate(by_path[sub]))
        return out

    return _build(path, top, weights, version)
