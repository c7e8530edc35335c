"""`tinylite run`: feed a model from .npy/.npz/image files and print outputs or top-k labels."""
from __future__ import annotations

import os
import sys

import numpy as np

from .metadata import input_normalization, output_labels

_IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


def load_inputs(paths: list[str], details: list[dict], metadata: dict | None = None) -> list[np.ndarray]:
    """One array per model input, from .npy / .npz (names or input0..) / image files.

    Images are normalized with the input's TFLite Metadata (mean/std) when the model has it.
    """
    arrays: list[np.ndarray] = []
    for p in paths:
        if not os.path.exists(p):
            raise ValueError(f"input file {p!r} does not exist")
        ext = os.path.splitext(p)[1].lower()
        if ext == ".npy":
            arrays.append(np.load(p, allow_pickle=False))
        elif ext == ".npz":
            data = np.load(p, allow_pickle=False)
            keys = list(data.files)
            by_name = [d["name"] for d in details]
            if all(n in keys for n in by_name):
                arrays.extend(data[n] for n in by_name)
            elif all(f"input{i}" in keys for i in range(len(details))):
                arrays.extend(data[f"input{i}"] for i in range(len(details)))
            elif "x" in keys and len(details) == 1:
                arrays.append(data["x"])
            else:
                arrays.extend(data[k] for k in keys[:len(details)])
        elif ext in _IMAGE_EXTS:
            arrays.append(load_image(p, details[len(arrays)], input_normalization(metadata, len(arrays))))
        else:
            raise ValueError(f"input file {p!r}: expected .npy, .npz or an image (.png/.jpg/.bmp)")
    if len(arrays) != len(details):
        raise ValueError(f"the model has {len(details)} input(s) but {len(arrays)} array(s) were given")
    return arrays


def load_image(path: str, detail: dict, normalization: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """An image file as the model's input: resized to its H x W, then (pixel - mean) / std with the
    metadata's normalization, or pixel / 255 without; quantized inputs are then quantized."""
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        raise ValueError("reading images needs Pillow: pip install 'tinylite[images]' (or pillow), "
                         "or pass the input as a .npy file") from None
    shape = list(detail["shape"])
    if len(shape) != 4 or shape[-1] not in (1, 3):
        raise ValueError(f"an image was given but the model input {detail['name']!r} has shape {shape} "
                         "(expected [batch, height, width, 1 or 3]); pass a .npy file instead")
    _, h, w, c = shape
    try:
        with Image.open(path) as img:
            img = img.convert("L" if c == 1 else "RGB").resize((w, h), Image.BILINEAR)
    except (UnidentifiedImageError, OSError) as e:
        raise ValueError(f"could not read image {path!r} ({e}); pass a .png/.jpg/.bmp file") from None
    x = np.asarray(img, np.float32).reshape(1, h, w, c)
    if normalization is not None:
        mean, std = normalization
        x = (x - mean.reshape(-1)) / std.reshape(-1)
    else:
        x = x / 255.0
    from ..interpreter.tensor_values import quantize

    return quantize(x, detail)


def model_metadata(model_path: str) -> dict | None:
    """The model's TFLite Metadata, or None (also when it is unreadable: running does not need it)."""
    from ..errors import InvalidModelError
    from .metadata import read_metadata

    try:
        return read_metadata(model_path)
    except InvalidModelError as e:
        if "TFLITE_METADATA" not in str(e):
            raise
        print(f"warning: ignoring the model's metadata: {e}", file=sys.stderr)
        return None


def load_labels(labels_path: str | None, metadata: dict | None = None) -> list[str] | None:
    """Labels from --labels, else the TENSOR_AXIS_LABELS file packed in the model's metadata."""
    if not labels_path:
        return output_labels(metadata, 0)
    try:
        with open(labels_path, encoding="utf-8") as f:
            return [line.strip() for line in f if line.strip()]
    except OSError as e:
        raise ValueError(f"could not read labels file {labels_path!r}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise ValueError(f"labels file {labels_path!r} is not UTF-8 text (one label per line)") from None


def run_model(model_path: str, inputs: list[str], metadata: dict | None = None) -> tuple[list[dict], list[np.ndarray]]:
    from ..interpreter import Interpreter

    ip = Interpreter(model_path=model_path)
    details = ip.get_input_details()
    if metadata is None and any(os.path.splitext(p)[1].lower() in _IMAGE_EXTS for p in inputs):
        metadata = model_metadata(model_path)
    arrays = load_inputs(inputs, details, metadata)
    for d, x in zip(details, arrays):
        x = np.asarray(x)
        want = np.dtype(d["dtype"])
        if x.dtype != want:
            if want.kind == "f" and x.dtype.kind in "fiu":
                x = x.astype(want)
            elif want.kind == "S" and x.dtype.kind in "OSU":
                pass        # a STRING input: set_tensor takes bytes, str and object arrays
            else:
                raise ValueError(f"input {d['name']!r}: got {x.dtype} data, the model takes {want.name}")
        if x.ndim == len(d["shape"]) - 1:
            x = x[None]
        if x.shape != tuple(d["shape"]):
            if len(x.shape) != len(d["shape"]) or any(
                    s != -1 and a != b for a, b, s in zip(x.shape[1:], d["shape"][1:], d["shape_signature"][1:])):
                raise ValueError(f"input {d['name']!r}: got shape {list(x.shape)}, the model takes "
                                 f"{d['shape_signature'].tolist()} (-1 = any size)")
            ip.resize_tensor_input(d["index"], x.shape)
        arrays[details.index(d)] = x
    ip.allocate_tensors()
    for d, x in zip(details, arrays):
        ip.set_tensor(d["index"], x)
    ip.invoke()
    outs = ip.get_output_details()
    return outs, [ip.get_tensor(d["index"]) for d in outs]


def top_k(scores: np.ndarray, k: int, labels: list[str] | None):
    flat = scores.reshape(scores.shape[0] if scores.ndim > 1 else 1, -1)
    rows = []
    for row in flat:
        order = np.argsort(-row, kind="stable")[:k]
        rows.append([(int(i), labels[i] if labels and i < len(labels) else str(int(i)), float(row[i]))
                     for i in order])
    return rows
