"""`tinylite metadata`: write and read TFLite Metadata (the `TFLITE_METADATA` entry).

The layout is the one the official support libraries (Android's MetadataExtractor,
the Task Library, tflite_support's MetadataDisplayer) read:

- `Model.metadata` has an entry named "TFLITE_METADATA" whose buffer holds a
  FlatBuffer of the Metadata schema (root ModelMetadata, file identifier "M001");
- associated files (the labels) are appended to the .tflite as a ZIP archive of
  uncompressed entries, so the file is still a valid FlatBuffer and also a valid
  zip.  The C++ extractor refuses compressed entries, hence ZIP_STORED.

The metadata FlatBuffer is built and parsed only through the flatc-generated
bindings in tinylite/flatbuffer/metadata_schema.

>>> from tinylite.testing import single_op_model
>>> content = single_op_model("ADD", [("x", [1, 3]), ("y", [1, 3])], [("z", [1, 3])])
>>> read_metadata(add_metadata(content, name="adder"))["name"]
'adder'
"""
from __future__ import annotations

import io
import os
import zipfile

import flatbuffers
import numpy as np

from ..errors import InvalidModelError
from ..flatbuffer.metadata_schema import FILE_IDENTIFIER, METADATA_NAME, fb
from ..flatbuffer.reader import parse
from ..flatbuffer.writer import atomic_write, write_model
from ..graph import Metadata, Model

# Every field this writer fills exists since schema 1.0.0; a parser needs no more.
MIN_PARSER_VERSION = "1.0.0"

_ZIP_DATE = (1980, 1, 1, 0, 0, 0)   # fixed, so the same inputs give the same bytes

_ENUMS = {
    "content": {v: k for k, v in vars(fb.ContentProperties).items() if not k.startswith("_")},
    "color_space": {v: k for k, v in vars(fb.ColorSpaceType).items() if not k.startswith("_")},
    "file_type": {v: k for k, v in vars(fb.AssociatedFileType).items() if not k.startswith("_")},
    "process_unit": {v: k for k, v in vars(fb.ProcessUnitOptions).items() if not k.startswith("_")},
}


# ---------------------------------------------------------------- writing

def write_metadata(model_path, output, *, name: str | None = None, description: str | None = None,
                   version: str | None = None, author: str | None = None, license: str | None = None,
                   mean: list[float] | None = None, std: list[float] | None = None,
                   labels_file: str | None = None) -> dict:
    """Write `model_path` with TFLite Metadata to `output` (atomically); returns what was written.

    `mean`/`std` describe the normalization of the first input ((pixel - mean) / std, one
    value or one per channel); `labels_file` (one label per line) is packed into the
    model and attached to the first output as its TENSOR_AXIS_LABELS file.
    """
    model_path = os.fspath(model_path)
    content = _read_file(model_path, "model", "Check the path to the .tflite file.")
    labels = None
    if labels_file is not None:
        raw = _read_file(labels_file, "labels file", "Pass a text file with one label per line.")
        labels = (os.path.basename(os.fspath(labels_file)), raw)
    data = add_metadata(content, origin=model_path, name=name, description=description, version=version,
                        author=author, license=license, mean=mean, std=std, labels=labels)
    atomic_write(output, data)
    return read_metadata(data)


def add_metadata(content: bytes, *, origin: str = "model_content", name=None, description=None, version=None,
                 author=None, license=None, mean=None, std=None, labels: tuple[str, bytes] | None = None) -> bytes:
    """The model bytes with a new TFLITE_METADATA entry (replacing any old one and its packed files)."""
    model = parse(content, origin=origin)
    if not model.subgraphs:
        raise InvalidModelError(f"{origin}: the model has no subgraph to describe")
    sg = model.subgraphs[0]
    if not sg.inputs or not sg.outputs:
        raise InvalidModelError(f"{origin}: the main subgraph has no inputs or no outputs to describe")

    norm = _normalization(model, mean, std)
    label_lines = None
    if labels is not None:
        label_lines = _check_labels(model, *labels)

    meta = fb.ModelMetadataT(name=name, description=description, version=version, author=author,
                             license=license, minParserVersion=MIN_PARSER_VERSION)
    inputs = [_input_metadata(model, ti, norm if i == 0 else None) for i, ti in enumerate(sg.inputs)]
    outputs = [_output_metadata(model, ti, labels[0] if (labels and i == 0) else None)
               for i, ti in enumerate(sg.outputs)]
    meta.subgraphMetadata = [fb.SubGraphMetadataT(inputTensorMetadata=inputs, outputTensorMetadata=outputs)]
    builder = flatbuffers.Builder(1024)
    builder.Finish(meta.Pack(builder), file_identifier=FILE_IDENTIFIER)
    _attach(model, bytes(builder.Output()))

    data = write_model(model)
    if label_lines is not None:
        data = _append_zip(data, {labels[0]: labels[1]})
    return data


