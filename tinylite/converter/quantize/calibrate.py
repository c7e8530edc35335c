"""Calibration: run the float model in tinylite's interpreter over the
representative dataset and record each tensor's min and max.

TensorFlow's calibrator does the same (plain min/max over every sample, no
percentiles) by running the float model in LiteRT.  Samples of equal shapes
are stacked into one batch per invoke: min and max do not depend on how the
samples are grouped, and one large invoke is much faster in numpy.

A fused LSTM keeps its cell state inside the op, so its range over every time
step comes from a float reference of the cell in numpy (lstm.cell_range), as
TensorFlow's calibrator logs it from inside its float LSTM kernel.

The representative dataset comes in every form TensorFlow accepts: a
`RepresentativeDataset`, or a callable returning an iterable, whose items are
a list/tuple of arrays in input order, a dict by signature input name, or a
``(signature_key, dict)`` pair.
"""
from __future__ import annotations

import numpy as np

from ...errors import ConverterError
from . import lstm

# How many samples go through the interpreter in one invoke.
_CHUNK = 256


def iterate_samples(dataset):
    """The items of a representative dataset (any of TensorFlow's forms)."""
    gen = getattr(dataset, "input_gen", dataset)
    if callable(gen):
        gen = gen()
    try:
        it = iter(gen)
    except TypeError:
        raise ConverterError(
            f"representative_dataset must be a callable returning an iterable of samples (a generator "
            f"function), got {type(gen).__name__}. Example: def rep(): yield [x[i:i+1]] for each i; "
            "converter.representative_dataset = rep") from None
    return it


def normalize_sample(sample, input_names: list[str], input_shapes: list[tuple], signature_key="serving_default"):
    """One representative sample -> a list of float32 arrays in the model's input order."""
    if (isinstance(sample, tuple) and len(sample) == 2 and isinstance(sample[0], str)
            and isinstance(sample[1], dict)):
        key, sample = sample
        if key != signature_key:
            raise ConverterError(f"representative_dataset: signature key {key!r} is not the model's "
                                 f"({signature_key!r}).")
    if isinstance(sample, dict):
        missing = [n for n in input_names if n not in sample]
        if missing:
            raise ConverterError(f"representative_dataset: a sample (dict) has keys {sorted(sample)}, but the "
                                 f"model's inputs are {input_names}; missing {missing}.")
        arrays = [sample[n] for n in input_names]
    elif isinstance(sample, (list, tuple)):
        arrays = list(sample)
    else:
        arrays = [sample]
    if len(arrays) != len(input_names):
        raise ConverterError(f"representative_dataset: a sample has {len(arrays)} arrays, the model has "
                             f"{len(input_names)} inputs ({input_names}). Yield one array per input, in order, "
                             "or a dict by input name.")
    out = []
    for a, name, shape in zip(arrays, input_names, input_shapes):
        a = np.asarray(a, dtype=np.float32) if not hasattr(a, "numpy") else np.asarray(a.numpy(), np.float32)
        if a.ndim == len(shape) - 1:
            a = a[None]
        if a.ndim != len(shape) or any(s not in (-1, d) for s, d in zip(shape[1:], a.shape[1:])):
            raise ConverterError(f"representative_dataset: input {name!r} got an array of shape {list(a.shape)}, "
                                 f"the model expects {list(shape)} (batch first).")
        out.append(a)
    return out


def collect_samples(dataset, model) -> list[list[np.ndarray]]:
    sg = model.subgraphs[0]
    sig = model.signature_defs[0] if model.signature_defs else None
    names = [tm.name for tm in sig.inputs] if sig else [sg.tensors[i].name for i in sg.inputs]
    shapes = [tuple(int(d) for d in (sg.tensors[i].shape_signature if sg.tensors[i].shape_signature is not None
                                     else sg.tensors[i].shape)) for i in sg.inputs]
    key = sig.signature_key if sig else "serving_default"
    samples = [normalize_sample(s, names, shapes, key) for s in iterate_samples(dataset)]
    if not samples:
        raise ConverterError("representative_dataset yielded no samples; calibration needs at least one.")
    return samples


def batches(samples):
    """Stack consecutive samples of equal shapes into batches of at most _CHUNK rows."""
    group: list = []
    for s in samples:
        if group and ([a.shape[1:] for a in s] != [a.shape[1:] for a in group[0]]
                      or sum(g[0].shape[0] for g in group) >= _CHUNK):
            yield [np.concatenate([g[k] for g in group]) for k in range(len(s))]
            group = []
        group.append(s)
    if group:
        yield [np.concatenate([g[k] for g in group]) for k in range(len(group[0]))]


