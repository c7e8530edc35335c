"""Median invoke latency of tinylite vs LiteRT on the shared corpus float models.

Both run in this process, one thread each (LiteRT: default XNNPack delegate,
num_threads=1; tinylite: BLAS limited to one thread before numpy loads).
Prints a table with ratios (tinylite / LiteRT: < 1 means tinylite is faster)
and tinylite's peak memory (planned activation arena, and the traced peak of
Python allocations during allocate + invoke).

    python benchmarks/latency.py [--corpus ../shared/corpus] [--repeat 50] [--threads 1]
"""
import argparse
import os
import sys

def _threads_from_argv():
    for i, a in enumerate(sys.argv):
        if a == "--threads" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if a.startswith("--threads="):
            return a.split("=", 1)[1]
    return "1"


# BLAS reads these when numpy is first imported.
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, _threads_from_argv())

import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import tinylite  # noqa: E402

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def median_latency(ip, x, repeat):
    d = ip.get_input_details()[0]
    if tuple(d["shape"]) != x.shape:
        ip.resize_tensor_input(d["index"], x.shape)
    ip.allocate_tensors()
    ip.set_tensor(d["index"], x)
    for _ in range(3):
        ip.invoke()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        ip.invoke()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def extra_models(corpus):
    """Optional models of the other issues (sequence models) when present."""
    return []


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=os.environ.get("TINYLITE_CORPUS", DEFAULT_CORPUS), type=Path)
    ap.add_argument("--repeat", type=int, default=50)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--variant", default="float")
    args = ap.parse_args()
    from ai_edge_litert.interpreter import Interpreter as LiteRT

    rows = []
    for folder in sorted(p for p in args.corpus.iterdir() if p.is_dir()):
        path = folder / f"tf_{args.variant}.tflite"
        if not path.exists():
            continue
        io = np.load(folder / "io.npz")
        x_all = io["input0"]
        for batch in (1, 32):
            x = np.ascontiguousarray(np.resize(x_all, (batch,) + x_all.shape[1:]).astype(x_all.dtype))
            theirs = median_latency(LiteRT(model_path=str(path), num_threads=args.threads), x, args.repeat)
            # Memory is traced in a run of its own: tracing slows every allocation down.
            tracemalloc.start()
            ours_ip = tinylite.Interpreter(model_path=str(path), num_threads=args.threads)
            median_latency(ours_ip, x, 1)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            ours = median_latency(ours_ip, x, args.repeat)
            rows.append((folder.name, batch, ours * 1e3, theirs * 1e3, ours / theirs,
                         ours_ip.arena_bytes / 2**20, peak / 2**20))
    print(f"{'model':12} {'batch':>5} {'tinylite ms':>12} {'LiteRT ms':>10} {'ratio':>7} "
          f"{'arena MiB':>10} {'peak MiB':>9}")
    for r in rows:
        print(f"{r[0]:12} {r[1]:5d} {r[2]:12.3f} {r[3]:10.3f} {r[4]:7.2f} {r[5]:10.2f} {r[6]:9.2f}")
    print("ratio = tinylite / LiteRT median invoke latency (same process, "
          f"{args.threads} thread{'s' if args.threads > 1 else ''}); peak = traced Python allocations "
          "during load + allocate + invoke")


if __name__ == "__main__":
    main()
