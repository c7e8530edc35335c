"""tinylite invoke time of each quantized variant of a corpus model against the same model in float.

The corpus holds, per model, the files TensorFlow's converter made from one
Keras model in every mode (tf_float, tf_float16, tf_dynamic, tf_int8,
tf_int8io, tf_int16x8).  This prints, per model and batch size, tinylite's
invoke time for each variant that exists, the number of bound calls of its
tape, and the ratio to the float file (issue #14: a quantized model should
run no slower than the same model in float).  LiteRT is not run: the ratio is
between tinylite's own modes.

Times are the median of 5 rounds of back-to-back invokes on the process CPU
clock (--clock cpu, the default: steadier than wall time on a shared
machine), after warm-up invokes.  Inputs are random, float in [0, 1) or
integers in [-100, 100).

    python benchmarks/quant_vs_float.py [MODEL ...] [--corpus DIR] [--batch 1 32] [--clock cpu|wall]
        [--variants float int8 ...]
"""
import argparse
import os
import time
from pathlib import Path

import numpy as np

from tinylite.lite import Interpreter

DEFAULT_CORPUS = Path(os.environ.get("TINYLITE_CORPUS") or Path(__file__).resolve().parents[2] / "shared" / "corpus")
MODELS = ("fashion_cnn", "mnist_cnn", "rnet", "mlp5")
VARIANTS = ("float", "float16", "dynamic", "int8", "int8io", "int16x8")
CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}


def ready(path, batch):
    """An allocated interpreter for `path` at `batch`, inputs set (seeded), warmed up."""
    ip = Interpreter(model_path=str(path), num_threads=1)
    if batch != 1:
        for d in ip.get_input_details():
            ip.resize_tensor_input(d["index"], [batch] + list(d["shape"][1:]))
    ip.allocate_tensors()
    rng = np.random.default_rng(0)
    for d in ip.get_input_details():
        if np.issubdtype(d["dtype"], np.floating):
            x = rng.random(d["shape"]).astype(d["dtype"])
        else:
            x = rng.integers(-100, 100, d["shape"]).astype(d["dtype"])
        ip.set_tensor(d["index"], x)
    for _ in range(20):
        ip.invoke()
    return ip


def invoke_ms(ip, clock, budget=0.2, rounds=5):
    """Median over `rounds` of the mean invoke time (ms) of a block lasting about `budget` s."""
    t = clock()
    ip.invoke()
    n = max(5, int(budget / max(clock() - t, 1e-6)))
    means = []
    for _ in range(rounds):
        t = clock()
        for _ in range(n):
            ip.invoke()
        means.append((clock() - t) / n * 1e3)
    return float(np.median(means))


def tape_calls(ip):
    runner = ip._runner(0)
    return len(runner.tape.calls) if getattr(runner, "tape", None) is not None else None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("models", nargs="*", default=list(MODELS))
    ap.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    ap.add_argument("--batch", type=int, nargs="+", default=[1, 32])
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    ap.add_argument("--clock", choices=sorted(CLOCKS), default="cpu")
    args = ap.parse_args(argv)
    clock = CLOCKS[args.clock]
    corpus = Path(args.corpus)
    if not corpus.is_dir():
        ap.error(f"no corpus at {corpus}: pass --corpus DIR or set TINYLITE_CORPUS")
    print(f"tinylite invoke ms (calls in the tape) and ratio to float; clock {args.clock}, one thread")
    for model in args.models:
        for batch in args.batch:
            cells, base = [], None
            for variant in args.variants:
                path = corpus / model / f"tf_{variant}.tflite"
                if not path.exists():
                    continue
                ip = ready(path, batch)
                ms = invoke_ms(ip, clock)
                if variant == "float":
                    base = ms
                ratio = f" {ms / base:.2f}x" if base and variant != "float" else ""
                calls = tape_calls(ip)
                cells.append(f"{variant} {ms:.3f}{'' if calls is None else f'/{calls}'}{ratio}")
            print(f"{model:12s} b{batch:<3d} " + " | ".join(cells), flush=True)


if __name__ == "__main__":
    main()
