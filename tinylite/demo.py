"""`tinylite demo`: the whole deployment pipeline on an embedded default, with
no network and no TensorFlow.

The package ships a small Keras CNN (`data/digits_cnn.h5`, trained by
`scripts/make_demo_model.py` on scikit-learn's 8x8 digits) and the digits
themselves (`data/digits.npz`).  The demo converts the .h5 file the way the
Keras mnist example's users do, in each optimization mode, evaluates accuracy
and latency of every .tflite on the held-out digits, and writes the models and
an HTML report into the output folder.
"""
from __future__ import annotations

import os
import shutil
import sys
import time
from importlib import resources

import numpy as np

MODES = ("float", "dynamic", "float16", "int8")


def load_digits():
    """(x_train, y_train, x_test, y_test): float32 images in [0, 1] with a channel axis."""
    with resources.files("tinylite").joinpath("data/digits.npz").open("rb") as f:
        d = np.load(f)
        images, labels, train = d["images"], d["labels"], int(d["train"])
    x = (images.astype(np.float32) / 16.0)[..., None]
    return x[:train], labels[:train], x[train:], labels[train:]


def progress(label: str, done: int, total: int, width: int = 30) -> None:
    """A one-line progress bar on stderr (only when it is a terminal, or at the end)."""
    if not sys.stderr.isatty() and done != total:
        return
    filled = int(width * done / max(total, 1))
    end = "\n" if done == total else ""
    sys.stderr.write(f"\r  {label:<28} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}{end}")
    sys.stderr.flush()


def convert(h5_path: str, mode: str, x_train) -> bytes:
    from .converter.api import Optimize, TFLiteConverter

    converter = TFLiteConverter.from_keras_model_file(h5_path)
    if mode != "float":
        converter.optimizations = [Optimize.DEFAULT]
    if mode == "float16":
        converter.target_spec.supported_types = [np.float16]
    if mode == "int8":
        samples = x_train[:100]

        def representative_dataset():
            for k, sample in enumerate(samples):
                progress("calibrating int8", k + 1, len(samples))
                yield [sample[None]]

        converter.representative_dataset = representative_dataset
    return converter.convert()


def evaluate(content: bytes, x, y) -> tuple[float, float]:
    """(accuracy, median batch-1 invoke latency in ms) on the given digits."""
    from .interpreter import Interpreter

    ip = Interpreter(model_content=content)
    ip.allocate_tensors()
    d_in, d_out = ip.get_input_details()[0], ip.get_output_details()[0]
    correct, times = 0, []
    for k in range(len(x)):
        ip.set_tensor(d_in["index"], x[k:k + 1])
        t = time.perf_counter()
        ip.invoke()
        times.append(time.perf_counter() - t)
        correct += int(np.argmax(ip.get_tensor(d_out["index"])) == y[k])
        if (k + 1) % 25 == 0 or k + 1 == len(x):
            progress("evaluating", k + 1, len(x))
    return correct / len(x), float(np.median(times)) * 1e3


def run_demo(output: str) -> int:
    from .flatbuffer import save_model

    t_start = time.perf_counter()
    os.makedirs(output, exist_ok=True)
    x_train, _, x_test, y_test = load_digits()
    h5 = os.path.join(output, "digits_cnn.h5")
    with resources.files("tinylite").joinpath("data/digits_cnn.h5").open("rb") as src, open(h5, "wb") as dst:
        shutil.copyfileobj(src, dst)
    print(f"tinylite demo: Keras digits CNN ({h5}) -> .tflite, evaluated on {len(x_test)} held-out digits\n")
    rows, files = [], {}
    for mode in MODES:
        print(f"[{mode}]")
        t = time.perf_counter()
        content = convert(h5, mode, x_train)
        convert_s = time.perf_counter() - t
        path = os.path.join(output, f"digits_{mode}.tflite")
        save_model(content, path)
        files[mode] = path
        acc, latency = evaluate(content, x_test, y_test)
        rows.append((mode, path, len(content), convert_s, acc, latency))
    print(f"\n{'mode':9} {'file':34} {'size':>9} {'convert':>8} {'accuracy':>9} {'latency':>9}")
    for mode, path, size, convert_s, acc, latency in rows:
        print(f"{mode:9} {os.path.basename(path):34} {size / 1024:7.1f}KB {convert_s:7.2f}s {acc * 100:8.2f}% "
              f"{latency:7.3f}ms")
    from .tools.report import write_report

    data = os.path.join(output, "digits_test.npz")
    np.savez(data, x=x_test, y=y_test)
    # The class names, one per line (what `tinylite run --labels` and `tinylite metadata --labels` read).
    with open(os.path.join(output, "labels.txt"), "w", encoding="utf-8") as f:
        f.write("".join(f"{d}\n" for d in range(10)))
    report = write_report(files["int8"], os.path.join(output, "report.html"), compare=files["float"], data=data)
    print(f"\nreport: {report} (int8 vs float, per-tensor error, latency, accuracy)")
    print(f"done in {time.perf_counter() - t_start:.1f} s; try: tinylite run {files['float']} --input {data} --top-k 1")
    return 0
