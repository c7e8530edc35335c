"""Dev-time only: TensorFlow's own converter on a saved Keras model, for the TensorFlow
columns of benchmarks/quantization.py --applications.  Runs in a separate virtual
environment that has TensorFlow (never tinylite's):

    /work/tfvenv/bin/python benchmarks/tf_convert_keras.py model.keras calibration.npz out.tflite int8

Modes: float, dynamic (Optimize.DEFAULT), int8 (Optimize.DEFAULT with the representative
dataset in calibration.npz["calibration"], float input and output).  Prints the
conversion time in seconds on its last line.
"""
import sys
import time

import numpy as np


def main(argv):
    import keras
    import tensorflow as tf

    path, calibration, out, mode = argv
    model = keras.saving.load_model(path, compile=False)
    samples = np.load(calibration)["calibration"]
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if mode != "float":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "int8":
        converter.representative_dataset = lambda: ([x[None]] for x in samples)
    start = time.perf_counter()
    content = converter.convert()
    seconds = time.perf_counter() - start
    with open(out, "wb") as f:
        f.write(content)
    print(f"{seconds:.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
