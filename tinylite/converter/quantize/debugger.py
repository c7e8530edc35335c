"""`QuantizationDebugger`: the float and the quantized model side by side.

    debugger = tinylite.QuantizationDebugger(converter=converter, debug_dataset=rep)
    debugger.run()
    debugger.layer_statistics_dump("stats.csv")        # or .json

Names follow `tf.lite.experimental.QuantizationDebugger`.  For every op that
was quantized, the debugger compares its dequantized output with the float
model's value of the same tensor over the debug dataset, and reports per
layer (the Keras layer the tensor came from, and the tensor name):
num_elements, mean_error, max_abs_error, mean_squared_error, rmse/scale (the
RMSE in units of the output's quantization step; ~0.29 is pure rounding
noise) and sqnr (dB).  Errors are the accumulated ones (the quantized model
runs end to end, as it will on a device), so a layer with a jump in error is
the one to keep in float: `QuantizationDebugOptions(denylisted_layers=[...])`
and `get_nondebug_quantized_model()`, or the converter's `denylisted_layers`.
"""
from __future__ import annotations

import csv
import io
import json
import os

import numpy as np

from ...errors import ConverterError
from ...interpreter.tensor_values import quantize
from .rules import layer_of

METRICS = ["num_elements", "mean_error", "max_abs_error", "mean_squared_error", "rmse/scale", "sqnr"]


class QuantizationDebugOptions:
    """Mirrors `tf.lite.experimental.QuantizationDebugOptions` (plus `denylisted_layers`)."""

    def __init__(self, layer_debug_metrics=None, model_debug_metrics=None, layer_direct_compare_metrics=None,
                 denylisted_ops=None, denylisted_nodes=None, fully_quantize=False, denylisted_layers=None):
        self.layer_debug_metrics = layer_debug_metrics or {}
        self.model_debug_metrics = model_debug_metrics or {}
        self.layer_direct_compare_metrics = layer_direct_compare_metrics or {}
        self.denylisted_ops = list(denylisted_ops or ())
        self.denylisted_nodes = list(denylisted_nodes or ())
        self.denylisted_layers = list(denylisted_layers or ())
        self.fully_quantize = fully_quantize


