"""keras.applications architectures (random weights, small inputs) converted by tinylite in each
quantization mode, then run in LiteRT and in tinylite side by side under both op resolvers:

    python benchmarks/applications_quantized.py [--models MobileNetV2,EfficientNetB0] [--modes int8,int16x8]

Random weights make activations shrink layer by layer until calibrated ranges collapse (scales
of 1e-10 and below), which is where converters write files the runtimes refuse or disagree on:
this sweep found a fused RELU6 whose bound leaves int32 (LiteRT refuses it), an int8 SOFTMAX
LiteRT's reference kernel aborts on, an int64 bias whose sign flipped, and dynamic-range drift
from a float sigmoid before hybrid ops.  Per model and mode it prints the file size, the
conversion time and, per resolver, `exact` (integer and float outputs bit-identical), the
largest difference relative to LiteRT's largest output, or the error; integer-only modes may
fail to convert, naming the layer whose quantized form cannot run.
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("KERAS_BACKEND", "numpy")

import numpy as np  # noqa: E402

# (name, input size, constructor options): every family keras.applications has, at sizes that
# convert in seconds.
APPS = [("MobileNet", 96, dict(alpha=0.25)), ("MobileNetV2", 96, dict(alpha=0.35)), ("MobileNetV3Small", 96, {}),
        ("MobileNetV3Large", 96, dict(minimalistic=True)), ("EfficientNetB0", 96, {}), ("EfficientNetV2B0", 96, {}),
        ("DenseNet121", 64, {}), ("NASNetMobile", 96, {}), ("ResNet50", 64, {}), ("ResNet50V2", 64, {}),
        ("InceptionV3", 96, {}), ("Xception", 96, {}), ("VGG16", 64, {}), ("ConvNeXtTiny", 64, {})]
MODES = ("int8", "int16x8", "int8io", "dynamic", "float16")       # tinylite.testing.configure_quantization


def compare(content, x, resolver) -> str:
    import tinylite
    from ai_edge_litert.interpreter import Interpreter as LiteRT, OpResolverType

    theirs = LiteRT(model_content=content, experimental_op_resolver_type=(
        OpResolverType.BUILTIN_REF if resolver == "ref" else OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES))
    ours = tinylite.Interpreter(model_content=content, experimental_op_resolver_type=(
        tinylite.OpResolverType.BUILTIN_REF if resolver == "ref" else tinylite.OpResolverType.BUILTIN))
    outs = []
    for ip in (theirs, ours):
        ip.allocate_tensors()
        d = ip.get_input_details()[0]
        xi = x
        if d["dtype"] != np.float32:
            scale, zp = d["quantization"]
            xi = np.clip(np.round(x / scale + zp), -128, 127).astype(d["dtype"])
        ip.set_tensor(d["index"], xi)
        ip.invoke()
        outs.append(np.array(ip.get_tensor(ip.get_output_details()[0]["index"])))
    want, got = outs
    if np.array_equal(want, got):
        return "exact"
    return f"{np.abs(want.astype(np.float64) - got).max() / max(float(np.abs(want).max()), 1e-30):.2g}"


def main(argv=None) -> int:
    import keras
    import tinylite
    from tinylite.testing import configure_quantization

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default=None, help="comma-separated names (default: all)")
    p.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, of {', '.join(MODES)}")
    args = p.parse_args(argv)
    wanted = set(args.models.split(",")) if args.models else None
    print(f"{'model':18} {'mode':8} {'MB':>6} {'convert s':>9}  per resolver: LiteRT vs tinylite")
    for name, size, options in APPS:
        if wanted and name not in wanted:
            continue
        keras.utils.set_random_seed(0)
        model = getattr(keras.applications, name)(input_shape=(size, size, 3), weights=None, classes=10, **options)
        rng = np.random.default_rng(0)
        calibration = [rng.random((1, size, size, 3), dtype=np.float32) * 255 for _ in range(8)]
        x = rng.random((1, size, size, 3), dtype=np.float32) * 255
        for mode in args.modes.split(","):
            converter = tinylite.TFLiteConverter.from_keras_model(model)
            configure_quantization(converter, mode, lambda: ([a] for a in calibration))
            start = time.process_time()
            try:
                content = converter.convert()
            except tinylite.errors.ConverterError as e:
                print(f"{name:18} {mode:8} conversion refused: {str(e)[:160]}")
                continue
            seconds = time.process_time() - start
            results = []
            for resolver in ("builtin", "ref"):
                try:
                    results.append(f"{resolver} {compare(content, x, resolver)}")
                except Exception as e:  # noqa: BLE001 - a runtime's refusal is a result here
                    results.append(f"{resolver} error {type(e).__name__}: {str(e)[:100]}")
            print(f"{name:18} {mode:8} {len(content) / 1e6:6.2f} {seconds:9.1f}  " + "  ".join(results), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
