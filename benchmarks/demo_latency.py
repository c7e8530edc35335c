"""Invoke latency of the four files `tinylite demo` writes (float, float16, dynamic-range,
int8), in one process each: the issue's "quantized models run no slower than the same
model in float" on the demo's digits CNN.

    tinylite demo                     # writes tinylite_demo/digits_*.tflite
    python benchmarks/demo_latency.py [tinylite_demo]

Prints the median over 7 rounds of 2000 invokes (CPU clock, one thread) and the number of
numpy calls in each file's tape.  Whole processes vary by up to 50% on a shared machine:
run it several times (alternating trees when comparing two) and compare minima.
"""
import sys
import time
from pathlib import Path

import numpy as np

from tinylite.lite import Interpreter


def latency_us(path, rounds=7, invokes=2000):
    ip = Interpreter(model_path=str(path), num_threads=1)
    ip.allocate_tensors()
    d = ip.get_input_details()[0]
    ip.set_tensor(d["index"], np.random.default_rng(0).random(d["shape"]).astype(d["dtype"]))
    for _ in range(200):
        ip.invoke()
    times = []
    for _ in range(rounds):
        t = time.process_time()
        for _ in range(invokes):
            ip.invoke()
        times.append((time.process_time() - t) / invokes * 1e6)
    return sorted(times)[rounds // 2], len(ip._runner(0).tape.calls)


def main():
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "tinylite_demo")
    for mode in ("float", "float16", "dynamic", "int8"):
        path = folder / f"digits_{mode}.tflite"
        if not path.exists():
            sys.exit(f"{path} not found: run `tinylite demo` first (it writes {folder}/digits_*.tflite)")
        us, calls = latency_us(path)
        print(f"{mode:8} {us:7.1f} us per invoke  {calls:3d} calls")


if __name__ == "__main__":
    main()