def feed_groups(details, samples):
    """The feeds a model takes its samples in: stacked into batches (batches()), or one sample
    at a time for a model built for a fixed batch (Keras Input(batch_size=1)), whose reshapes,
    transposed convolutions and RNN states carry that batch, or with a scalar input (a count: no
    batch axis to stack on).  `details`: its input details."""
    fixed = any(not len(d["shape_signature"]) or int(d["shape_signature"][0]) != -1 for d in details)
    return ([list(s) for s in samples] if fixed else batches(samples))


def run_batches(content: bytes, samples, tensors=None):
    """Yield (feeds, interpreter) after invoking the model on each batch with every tensor kept."""
    from ...errors import TinyliteError
    from ...interpreter import Interpreter

    ip = Interpreter(model_content=content, experimental_preserve_all_tensors=True)
    # Float products rounded once from float64 (kernels._base.exact_matmul): the BLAS
    # kernel the CPU picks must not move a calibrated range, nor the scales made from it.
    ip._exact_products = True
    details = ip.get_input_details()
    for feeds in feed_groups(details, samples):
        try:
            for d, x in zip(details, feeds):
                if tuple(d["shape"]) != x.shape:
                    ip.resize_tensor_input(d["index"], x.shape)
            ip.allocate_tensors()
            for d, x in zip(details, feeds):
                ip.set_tensor(d["index"], x.astype(d["dtype"]))
            ip.invoke()
        except (TinyliteError, ValueError) as e:
            shapes = ", ".join(f"{d['name']} {list(x.shape)}" for d, x in zip(details, feeds))
            want = ", ".join(f"{d['name']} {[int(k) for k in d['shape_signature']]}" for d in details)
            raise ConverterError(f"calibration could not run the float model on the representative samples "
                                 f"(inputs {shapes}; the model takes {want}): {e}. Yield samples of the shapes "
                                 "the model takes.") from None
        yield feeds, ip


def calibrate(model, samples, means: dict | None = None) -> dict[int, tuple[float, float]]:
    """{tensor index: (min, max)} over the samples for every float32 tensor that is not a constant.
    `means`, if given, receives {tensor index: mean over all but the last axis} (for bias correction)."""
    from ...flatbuffer.writer import write_model

    sg = model.subgraphs[0]
    watch = [i for i, t in enumerate(sg.tensors) if t.type == 0 and model.buffer_array(t) is None]
    ranges: dict[int, list[float]] = {}
    sums: dict[int, list] = {}
    # A fused LSTM's cell state lives inside the op; its state tensor only shows the last
    # step.  The integer LSTM needs the range over every step: recompute it in float.
    lstms = [op for op in sg.operators if model.op_name(op) == lstm.NAME and len(op.inputs) > lstm.C_STATE
             and op.inputs[lstm.C_STATE] >= 0 and lstm.float_cell_layout(model, op) is not None]
    cells: dict[int, list[float]] = {}
    for _, ip in run_batches(write_model(model), samples):
        for op in lstms:
            r = lstm.cell_range(model, op, ip.tensor(op.inputs[0])())
            if r is not None:
                c = cells.get(op.inputs[lstm.C_STATE])
                cells[op.inputs[lstm.C_STATE]] = list(r) if c is None else [min(c[0], r[0]), max(c[1], r[1])]
        for i in watch:
            v = ip.tensor(i)()
            if v is None or v.size == 0:
                continue
            lo, hi = float(np.min(v)), float(np.max(v))
            if not (np.isfinite(lo) and np.isfinite(hi)):
                finite = v[np.isfinite(v)]
                if not finite.size:
                    continue
                lo, hi = float(finite.min()), float(finite.max())
            r = ranges.get(i)
            ranges[i] = [lo, hi] if r is None else [min(r[0], lo), max(r[1], hi)]
            if means is not None and v.ndim:
                rows = v.reshape(-1, v.shape[-1]).astype(np.float64)
                acc = sums.setdefault(i, [0.0, 0])
                acc[0] = acc[0] + rows.sum(axis=0)
                acc[1] += rows.shape[0]
        v = None    # a live view of the arena would make the next batch's allocate_tensors refuse to run
    ranges.update(cells)
    if means is not None:
        means.update({i: s / max(n, 1) for i, (s, n) in sums.items()})
    return {i: (r[0], r[1]) for i, r in ranges.items()}


def outputs(model, samples) -> list[np.ndarray]:
    """The model's outputs over all samples, each flat (see joined)."""
    from ...flatbuffer.writer import write_model

    got = []
    for _, ip in run_batches(write_model(model), samples):
        got.append([ip.get_tensor(d["index"]) for d in ip.get_output_details()])
    return joined(got)


def joined(rows) -> list[np.ndarray]:
    """Per output, its values over all feeds (`rows`: one list of outputs per feed) in one flat
    array: an output need not have a batch axis to join on (a count, a loop's grown tensor)."""
    return [np.concatenate([np.ravel(r[k]) for r in rows]) for k in range(len(rows[0]))]