def _read_file(path, what: str, fix: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise ValueError(f"Could not open {what} '{os.fspath(path)}': {e.strerror}. {fix}") from None


def _tensor_shape(model: Model, ti: int) -> list[int]:
    t = model.subgraphs[0].tensors[ti]
    return [int(d) for d in t.shape]


def _channels(model: Model, ti: int) -> int | None:
    """The channel count of an NHWC image input (1 or 3), else None."""
    shape = _tensor_shape(model, ti)
    return shape[-1] if len(shape) == 4 and shape[-1] in (1, 3) else None


def _normalization(model: Model, mean, std):
    if mean is None and std is None:
        return None
    if mean is None or std is None:
        raise ValueError("give both --mean and --std (the input is normalized as (x - mean) / std), "
                         "e.g. --mean 127.5 --std 127.5")
    mean = [float(m) for m in np.atleast_1d(mean)]
    std = [float(s) for s in np.atleast_1d(std)]
    ti = model.subgraphs[0].inputs[0]
    shape = _tensor_shape(model, ti)
    channels = shape[-1] if shape else 1
    for label, values in (("mean", mean), ("std", std)):
        if len(values) not in (1, channels):
            hint = "give 1 value" if channels == 1 else f"give 1 value (all channels) or {channels}"
            raise ValueError(f"--{label} has {len(values)} values but the input {shape} has {channels} "
                             f"channel(s): {hint}")
    if len(mean) != len(std):
        raise ValueError(f"--mean has {len(mean)} values and --std {len(std)}: give the same count "
                         f"(1, or one per channel)")
    if any(s == 0 or not np.isfinite(s) for s in std) or not all(np.isfinite(mean)):
        raise ValueError(f"--std must be finite and non-zero and --mean finite (got mean {mean}, std {std})")
    return mean, std


def _check_labels(model: Model, filename: str, raw: bytes) -> list[str]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"labels file '{filename}' is not UTF-8 text; save it as UTF-8, one label per line") \
            from None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise ValueError(f"labels file '{filename}' has no labels; write one label per line")
    shape = _tensor_shape(model, model.subgraphs[0].outputs[0])
    classes = shape[-1] if shape else 1
    if len(lines) != classes:
        raise ValueError(f"labels file '{filename}' has {len(lines)} labels but the first output {shape} "
                         f"has {classes} classes; give exactly one label per class")
    return lines


def _input_metadata(model: Model, ti: int, norm) -> "fb.TensorMetadataT":
    t = model.subgraphs[0].tensors[ti]
    md = fb.TensorMetadataT(name=t.name)
    channels = _channels(model, ti)
    if channels is not None:
        props = fb.ImagePropertiesT(colorSpace=fb.ColorSpaceType.RGB if channels == 3
                                    else fb.ColorSpaceType.GRAYSCALE)
        md.content = fb.ContentT(contentPropertiesType=fb.ContentProperties.ImageProperties,
                                 contentProperties=props)
        md.description = "Input image."
    else:
        md.content = fb.ContentT(contentPropertiesType=fb.ContentProperties.FeatureProperties,
                                 contentProperties=fb.FeaturePropertiesT())
    if norm is not None:
        mean, std = norm
        md.processUnits = [fb.ProcessUnitT(optionsType=fb.ProcessUnitOptions.NormalizationOptions,
                                           options=fb.NormalizationOptionsT(mean=mean, std=std))]
        if channels is not None:
            # The range of the normalized tensor for 8-bit pixels, as the image classifier writers record it.
            lo = [(0.0 - m) / s for m, s in zip(*_broadcast(mean, std))]
            hi = [(255.0 - m) / s for m, s in zip(*_broadcast(mean, std))]
            md.stats = fb.StatsT(max=[max(a, b) for a, b in zip(lo, hi)], min=[min(a, b) for a, b in zip(lo, hi)])
    return md


def _broadcast(a, b):
    n = max(len(a), len(b))
    return (a * n if len(a) == 1 else a), (b * n if len(b) == 1 else b)


