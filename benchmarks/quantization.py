"""Post-training quantization: tinylite's converter vs TensorFlow 2.21's, per
shared-corpus model and mode.

    python benchmarks/quantization.py [--corpus ../shared/corpus] [--models mnist_cnn,rnet]

For each model (converted from model.h5) and mode (dynamic, float16, int8,
int8 with int8 I/O, 16x8) it prints the SQNR of the worst output against
Keras's `keras_output*` (LiteRT running the file, one sample per invoke as the
corpus's outputs were made), for TensorFlow's file and tinylite's, both file
sizes, and the top-1 accuracy on `eval.npz` where the model has one.  The
calibration set is the first 64 samples of io.npz, as the corpus used.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tinylite  # noqa: E402
from tinylite.interpreter.tensor_values import dequantize  # noqa: E402
from tinylite.testing import match_by_shape, run_on_arrays  # noqa: E402
from tinylite.converter.quantize import sqnr  # noqa: E402

MODELS = ["mnist_cnn", "fashion_cnn", "rnet", "mlp5"]
VARIANTS = ["float", "dynamic", "float16", "int8", "int8io", "int16x8"]
CALIBRATION = 64


def interpreter(content: bytes):
    try:
        from ai_edge_litert import interpreter as lite

        return lite.Interpreter(model_content=content,
                                experimental_op_resolver_type=lite.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    except ImportError:
        return tinylite.Interpreter(model_content=content)


def run(ip, xs, per_sample=True):
    """Real-valued outputs of `ip` on `xs` (see tinylite.testing.run_on_arrays), and the output details."""
    outs, details = run_on_arrays(ip, xs, per_sample)
    return [dequantize(o, d) for o, d in zip(outs, details)], details


def worst_sqnr(content, xs, keras_outputs):
    outs, details = run(interpreter(content), xs)
    refs = match_by_shape(keras_outputs, details)
    return min(sqnr(r, o) for r, o in zip(refs, outs))


def accuracy(content, folder):
    path = folder / "eval.npz"
    if not path.exists():
        return None
    ev = np.load(path)
    outs, _ = run(interpreter(content), [ev["x"].astype(np.float32)], per_sample=False)
    return float((outs[0].argmax(-1) == ev["y"]).mean())


def convert(folder, variant, xs):
    c = tinylite.TFLiteConverter.from_keras_model_file(str(folder / "model.h5"))
    if variant != "float":
        c.optimizations = [tinylite.Optimize.DEFAULT]
    if variant == "float16":
        c.target_spec.supported_types = [np.float16]
    if variant in ("int8", "int8io", "int16x8"):
        c.representative_dataset = lambda: ([x[i:i + 1] for x in xs] for i in range(CALIBRATION))
    if variant == "int8io":
        c.target_spec.supported_ops = [tinylite.OpsSet.TFLITE_BUILTINS_INT8]
        c.inference_input_type = c.inference_output_type = np.int8
    if variant == "int16x8":
        c.target_spec.supported_ops = [tinylite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
    t = time.perf_counter()
    content = c.convert()
    return content, time.perf_counter() - t


def main(argv=None) -> int:
    default = Path(os.environ.get("TINYLITE_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus"))
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", type=Path, default=default)
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--variants", default=",".join(VARIANTS))
    args = p.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"corpus not found at {args.corpus} (set --corpus or TINYLITE_CORPUS)", file=sys.stderr)
        return 1
    head = (f"{'model':12s} {'mode':8s} {'TF SQNR':>9s} {'ours':>9s} {'delta':>8s} {'TF bytes':>10s} "
            f"{'our bytes':>10s} {'size':>7s} {'TF acc':>7s} {'our acc':>7s} {'convert':>8s}")
    print(head)
    print("-" * len(head))
    for name in args.models.split(","):
        folder = args.corpus / name
        io = np.load(folder / "io.npz")
        xs = [io[k] for k in sorted(io.files) if k.startswith("input")]
        keras_outputs = [io[k] for k in sorted(io.files) if k.startswith("keras_output")]
        for variant in args.variants.split(","):
            ours, seconds = convert(folder, variant, xs)
            tf_path = folder / f"tf_{variant}.tflite"
            tf = tf_path.read_bytes() if tf_path.exists() else None
            s_ours = worst_sqnr(ours, xs, keras_outputs)
            s_tf = worst_sqnr(tf, xs, keras_outputs) if tf else None
            a_ours, a_tf = accuracy(ours, folder), (accuracy(tf, folder) if tf else None)

            def f(v, fmt):
                width = int("".join(c for c in fmt.split(".")[0] if c.isdigit()) or 0)
                return format(v, fmt) if v is not None else "-".rjust(width)
            print(f"{name:12s} {variant:8s} {f(s_tf, '9.3f')} {s_ours:9.3f} "
                  f"{f(None if s_tf is None else s_ours - s_tf, '+8.3f')} {f(len(tf) if tf else None, '10d')} "
                  f"{len(ours):10d} {f(len(ours) / len(tf) if tf else None, '7.3f')} {f(a_tf, '7.3f')} "
                  f"{f(a_ours, '7.3f')} {seconds:7.2f}s")
    print("\nSQNR: dB of the worst output vs Keras (higher is better); size: ours / TF; acc: top-1 on eval.npz.")
    print("TF has no rnet int16x8 (TensorFlow 2.21 refuses PRELU with int16 activations).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
