"""Verification of a conversion against its source Keras model (`experimental_verify`).

TensorFlow's converter trusts its own output; a converter that silently writes a wrong
model is the worst failure it can have.  After converting, this runs the source model in
Keras (whatever backend is installed) and the `.tflite` in tinylite on a few random
inputs of the model's shapes, and reports the maximum relative error of each output
(max |tflite - keras| / max |keras|).  Above the threshold the conversion fails, naming
the first layer (in graph order) whose output diverges: every Keras layer output that
survives the graph passes as a tensor is compared, with the interpreter's intermediates
preserved.

>>> import tinylite
>>> converter = tinylite.TFLiteConverter.from_keras_model_file("model.keras")  # doctest: +SKIP
>>> converter.experimental_verify = True                                        # doctest: +SKIP
>>> content = converter.convert()                                               # doctest: +SKIP
>>> converter.verification.max_relative_error                                   # doctest: +SKIP
{'output_0': 1.3e-06}
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from ..errors import ConverterError

# Default thresholds per conversion mode: float files reproduce Keras to float32
# rounding; quantized files are judged by how far quantization may move an output.
THRESHOLDS = {"none": 1e-4, "float16": 1e-2, "dynamic": 0.1, "int8": 0.25, "int16x8": 0.1}


class VerificationError(ConverterError):
    """The converted model does not reproduce its source Keras model."""


@dataclass
class Verification:
    """What `experimental_verify` measured."""

    max_relative_error: dict                      # signature output name -> error
    threshold: float
    samples: int
    first_diverging_layer: str | None = None      # "name (Class)" when an output diverged
    layer_errors: list = field(default_factory=list)   # [(layer, class, error)] in graph order

    @property
    def ok(self) -> bool:
        return all(e <= self.threshold for e in self.max_relative_error.values())

    def summary(self) -> str:
        errs = ", ".join(f"{k} {v:.2g}" for k, v in self.max_relative_error.items())
        text = (f"verified against Keras on {self.samples} random inputs: max relative error {errs} "
                f"(threshold {self.threshold:g})")
        if self.first_diverging_layer:
            text += f"; first diverging layer: {self.first_diverging_layer}"
        return text


def _relative_error(got, want) -> float:
    got = np.asarray(got, np.float64)
    want = np.asarray(want, np.float64)
    if got.shape != want.shape:
        return float("inf")
    if want.size == 0:
        return 0.0
    scale = float(np.max(np.abs(want)))
    err = float(np.max(np.abs(got - want)))
    if not np.isfinite(err):
        return float("inf")
    return err / scale if scale > 0 else err


def _import_keras():
    try:
        import keras
    except ImportError:
        raise ConverterError(
            "verification runs the source model in Keras, which is not installed: pip install keras with a "
            "backend (jax, torch or tensorflow), or convert without --verify / experimental_verify.") from None
    except Exception as e:  # noqa: BLE001 - a backend that fails to import
        raise ConverterError(
            f"verification runs the source model in Keras, which could not be imported ({type(e).__name__}: "
            f"{e}). Set KERAS_BACKEND to an installed backend (jax, torch, numpy, tensorflow), or convert "
            "without --verify.") from None
    return keras


def _load_source(source):
    keras = _import_keras()
    if not isinstance(source, (str, os.PathLike)):
        return keras, source
    try:
        return keras, keras.saving.load_model(os.fspath(source), compile=False)
    except Exception as e:  # noqa: BLE001 - whatever Keras raises for the file
        msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise ConverterError(
            f"verification: Keras cannot load {os.fspath(source)!r} to run it ({type(e).__name__}: {msg[:300]}). "
            "Verify the live model instead: TFLiteConverter.from_keras_model(model) with experimental_verify."
        ) from None


def _feeds(interp, rng, batch: int):
    """Random inputs of the file's input shapes (unknown dimensions: `batch`) and dtypes."""
    feeds, keras_feeds = [], []
    for d in interp.get_input_details():
        shape = [batch if s < 0 else int(s) for s in d.get("shape_signature", d["shape"])]
        dtype = np.dtype(d["dtype"])
        scale, zero = (d.get("quantization") or (0.0, 0))[:2]
        if dtype.kind == "f":
            x = rng.standard_normal(shape).astype(dtype)
            feeds.append(x)
            keras_feeds.append(x.astype(np.float32))
        elif scale:
            # quantized inputs: the Keras model gets the dequantized values
            info = np.iinfo(dtype)
            q = rng.integers(info.min, info.max + 1, shape).astype(dtype)
            feeds.append(q)
            keras_feeds.append(((q.astype(np.float32) - zero) * scale).astype(np.float32))
        elif dtype == np.bool_:
            x = rng.integers(0, 2, shape).astype(bool)
            feeds.append(x)
            keras_feeds.append(x)
        else:
            # integer ids (an Embedding's): small values are valid for any vocabulary
            x = rng.integers(0, 2, shape).astype(dtype)
            feeds.append(x)
            keras_feeds.append(x)
    return feeds, keras_feeds


def _run(interp, feeds):
    for d, x in zip(interp.get_input_details(), feeds):
        if tuple(d["shape"]) != x.shape:
            interp.resize_tensor_input(d["index"], x.shape)
    interp.allocate_tensors()
    for d, x in zip(interp.get_input_details(), feeds):
        interp.set_tensor(d["index"], x)
    interp.invoke()
    outs = []
    for d in interp.get_output_details():
        y = interp.get_tensor(d["index"])
        scale, zero = (d.get("quantization") or (0.0, 0))[:2]
        if y.dtype.kind in "iu" and scale:
            y = (y.astype(np.float32) - zero) * scale
        outs.append(y)
    return outs