def _output_metadata(model: Model, ti: int, labels_name: str | None) -> "fb.TensorMetadataT":
    t = model.subgraphs[0].tensors[ti]
    md = fb.TensorMetadataT(name=t.name)
    md.content = fb.ContentT(contentPropertiesType=fb.ContentProperties.FeatureProperties,
                             contentProperties=fb.FeaturePropertiesT())
    if labels_name is not None:
        md.description = "Scores of the classes, in the order of the labels file."
        md.associatedFiles = [fb.AssociatedFileT(name=labels_name, description="Labels for the output classes.",
                                                 type=fb.AssociatedFileType.TENSOR_AXIS_LABELS)]
    return md


def _attach(model: Model, metadata: bytes) -> None:
    """Point the TFLITE_METADATA entry at a buffer holding `metadata` (reusing an old entry's slot)."""
    for md in model.metadata:
        if md.name == METADATA_NAME and 0 < md.buffer < len(model.buffers):
            model.buffers[md.buffer].data = np.frombuffer(metadata, np.uint8)
            model.buffers[md.buffer].offset = model.buffers[md.buffer].size = 0
            return
    model.metadata = [md for md in model.metadata if md.name != METADATA_NAME]
    model.metadata.append(Metadata(METADATA_NAME, model.add_buffer(metadata)))


