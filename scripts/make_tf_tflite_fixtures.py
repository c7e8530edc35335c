"""Make tests/data/tf_converted/*.tflite: TensorFlow's own conversions of the
attention-block and U-Net SavedModels in tests/data/saved_models/ (dev-time only).

Needs TensorFlow, which tinylite never depends on: run it in a separate venv, e.g.

    python -m venv /tmp/tf13 && /tmp/tf13/bin/pip install 'tensorflow==2.21.*'
    /tmp/tf13/bin/python scripts/make_tf_tflite_fixtures.py

Each model is converted the five ways users convert with tf.lite.TFLiteConverter:
float, dynamic-range (Optimize.DEFAULT, no data), float16 weights, int8 with float
I/O (a representative dataset) and int8 with int8 I/O.  TF's attention block
computes shapes with REDUCE_PROD; the U-Net's int8 file has TRANSPOSE_CONV on int8.
"""
from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAVED = ROOT / "tests" / "data" / "saved_models"
OUT = ROOT / "tests" / "data" / "tf_converted"
MODELS = ("attention", "unet")
MODES = ("float", "dynamic", "float16", "int8", "int8_io")


def convert(saved_dir: Path, mode: str) -> bytes:
    conv = tf.lite.TFLiteConverter.from_saved_model(str(saved_dir))
    if mode == "float":
        return conv.convert()
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "float16":
        conv.target_spec.supported_types = [tf.float16]
    elif mode in ("int8", "int8_io"):
        sig = tf.saved_model.load(str(saved_dir)).signatures["serving_default"]
        specs = sig.structured_input_signature[1]
        rng = np.random.default_rng(0)

        def data():
            for _ in range(16):
                yield {k: rng.standard_normal([d or 1 for d in s.shape]).astype(np.float32)
                       for k, s in specs.items()}

        conv.representative_dataset = data
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        if mode == "int8_io":
            conv.inference_input_type = tf.int8
            conv.inference_output_type = tf.int8
    return conv.convert()


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for name in MODELS:
        for mode in MODES:
            content = convert(SAVED / name / "saved_model", mode)
            path = OUT / f"{name}_{mode}.tflite"
            path.write_bytes(content)
            print(f"{path.relative_to(ROOT)}: {len(content)} bytes")


if __name__ == "__main__":
    main()
