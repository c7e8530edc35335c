"""Post-training quantization: tinylite's converter vs TensorFlow 2.21's, per
shared-corpus model and mode.

    python benchmarks/quantization.py [--corpus ../shared/corpus] [--models mnist_cnn,rnet]
    python benchmarks/quantization.py --applications [--size 224] [--tf-python /work/tfvenv/bin/python] [--keep DIR]

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


# -- keras.applications (issue 18) ------------------------------------------------------------

APPLICATIONS = ["MobileNetV3Large", "EfficientNetB0", "ResNet50", "DenseNet121", "InceptionV3"]
APP_SIZE = 224          # the applications' default input, the issue's setup
APP_MODES = ["dynamic", "int8"]

# TensorFlow 2.21's figures on the same .keras files (no classifier: the backbones, as the
# issue's file sizes show it measured), calibration and test images
# (benchmarks/tf_convert_keras.py in a TensorFlow virtual environment, files run in LiteRT):
# (SQNR dB, file bytes, conversion seconds), measured on a loaded 2-core machine (the times
# are inflated alike for both).  Re-measure with --tf-python PATH (--keep DIR keeps the files).
# MobileNetV3Large with Keras's random initialization is degenerate: its features are ~1e-10,
# and both int8 files round them to 0 (0 dB).  TensorFlow's int8 file is 10% smaller because
# it is wrong: the SE expand convolutions of blocks 11-14 (float kernels all different) are
# written as all-zero int8 kernels, which then share one buffer per shape (343,296 bytes);
# with them, TensorFlow's file would be 3,432,392 bytes and ours (3,422,240) 0.997 of it.
# Dynamic-range: TensorFlow folds the stem's Rescaling(1/255) into the first convolution's
# filter and every ZeroPadding2D that adds SAME's border into the next convolution's SAME
# padding; tinylite's passes fold_input_scale and fold_pad now do the same (EfficientNetB0
# 24.89 -> 24.92 dB).  The two files then have the same ops, the same hybrid ops and the same
# int8 weights; what is left differs in the last bit of 49 of 81 folded float filters and
# weight scales (TensorFlow's BatchNormalization fold rounds differently; Keras's own float32
# arithmetic instead of our float64 one changed no row), which moves the float activations the
# hybrid ops quantize at run time.  That is noise of either sign and of the gap's size: on 6
# other sets of 8 test images (uniform [0, 255], numpy seeds 1-6) EfficientNetB0's ours - TF is
# +0.03, -0.01, -0.10, -0.06, +0.02, -0.01 dB (mean -0.02), so the remaining
# gaps (EfficientNetB0 -0.04, ResNet50 -0.02, DenseNet121 -0.01 dB) are within 0.3 dB by the
# issue's rule, with TensorFlow's files sound.
# int8 DenseNet121 / InceptionV3 (-0.02, -0.03 dB; 3.7 and 1.8 dB behind before the
# concatenation groups) are calibration noise: our files calibrated on 6 other 16-image sets
# (uniform [0, 255], seeds 1001-1006) score InceptionV3 34.90-34.96 dB (TF's 34.95 lies inside),
# DenseNet121 33.82-34.17 dB (seed 0, the row's set, is our best); TensorFlow on the same
# DenseNet121 sets 1001 and 1002 scores 33.69 and 33.81 dB, ours 33.82 and 33.93 (+0.13, +0.12):
# the row's -0.02 is the draw of set 0.
TF_APPLICATIONS = {
    ("MobileNetV3Large", 224, "dynamic"): (27.97, 3220192, 51.1),   # ours now: 27.99 dB, 3211152 bytes (0.997)
    ("MobileNetV3Large", 224, "int8"): (0.00, 3089096, 52.3),   # ours now: 0.00 dB, 3422240 bytes (1.108)
    ("EfficientNetB0", 224, "dynamic"): (24.96, 4426600, 84.2),   # ours now: 24.92 dB, 4410080 bytes (0.996)
    ("EfficientNetB0", 224, "int8"): (21.02, 4791656, 147.1),   # ours now: 21.56 dB, 4773616 bytes (0.996)
    ("ResNet50", 224, "dynamic"): (37.47, 23814840, 113.9),   # ours now: 37.45 dB, 23812720 bytes (1.000)
    ("ResNet50", 224, "int8"): (30.79, 24140872, 148.6),   # ours now: 32.20 dB, 24136320 bytes (1.000)
    ("DenseNet121", 224, "dynamic"): (38.70, 7140152, 207.4),   # ours now: 38.69 dB, 7132480 bytes (0.999)
    ("DenseNet121", 224, "int8"): (34.19, 7232544, 231.0),   # ours now: 34.17 dB, 7222000 bytes (0.999)
    ("InceptionV3", 224, "dynamic"): (35.60, 22008744, 160.0),   # ours now: 35.64 dB, 22003504 bytes (1.000)
    ("InceptionV3", 224, "int8"): (34.95, 22225792, 147.1),   # ours now: 34.92 dB, 22216528 bytes (1.000)
}


def _application(name, size, workdir):
    """The model (random weights, no classifier: the backbone's feature map, as the issue's
    file sizes show it measured), its .keras file, 16 calibration images and 8 test images
    with Keras's outputs."""
    os.environ.setdefault("KERAS_BACKEND", "numpy")
    import keras

    keras.utils.set_random_seed(0)
    model = getattr(keras.applications, name)(weights=None, input_shape=(size, size, 3), include_top=False)
    rng = np.random.default_rng(0)
    calibration = rng.uniform(0, 255, (16, size, size, 3)).astype(np.float32)
    test = rng.uniform(0, 255, (8, size, size, 3)).astype(np.float32)
    want = np.concatenate([keras.ops.convert_to_numpy(model(test[i:i + 1])) for i in range(len(test))])
    path = Path(workdir) / f"{name}_{size}.keras"
    model.save(path)
    np.savez(Path(workdir) / f"{name}_{size}_calibration.npz", calibration=calibration)
    return path, calibration, test, want