def _append_zip(data: bytes, files: dict[str, bytes]) -> bytes:
    out = io.BytesIO(data)
    out.seek(0, io.SEEK_END)
    with zipfile.ZipFile(out, "a", compression=zipfile.ZIP_STORED) as zf:
        for filename, payload in files.items():
            info = zipfile.ZipInfo(filename, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            zf.writestr(info, payload)
    return out.getvalue()


# ---------------------------------------------------------------- reading

def metadata_buffer(model: Model) -> bytes | None:
    """The raw TFLITE_METADATA FlatBuffer of a parsed model, or None."""
    return model.metadata_bytes(METADATA_NAME)


def packed_files(content: bytes) -> dict[str, bytes]:
    """The files appended to the model as a zip ({} when there is none)."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as zf:
            return {info.filename: zf.read(info) for info in zf.infolist() if not info.is_dir()}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError):
        return {}


def read_metadata(content, model: Model | None = None, origin: str = "model_content") -> dict | None:
    """The TFLITE_METADATA of a model (bytes or path) as a JSON-ready dict, or None if it has none.

    `model` saves a second parse when the caller already has one (with `content` None, the
    packed files are not looked at).  Packed files are listed
    under "packed_files"; the label lists of outputs under their tensor's "labels".
    """
    if isinstance(content, (str, os.PathLike)):
        origin = os.fspath(content)
        content = _read_file(content, "model", "Check the path to the .tflite file.")
    if content is None and model is None:
        raise TypeError("read_metadata needs the model bytes (or a path) or a parsed model")
    content = None if content is None else bytes(content)
    if model is None:
        model = parse(content, origin=origin)
    buf = metadata_buffer(model)
    if buf is None:
        return None
    if len(buf) < 8 or not fb.ModelMetadata.ModelMetadataBufferHasIdentifier(buf, 0):
        ident = buf[4:8] if len(buf) >= 8 else b""
        raise InvalidModelError(
            f"{origin}: the {METADATA_NAME} buffer has file identifier {ident!r}, expected {FILE_IDENTIFIER!r}: "
            "it is not TFLite Metadata. Rewrite it with `tinylite metadata`.")
    try:
        meta = fb.ModelMetadataT.InitFromPackedBuf(buf, 0)
    except Exception as e:   # noqa: BLE001 - any failure of the generated parser means a corrupt buffer
        raise InvalidModelError(f"{origin}: the {METADATA_NAME} buffer is corrupt ({type(e).__name__}: {e}); "
                                "rewrite it with `tinylite metadata`.") from None
    files = {} if content is None else packed_files(content)
    info = _clean({
        "name": _s(meta.name), "description": _s(meta.description), "version": _s(meta.version),
        "author": _s(meta.author), "license": _s(meta.license),
        "min_parser_version": _s(meta.minParserVersion),
        "associated_files": [_file(f) for f in meta.associatedFiles or [] if f is not None] or None,
        "subgraphs": [_subgraph(sg, files) for sg in meta.subgraphMetadata or [] if sg is not None],
    })
    info["packed_files"] = sorted(files)
    return info


def _s(b) -> str | None:
    return None if b is None else (b.decode("utf-8", "replace") if isinstance(b, bytes) else str(b))


def _clean(d: dict) -> dict:
    return {k: v for k, v in d.items() if v is not None}


def _floats(values) -> list[float] | None:
    return None if values is None else [float(v) for v in np.asarray(values, np.float64).reshape(-1)]


def _file(f) -> dict:
    return _clean({"name": _s(f.name), "description": _s(f.description),
                   "type": _ENUMS["file_type"].get(f.type, str(f.type)), "locale": _s(f.locale)})


def _subgraph(sg, files: dict[str, bytes]) -> dict:
    return _clean({
        "name": _s(sg.name), "description": _s(sg.description),
        "inputs": [_tensor(t, files) for t in sg.inputTensorMetadata or [] if t is not None],
        "outputs": [_tensor(t, files) for t in sg.outputTensorMetadata or [] if t is not None],
        "associated_files": [_file(f) for f in sg.associatedFiles or [] if f is not None] or None,
    })


def _tensor(t, files: dict[str, bytes]) -> dict:
    out = {"name": _s(t.name), "description": _s(t.description)}
    if t.content is not None and t.content.contentPropertiesType:
        out["content"] = _ENUMS["content"].get(t.content.contentPropertiesType, "UNKNOWN")
        props = t.content.contentProperties
        if isinstance(props, fb.ImagePropertiesT):
            out["color_space"] = _ENUMS["color_space"].get(props.colorSpace, str(props.colorSpace))
    units = []
    for pu in t.processUnits or []:
        if pu is None:
            continue
        if isinstance(pu.options, fb.NormalizationOptionsT):
            out["normalization"] = {"mean": _floats(pu.options.mean) or [], "std": _floats(pu.options.std) or []}
        units.append(_ENUMS["process_unit"].get(pu.optionsType, str(pu.optionsType)))
    if units:
        out["process_units"] = units
    if t.stats is not None and (t.stats.min is not None or t.stats.max is not None):
        out["stats"] = _clean({"min": _floats(t.stats.min), "max": _floats(t.stats.max)})
    assoc = [_file(f) for f in t.associatedFiles or [] if f is not None]
    if assoc:
        out["associated_files"] = assoc
        for f in assoc:
            if f.get("type") == "TENSOR_AXIS_LABELS" and f.get("name") in files:
                out["labels"] = _label_lines(files[f["name"]])
                break
    return _clean(out)


def _label_lines(raw: bytes) -> list[str]:
    return [line.strip() for line in raw.decode("utf-8", "replace").splitlines() if line.strip()]


# ---------------------------------------------------------------- use by `tinylite run`

def input_normalization(meta: dict | None, index: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(mean, std) of input `index` from read_metadata()'s dict, or None."""
    try:
        norm = meta["subgraphs"][0]["inputs"][index]["normalization"]
    except (TypeError, KeyError, IndexError):
        return None
    mean, std = np.asarray(norm["mean"], np.float32), np.asarray(norm["std"], np.float32)
    if mean.size == 0 or std.size == 0:
        return None
    return mean, std


def output_labels(meta: dict | None, index: int = 0) -> list[str] | None:
    """The packed TENSOR_AXIS_LABELS of output `index`, or None."""
    try:
        return meta["subgraphs"][0]["outputs"][index].get("labels")
    except (TypeError, KeyError, IndexError):
        return None


# ---------------------------------------------------------------- text

def render(meta: dict | None) -> str:
    """Human-readable summary (used by `tinylite inspect` and `tinylite metadata`)."""
    if meta is None:
        return "TFLite Metadata: none"
    head = meta.get("name") or "(no name)"
    lines = [f"TFLite Metadata: {head}" + (f" v{meta['version']}" if meta.get("version") else "")
             + (f" (min parser {meta['min_parser_version']})" if meta.get("min_parser_version") else "")]
    if meta.get("description"):
        lines.append(f"  description: {meta['description']}")
    for key in ("author", "license"):
        if meta.get(key):
            lines.append(f"  {key}: {meta[key]}")
    for sg in meta.get("subgraphs", []):
        for kind in ("inputs", "outputs"):
            for i, t in enumerate(sg.get(kind, [])):
                parts = [t.get("content", "")]
                if t.get("color_space"):
                    parts.append(t["color_space"])
                if "normalization" in t:
                    parts.append(f"normalize mean={t['normalization']['mean']} std={t['normalization']['std']}")
                if "stats" in t:
                    parts.append(f"range {t['stats'].get('min')}..{t['stats'].get('max')}")
                for f in t.get("associated_files", []):
                    parts.append(f"{f.get('type', '')} file {f.get('name')}")
                if "labels" in t:
                    preview = ", ".join(t["labels"][:5]) + (", ..." if len(t["labels"]) > 5 else "")
                    parts.append(f"{len(t['labels'])} labels: {preview}")
                lines.append(f"  {kind[:-1]} {i} {t.get('name', '')}: " + "; ".join(p for p in parts if p))
    if meta.get("packed_files"):
        lines.append(f"  packed files: {', '.join(meta['packed_files'])}")
    return "\n".join(lines)