class QuantizationDebugger:
    def __init__(self, quant_debug_model_path=None, quant_debug_model_content=None, float_model_path=None,
                 float_model_content=None, debug_dataset=None, debug_options=None, converter=None):
        if converter is None:
            raise ConverterError("QuantizationDebugger needs converter= (a tinylite TFLiteConverter with "
                                 "optimizations and a representative_dataset): tinylite matches tensors through "
                                 "its own quantizer, so it cannot debug a model quantized elsewhere.")
        if debug_dataset is None:
            raise ConverterError("QuantizationDebugger needs debug_dataset= (a callable returning samples, like a "
                                 "representative_dataset).")
        self.converter = converter
        self.debug_dataset = debug_dataset
        self.options = debug_options or QuantizationDebugOptions()
        self._config = converter.quantization_config()
        if self._config.mode not in ("int8", "int16x8"):
            raise ConverterError(
                f"QuantizationDebugger compares full-integer models; the converter's options give "
                f"{self._config.mode!r} quantization. Set optimizations=[Optimize.DEFAULT] and a "
                "representative_dataset.")
        self._float = converter._float_model()
        self._quant, self._plan = self._quantize(self.options)
        self.layer_statistics: dict[str, dict] = {}
        self.model_statistics: dict[str, float] = {}

    def _quantize(self, options):
        import copy

        from . import quantize_model

        cfg = copy.copy(self._config)
        cfg.denylisted_layers = list(cfg.denylisted_layers) + list(options.denylisted_layers)
        cfg.denylisted_ops = list(cfg.denylisted_ops) + list(options.denylisted_ops)
        cfg.denylisted_nodes = list(cfg.denylisted_nodes) + list(options.denylisted_nodes)
        return quantize_model(self._float, cfg, return_plan=True)

    # -- models --

    def get_nondebug_quantized_model(self) -> bytes:
        """The quantized model (with the options' denylists kept in float), as .tflite bytes."""
        from ...flatbuffer.writer import write_model

        return write_model(self._quant)

    get_debug_quantized_model = get_nondebug_quantized_model

    # -- statistics --

    def run(self) -> None:
        from ...flatbuffer.writer import write_model
        from ...interpreter import Interpreter
        from . import sqnr
        from .calibrate import feed_groups, collect_samples

        samples = collect_samples(self.debug_dataset, self._float)
        fsg, qsg = self._float.subgraphs[0], self._quant.subgraphs[0]
        pairs = []   # (float tensor, quantized tensor, op name)
        for k in self._plan.quantized_ops:
            op = fsg.operators[k]
            for o in op.outputs:
                if o in self._plan.tensor_map:
                    pairs.append((o, self._plan.tensor_map[o], self._float.op_name(op)))
        acc = {f: dict(n=0, err=0.0, abs=0.0, sq=0.0, ref=0.0) for f, _, _ in pairs}
        fip = Interpreter(model_content=write_model(self._float), experimental_preserve_all_tensors=True)
        qip = Interpreter(model_content=write_model(self._quant), experimental_preserve_all_tensors=True)
        outs_f, outs_q = [], []
        for feeds in feed_groups(fip.get_input_details(), samples):
            for ip in (fip, qip):
                details = ip.get_input_details()
                for d, x in zip(details, feeds):
                    if tuple(d["shape"]) != x.shape:
                        ip.resize_tensor_input(d["index"], x.shape)
                ip.allocate_tensors()
                for d, x in zip(details, feeds):
                    ip.set_tensor(d["index"], quantize(x, d))
                ip.invoke()
            for f, q, _ in pairs:
                ref = fip.tensor(f)().astype(np.float64)
                got = _dequantize(qip.tensor(q)(), qsg.tensors[q])
                diff = got - ref
                a = acc[f]
                a["n"] += diff.size
                a["err"] += float(diff.sum())
                a["abs"] = max(a["abs"], float(np.abs(diff).max(initial=0.0)))
                a["sq"] += float((diff ** 2).sum())
                a["ref"] += float((ref ** 2).sum())
            outs_f.append([fip.get_tensor(d["index"]) for d in fip.get_output_details()])
            outs_q.append([_dequantize(qip.get_tensor(d["index"]), qsg.tensors[d["index"]])
                           for d in qip.get_output_details()])
        self.layer_statistics = {}
        for f, q, op_name in pairs:
            a, t = acc[f], qsg.tensors[q]
            n = max(a["n"], 1)
            mse = a["sq"] / n
            scale = float(t.quantization.scale[0]) if t.quantization is not None and t.quantization.is_quantized \
                else float("nan")
            self.layer_statistics[fsg.tensors[f].name] = {
                "op_name": op_name,
                "layer": layer_of(fsg.tensors[f].name),
                "tensor_idx": q,
                "scale": scale,
                "num_elements": a["n"],
                "mean_error": a["err"] / n,
                "max_abs_error": a["abs"],
                "mean_squared_error": mse,
                "rmse/scale": float(np.sqrt(mse) / scale) if scale > 0 else float("nan"),
                "sqnr": float(10.0 * np.log10(a["ref"] / a["sq"])) if a["sq"] > 0 and a["ref"] > 0 else float("inf"),
            }
            for name, fn in self.options.layer_debug_metrics.items():
                self.layer_statistics[fsg.tensors[f].name][name] = None if fn is None else fn
        names = [tm.name for tm in self._float.signature_defs[0].outputs] if self._float.signature_defs else []
        self.model_statistics = {}
        for k in range(len(outs_f[0]) if outs_f else 0):
            ref = np.concatenate([o[k] for o in outs_f])
            got = np.concatenate([o[k] for o in outs_q])
            key = names[k] if k < len(names) else f"output{k}"
            self.model_statistics[f"{key}/sqnr"] = float(sqnr(ref, got))
            self.model_statistics[f"{key}/max_abs_error"] = float(np.abs(ref - got).max(initial=0.0))

    def _rows(self):
        if not self.layer_statistics:
            raise ConverterError("no statistics yet: call run() first.")
        return [dict(tensor_name=name, **stats) for name, stats in self.layer_statistics.items()]

    def layer_statistics_dump(self, file, format: str | None = None) -> None:
        """Write the per-layer statistics as CSV (TensorFlow's format) or JSON (format="json" or a
        path ending in .json).  `file` is a path or a text file object."""
        rows = self._rows()
        path = os.fspath(file) if isinstance(file, (str, os.PathLike)) else None
        fmt = format or ("json" if path and path.endswith(".json") else "csv")
        if fmt == "json":
            text = json.dumps({"layers": rows, "model": self.model_statistics}, indent=2, default=_json_safe)
        elif fmt == "csv":
            buf = io.StringIO()
            fields = ["op_name", "tensor_idx", "tensor_name", "layer", "scale"] + METRICS
            w = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
            text = buf.getvalue()
        else:
            raise ValueError(f"format must be 'csv' or 'json', got {format!r}")
        if path is None:
            file.write(text)
            return
        from ...flatbuffer.writer import atomic_write

        atomic_write(path, text.encode())


def _json_safe(v):
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    return str(v)


def _dequantize(values, tensor):
    q = tensor.quantization
    if values.dtype == np.float32 or q is None or not q.is_quantized:
        return values.astype(np.float64)
    return (values.astype(np.float64) - float(q.zero_point[0])) * float(q.scale[0])