def _keras_outputs(keras, model, feeds):
    out = model(feeds if len(feeds) > 1 else feeds[0], training=False)
    flat = keras.tree.flatten(out)
    return [np.asarray(keras.ops.convert_to_numpy(o)) for o in flat]


def _keras_tensor_of(model, name, node, tensor):
    """The symbolic output `tensor` of call `node` of the layer or op named `name`."""
    ops = getattr(model, "_operations", None) or getattr(model, "layers", [])
    for op in ops:
        if op.name == name:
            nodes = getattr(op, "_inbound_nodes", [])
            if node < len(nodes):
                outs = nodes[node].output_tensors
                if tensor < len(outs):
                    return outs[tensor]
    return None


def _first_divergence(keras, model, content, feeds, keras_feeds, record, threshold):
    """[(layer, class, error)] in graph order for every recorded layer output that the
    file still holds, and the first one above the threshold."""
    from ..interpreter import Interpreter

    inputs = getattr(model, "inputs", None)
    if not record or not inputs:
        return [], None
    wanted, probes = [], []
    for name, cls, node, t, tensor_name in record:
        kt = _keras_tensor_of(model, name, node, t)
        if kt is not None:
            wanted.append((name, cls, tensor_name))
            probes.append(kt)
    if not probes:
        return [], None
    try:
        probe = keras.Model(inputs, probes)
        values = _keras_outputs(keras, probe, keras_feeds)
    except Exception:  # noqa: BLE001 - a graph Keras cannot cut (e.g. shared across models)
        return [], None
    interp = Interpreter(model_content=content, experimental_preserve_all_tensors=True)
    _run(interp, feeds)
    by_name = {d["name"]: d for d in interp.get_tensor_details()}
    errors, first, unseen = [], None, []
    for (name, cls, tensor_name), want in zip(wanted, values):
        d = by_name.get(tensor_name)
        got = None if d is None else interp.get_tensor(d["index"])
        if got is not None:
            scale, zero = (d.get("quantization") or (0.0, 0))[:2]
            if got.dtype.kind in "iu" and scale:
                got = (got.astype(np.float32) - zero) * scale
        if got is None or got.shape != want.shape or got.dtype.kind not in "fiu":
            unseen.append(f"{name!r} ({cls})")      # folded or fused away by a graph pass
            continue
        err = _relative_error(got, want)
        errors.append((name, cls, err))
        if err > threshold:
            first = f"{name!r} ({cls}), relative error {err:.3g}"
            if unseen:
                first += (f"; before it, the outputs of {', '.join(unseen)} have no tensor of their own in the "
                          "file (folded into the next op), so the error may start there")
            break
        unseen = []
    return errors, first


def _measure(keras, model, content, threshold, samples, seed):
    from ..interpreter import Interpreter

    rng = np.random.default_rng(seed)
    interp = Interpreter(model_content=content)
    # outputs in the file's order, which is the Keras model's (and the signature's output_k)
    names = [f"output_{k}" for k in range(len(interp.get_output_details()))]
    worst = dict.fromkeys(names, 0.0)
    first_feeds = None
    for _ in range(samples):
        feeds, keras_feeds = _feeds(interp, rng, batch=2)
        first_feeds = first_feeds or (feeds, keras_feeds)
        got = _run(interp, feeds)
        try:
            want = _keras_outputs(keras, model, keras_feeds)
        except Exception as e:  # noqa: BLE001 - user models
            raise ConverterError(f"verification: running the Keras model failed ({type(e).__name__}: {e})") from None
        if len(want) != len(got):
            raise VerificationError(f"verification: the Keras model has {len(want)} outputs, the file {len(got)}")
        for name, g, w in zip(names, got, want):
            worst[name] = max(worst[name], _relative_error(g, w))
    return Verification(worst, threshold, samples), first_feeds


def verify(source, content: bytes, record=None, threshold: float = 1e-4, samples: int = 2,
           seed: int = 0, unoptimized=None) -> Verification:
    """Compare `content` (a .tflite converted from `source`, a keras.Model or a Keras file)
    with Keras on `samples` random batches; raise VerificationError above `threshold`.
    `record` lists the converter's (layer, class, node, tensor, tensor name) layer outputs;
    `unoptimized()`, if given, converts again without graph passes -> (content, record),
    where every layer's output is a tensor of its own."""
    keras, model = _load_source(source)
    result, feeds = _measure(keras, model, content, threshold, samples, seed)
    if result.ok:
        return result
    result.layer_errors, result.first_diverging_layer = _first_divergence(
        keras, model, content, *feeds, record or [], threshold)
    notes = []
    if unoptimized is not None:
        plain, plain_record = unoptimized()
        plain_result, plain_feeds = _measure(keras, model, plain, threshold, samples, seed)
        if plain_result.ok:
            errs = ", ".join(f"{v:.2g}" for v in plain_result.max_relative_error.values())
            notes.append(f"Converted without the graph passes (converter/passes), the model matches Keras "
                         f"(error {errs}): a graph pass broke it.")
        else:
            _, plain_first = _first_divergence(keras, model, plain, *plain_feeds, plain_record, threshold)
            if plain_first and plain_first != result.first_diverging_layer:
                notes.append(f"Without the graph passes it diverges too, first at {plain_first}.")
            result.first_diverging_layer = result.first_diverging_layer or plain_first
    where = (f" The first layer whose output diverges is {result.first_diverging_layer}."
             if result.first_diverging_layer else
             " No layer output could be compared one by one (a traced subclassed model, or a nested model).")
    raise VerificationError(
        "verification failed: the converted model does not reproduce Keras. Max relative error per output: "
        + ", ".join(f"{k} {v:.3g}" for k, v in result.max_relative_error.items())
        + f" (threshold {threshold:g}).{where} " + " ".join(notes)
        + " Please report this conversion as a bug (with the model file).")
