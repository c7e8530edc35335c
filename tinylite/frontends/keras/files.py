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

def _load_h5(path) -> ModelSpec:
    h5py = _h5py()
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise ConverterError(f"{path!r}: cannot read the HDF5 file ({e}); it is corrupt or truncated.") from None
    with f:
        raw = f.attrs.get("model_config")
        if raw is None:
            raise ConverterError(
                f"{path!r} holds no model_config: it is a weights-only file (model.save_weights). Save "
                "the whole model with model.save('model.h5') or model.save('model.keras').")
        top = json.loads(_text(raw))
        version = _text(f.attrs.get("keras_version", "3"))
        group = f["model_weights"] if "model_weights" in f else f

        cache: dict[str, list] = {}

        def group_weights(layer_name):
            if layer_name not in cache:
                if layer_name not in group:
                    cache[layer_name] = []
                else:
                    g = group[layer_name]
                    names = [_text(n) for n in g.attrs.get("weight_names", [])]
                    cache[layer_name] = [(n, as_float32(g[n][()])) for n in names]
            return cache[layer_name]

        def weights(names_path, keras_path, class_name):
            ws = group_weights(names_path[0])
            if len(names_path) == 1:
                return ws
            # Weights of a nested model are stored together under the outer layer's
            # group; each name ends in ".../<layer name>/<variable>".
            lname = names_path[-1]
            return [(n, w) for n, w in ws if n.split("/")[-2:-1] == [lname]]

        try:
            return model_from_config(top, weights, version)
        except (KeyError, TypeError, ValueError, IndexError) as e:
            if isinstance(e, ConverterError):
                raise
            raise ConverterError(f"{path!r}: unexpected model_config layout ({type(e).__name__}: {e}).") from None


# -- .keras zip -------------------------------------------------------------------------------

def _load_keras_zip(path) -> ModelSpec:
    import io
    import zipfile

    h5py = _h5py()
    try:
        z = zipfile.ZipFile(path)
        names = set(z.namelist())
        top = json.loads(z.read("config.json"))
        meta = json.loads(z.read("metadata.json")) if "metadata.json" in names else {}
        weights_bytes = z.read("model.weights.h5") if "model.weights.h5" in names else None
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
        raise ConverterError(f"{path!r}: not a valid .keras archive ({type(e).__name__}: {e}). The file is "
                             "corrupt or truncated; save it again with model.save('model.keras').") from None
    if weights_bytes is None:
        raise ConverterError(f"{path!r} has no model.weights.h5 (weights stored another way are not supported).")
    version = str(meta.get("keras_version", "3"))
    f = h5py.File(io.BytesIO(weights_bytes), "r")
    with f:
        by_name: dict[str, str] = {}
        by_path: dict[str, list] = {}

        def visit(name, obj):
            if isinstance(obj, h5py.Group) and name.endswith("vars"):
                arrays = [as_float32(obj[k][()]) for k in sorted(obj.keys(), key=_int_key)]
                path = name[:-len("/vars")] if name != "vars" else ""
                by_path[path] = arrays
                lname = obj.attrs.get("name")
                if lname is not None:
                    by_name.setdefault(_text(lname), path)

        f.visititems(visit)

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

        return model_from_config(top, weights, version)


def _int_key(k):
    try:
        return (0, int(k))
    except ValueError:
        return (1, k)

