"""Post-training quantization of converted models, TensorFlow's modes:

- ``dynamic``: int8 weights, hybrid kernels (dynamic_range.py);
- ``float16``: float16 constants with DEQUANTIZE (float16.py);
- ``int8``: full integer, int8 activations calibrated on a representative
  dataset (calibrate.py, full_integer.py, rules.py), float fallback or strict;
- ``int16x8``: int16 activations, int8 weights, int64 biases.

The fused LSTM has its own scheme in each mode (lstm.py): the hybrid LSTM, the
integer LSTM in int8, float in 16x8.

`quantize_model(float_model, config)` applies one; api.py chooses the mode from
the converter's options exactly as TensorFlow does (`select_mode`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ...errors import ConverterError
from .rules import layer_of

MODES = ("none", "dynamic", "float16", "int8", "int16x8")


@dataclass
class QuantConfig:
    mode: str = "none"
    strict: bool = False                   # no float fallback (TFLITE_BUILTINS_INT8 alone)
    input_type: str = "float32"
    output_type: str = "float32"
    dataset: object = None                 # the representative dataset
    per_channel: bool = True
    denylisted_layers: list = field(default_factory=list)
    denylisted_ops: list = field(default_factory=list)
    denylisted_nodes: list = field(default_factory=list)   # tensor names (TF's debugger term)
    input_stats: object = None             # TF1 (mean, std) per input (list) or by name (dict)
    bias_correction: bool = True           # 16x8: try it; kept only if closer to the float model


def keep_float_fn(config: QuantConfig):
    layers = set(config.denylisted_layers or ())
    ops = {str(o).upper() for o in (config.denylisted_ops or ())}
    nodes = set(config.denylisted_nodes or ())

    def keep(model, k):
        sg = model.subgraphs[0]
        op = sg.operators[k]
        names = [sg.tensors[o].name for o in op.outputs]
        return (model.op_name(op) in ops or any(layer_of(n) in layers for n in names)
                or any(n in nodes for n in names))
    return keep


def check_denylist(model, config: QuantConfig) -> None:
    sg = model.subgraphs[0]
    known = {layer_of(sg.tensors[o].name) for op in sg.operators for o in op.outputs}
    unknown = [name for name in (config.denylisted_layers or ()) if name not in known]
    if unknown:
        raise ConverterError(f"denylisted_layers: no layer named {unknown} in the model; its layers are "
                             f"{sorted(known)}.")


def sqnr(reference, value) -> float:
    """Signal-to-quantization-noise ratio in dB (inf when equal)."""
    import numpy as np

    ref = np.asarray(reference, np.float64)
    noise = float(np.sum((ref - np.asarray(value, np.float64)) ** 2))
    signal = float(np.sum(ref ** 2))
    if noise == 0:
        return float("inf")
    return 10.0 * np.log10(signal / noise) if signal > 0 else float("-inf")


def dequantized_outputs(model, samples):
    """A (possibly integer-I/O) model's outputs over float samples, as float (flat, see calibrate.joined)."""
    from ...flatbuffer.writer import write_model
    from ...interpreter import Interpreter, tensor_values

    ip = Interpreter(model_content=write_model(model))
    ins, outs = ip.get_input_details(), ip.get_output_details()
    from .calibrate import feed_groups, joined

    got = []
    for feeds in feed_groups(ins, samples):
        for d, x in zip(ins, feeds):
            if tuple(d["shape"]) != x.shape:
                ip.resize_tensor_input(d["index"], x.shape)
        ip.allocate_tensors()
        for d, x in zip(ins, feeds):
            # Only quantized inputs are scaled; integer data (token ids) goes in as is.
            ip.set_tensor(d["index"], tensor_values.quantize(x, d))
        ip.invoke()
        row = []
        for d in outs:
            row.append(tensor_values.dequantize(ip.get_tensor(d["index"]), d))
        got.append(row)
    return joined(got)


def fidelity(model, samples, reference) -> float:
    """The worst output's SQNR against the float model's outputs."""
    got = dequantized_outputs(model, samples)
    return min(sqnr(r, g) for r, g in zip(reference, got))