def _app_sqnr(content, test, want):
    outs = np.concatenate([run(interpreter(content), [test[i:i + 1]])[0][0] for i in range(len(test))])
    return float(sqnr(want, outs))


def applications(tf_python=None, names=APPLICATIONS, size=APP_SIZE, keep=None) -> int:
    import subprocess
    import tempfile

    head = (f"{'model':17s} {'mode':8s} {'TF SQNR':>8s} {'ours':>7s} {'delta':>7s} {'TF KiB':>8s} {'our KiB':>8s} "
            f"{'size':>6s} {'TF s':>6s} {'our s':>6s}")
    print(head)
    print("-" * len(head))
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            path, calibration, test, want = _application(name, size, tmp)
            for mode in APP_MODES:
                c = tinylite.TFLiteConverter.from_keras_model_file(str(path))
                c.optimizations = [tinylite.Optimize.DEFAULT]
                if mode == "int8":
                    c.representative_dataset = lambda: ([x[None]] for x in calibration)
                t = time.perf_counter()
                ours = c.convert()
                seconds = time.perf_counter() - t
                if keep:
                    Path(keep).mkdir(parents=True, exist_ok=True)
                    (Path(keep) / f"{name}_{size}_{mode}_ours.tflite").write_bytes(ours)
                s_ours = _app_sqnr(ours, test, want)
                tf = TF_APPLICATIONS.get((name, size, mode))
                if tf_python:
                    out = Path(tmp) / f"{name}_{mode}_tf.tflite"
                    r = subprocess.run([tf_python, str(Path(__file__).with_name("tf_convert_keras.py")), str(path),
                                        str(Path(tmp) / f"{name}_{size}_calibration.npz"), str(out), mode],
                                       capture_output=True, text=True,
                                       env=dict(os.environ, KERAS_BACKEND="tensorflow", CUDA_VISIBLE_DEVICES=""))
                    if r.returncode == 0:
                        content = out.read_bytes()
                        if keep:
                            (Path(keep) / f"{name}_{size}_{mode}_tf.tflite").write_bytes(content)
                        tf = (_app_sqnr(content, test, want), len(content), float(r.stdout.split()[-1]))
                    else:
                        print(f"TensorFlow failed on {name} {mode}: {r.stderr.strip()[-300:]}", file=sys.stderr)
                if tf:
                    print(f"{name:17s} {mode:8s} {tf[0]:8.2f} {s_ours:7.2f} {s_ours - tf[0]:+7.2f} {tf[1] / 1024:8.0f} "
                          f"{len(ours) / 1024:8.0f} {len(ours) / tf[1]:6.3f} {tf[2]:6.1f} {seconds:6.1f}", flush=True)
                else:
                    print(f"{name:17s} {mode:8s} {'-':>8s} {s_ours:7.2f} {'-':>7s} {'-':>8s} {len(ours) / 1024:8.0f} "
                          f"{'-':>6s} {'-':>6s} {seconds:6.1f}", flush=True)
    print(f"\nkeras.applications at {size}x{size} without the classifier, random weights (seed 0), 16 calibration "
          "and 8 test images uniform in [0, 255]; SQNR of the output vs Keras (LiteRT builtin kernels); "
          "size: ours / TF.")
    return 0


def main(argv=None) -> int:
    default = Path(os.environ.get("TINYLITE_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus"))
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", type=Path, default=default)
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--variants", default=",".join(VARIANTS))
    p.add_argument("--applications", action="store_true",
                   help="keras.applications rows (random weights) instead of the corpus, with TensorFlow's "
                        "recorded figures beside them")
    p.add_argument("--size", type=int, default=APP_SIZE,
                   help="with --applications: input size (the issue's setup is the applications' default, 224)")
    p.add_argument("--keep", default=None, help="with --applications: a folder to keep the .tflite files in")
    p.add_argument("--tf-python", default=None,
                   help="with --applications: a Python that has TensorFlow (a separate venv), to measure "
                        "TensorFlow's figures now instead of printing the recorded ones")
    args = p.parse_args(argv)
    if args.applications:
        names = APPLICATIONS if args.models == ",".join(MODELS) else args.models.split(",")
        return applications(args.tf_python, names, args.size, args.keep)
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
