"""`tinylite run`: feed a model from .npy/.npz/image files and print outputs or top-k labels."""
from __future__ import annotations

import os

import numpy as np


def load_inputs(paths: list[str], details: list[dict]) -> list[np.ndarray]:
    """One array per model input, from .npy / .npz (names or input0..) / image files."""
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
        elif ext in (".png", ".jpg", ".jpeg", ".bmp", ".gif"):
            arrays.append(load_image(p, details[len(arrays)]))
        else:
            raise ValueError(f"input file {p!r}: expected .npy, .npz or an image (.png/.jpg/.bmp)")
    if len(arrays) != len(details):
        raise ValueError(f"the model has {len(details)} input(s) but {len(arrays)} array(s) were given")
    return arrays


def load_image(path: str, detail: dict) -> np.ndarray:
    try:
        from PIL import Image
    except ImportError:
        raise ValueError("reading images needs Pillow: pip install pillow (or pass a .npy file)") from None
    shape = list(detail["shape"])
    if len(shape) != 4:
        raise ValueError(f"an image was given but the model input has shape {shape} (expected NHWC)")
    _, h, w, c = shape
    img = Image.open(path).convert("L" if c == 1 else "RGB").resize((w, h))
    x = np.asarray(img, np.float32).reshape(1, h, w, c)
    dtype = np.dtype(detail["dtype"])
    if dtype.kind == "f":
        return (x / 255.0).astype(dtype)
    scale, zero = detail["quantization"]
    if scale:
        return np.clip(np.round(x / 255.0 / scale + zero), np.iinfo(dtype).min, np.iinfo(dtype).max).astype(dtype)
    return x.astype(dtype)


def run_model(model_path: str, inputs: list[str]) -> tuple[list[dict], list[np.ndarray]]:
    from ..interpreter import Interpreter

    ip = Interpreter(model_path=model_path)
    details = ip.get_input_details()
    arrays = load_inputs(inputs, details)
    for d, x in zip(details, arrays):
        x = np.asarray(x)
        want = np.dtype(d["dtype"])
        if x.dtype != want:
            if want.kind == "f" and x.dtype.kind in "fiu":
                x = x.astype(want)
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