def _apply_input_stats(model, ranges, config) -> None:
    """TF1's mean/std for inputs (real = (q - mean) / std) as the inputs' ranges."""
    stats = config.input_stats
    if not stats:
        return
    sg = model.subgraphs[0]
    names = [tm.name for tm in model.signature_defs[0].inputs] if model.signature_defs else []
    if isinstance(stats, dict):
        unknown = [k for k in stats if k not in names and k not in [sg.tensors[i].name for i in sg.inputs]]
        if unknown:
            raise ConverterError(f"quantized_input_stats: no input named {unknown}; the inputs are {names}.")
        by_pos = [stats.get(n, stats.get(sg.tensors[i].name)) for n, i in zip(names, sg.inputs)]
    else:
        by_pos = list(stats)
        if len(by_pos) != len(sg.inputs):
            raise ConverterError(f"{len(by_pos)} (mean, std) pairs given for {len(sg.inputs)} model inputs.")
    lo_q, hi_q = (-32768, 32767) if config.mode == "int16x8" else (-128, 127)
    for i, st in zip(sg.inputs, by_pos):
        if st is None:
            continue
        mean, std = float(st[0]), float(st[1])
        if std <= 0:
            raise ConverterError(f"std_dev_values must be positive, got {std}.")
        zp = int(round(mean))
        if not lo_q <= zp <= hi_q:
            raise ConverterError(f"mean_values={mean} is outside the integer range [{lo_q}, {hi_q}] of the inputs.")
        ranges[i] = ((lo_q - zp) / std, (hi_q - zp) / std)


def quantize_model(model, config: QuantConfig, samples=None, return_plan: bool = False):
    """The quantized Model (and, with return_plan, the full-integer Plan or None)."""
    from ..passes import dedupe_buffers, remove_dead
    from . import versions

    check_denylist(model, config)
    keep = keep_float_fn(config)
    plan = None
    if config.mode == "none":
        return (model, None) if return_plan else model
    if config.mode == "dynamic":
        from .dynamic_range import quantize

        out = quantize(model, keep, per_channel=config.per_channel)
    elif config.mode == "float16":
        from .float16 import quantize

        out = quantize(model, keep)
    elif config.mode in ("int8", "int16x8"):
        from . import calibrate, full_integer

        if samples is None:
            samples = calibrate.collect_samples(config.dataset, model)
        means: dict = {}
        ranges = calibrate.calibrate(model, samples, means)
        _apply_input_stats(model, ranges, config)
        args = dict(act="int16" if config.mode == "int16x8" else "int8", strict=config.strict,
                    input_type=config.input_type, output_type=config.output_type, keep_float=keep)
        variants = [{}]
        if full_integer.has_mask_bias(model, ranges):
            variants.append({"mask_bias": False})
        if config.bias_correction and config.mode == "int16x8":
            # 16x8: TensorFlow's result, and the same with biases corrected for the weights'
            # rounding (the dominant error once activations have 16 bits).  (For int8 the
            # correction did not generalize beyond the calibration samples on the corpus, so
            # int8 stays exactly TensorFlow's scheme.)
            variants += [dict(v, means=means) for v in variants]
        out, plan = full_integer.quantize(model, ranges, **args, **variants[0])
        if len(variants) > 1:
            # Keep whichever reproduces the float model better on the calibration samples.
            reference = calibrate.outputs(model, samples)
            best = fidelity(out, samples, reference)
            for v in variants[1:]:
                cand = full_integer.quantize(model, ranges, **args, **v)
                score = fidelity(cand[0], samples, reference)
                if score > best:
                    (out, plan), best = cand, score
        plan.ranges = ranges
    else:
        raise ConverterError(f"unknown quantization mode {config.mode!r}; expected one of {MODES}")
    versions.finish(out)
    if plan is not None:
        for i, t in enumerate(out.subgraphs[0].tensors):
            t._orig_index = i
    remove_dead.run(out)
    if plan is not None:
        where = {t.__dict__.pop("_orig_index"): k for k, t in enumerate(out.subgraphs[0].tensors)}
        plan.tensor_map = {a: where[b] for a, b in plan.tensor_map.items() if b in where}
    # Quantized constants that came from different float ones can be byte-identical (zero
    # biases, the scales of BatchNormalizations with the same statistics): one buffer each,
    # as TensorFlow writes them.  (Every tensor is live here, so none is renumbered.)
    dedupe_buffers.run(out)
    return (out, plan) if return_plan else out


__all__ = ["QuantConfig", "quantize_model", "MODES"]
