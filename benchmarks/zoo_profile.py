"""Where tinylite's invoke time goes on zoo files, by kind of numpy work, beside LiteRT-XNNPACK.

    python benchmarks/zoo_profile.py [--zoo DIR] [--rounds N] FILE_SUBSTRING ...

Per file (batch 1, one thread, CPU time of the invoking thread): the median warm invoke of
tinylite and of LiteRT-XNNPACK, taking turns in one process; then tinylite's invoke again with
each numpy call of its plan timed where it runs, in sequence (so with the caches the layers
before it left), the median over rounds summed by kind:

    products  BLAS matrix products (np.dot: convolutions, fully connected layers)
    einsum    einsum sums (the depthwise convolutions' taps)
    lookups   table lookups (np.take: 8-bit ADD/SUB/MUL, activations, softmax)
    casts     np.copyto: inputs to float, convolution windows, floats cast to integer outputs
    passes    the other elementwise ufunc calls (requantization's multiply, add and clamp,
              activations, index arithmetic)
    other     the rest (reductions, a kernel's own Python steps)

`rest` is the invoke's median less the calls' sum: the plan loop's dispatch and noise, less
what timing every call adds to the calls (two clock reads each, so it is often negative: the
kinds are upper bounds by about a microsecond a call).  `floor` is products + einsum + lookups over XNNPACK's invoke: the ratio
tinylite would reach if every cast and pass were fused into them at no cost, keeping numpy's
speed for what remains; the work past it is what only compiled kernels could fuse (an
integer GEMM with its output stage, a depthwise convolution reading its int8 input and
writing its int8 output in one pass).  On a shared machine every figure moves with the
neighbours' load: compare files within one run.
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from zoo import DEFAULT_ZOO, ready, sample_inputs  # noqa: E402

import tinylite  # noqa: E402

KINDS = ("products", "einsum", "lookups", "casts", "passes", "other")


def kind_of(call_name: str) -> str:
    """The kind of a call named by tape.call_name ("dot", "CONV_2D _dot_filter", "copyto", ...)."""
    name = call_name.rsplit(" ", 1)[-1]
    if name in ("dot", "matmul", "_dot_filter"):
        return "products"
    if name.endswith("einsum"):
        return "einsum"
    if name == "take":
        return "lookups"
    if name == "copyto":
        return "casts"
    if isinstance(getattr(np, name, None), np.ufunc) or name == "clip":      # np.clip wraps the clip ufunc
        return "passes"
    return "other"


def invoke_medians(ips, rounds, per_block=5):
    """Median CPU seconds of one invoke per interpreter, taking turns in blocks of invokes."""
    times = [[] for _ in ips]
    for _ in range(rounds):
        for i, ip in enumerate(ips):
            t = time.thread_time()
            for _ in range(per_block):
                ip.invoke()
            times[i].append((time.thread_time() - t) / per_block)
    return [statistics.median(t) for t in times]


def profile(path, rounds):
    from ai_edge_litert.interpreter import Interpreter as LiteRT

    content = path.read_bytes()
    ours = tinylite.Interpreter(model_content=content, num_threads=1)
    xs = sample_inputs(ours.get_input_details(), np.random.default_rng(0), 1)
    ready(ours, xs)
    theirs = ready(LiteRT(model_content=content, num_threads=1), xs)
    t_ours, t_xnn = invoke_medians([ours, theirs], rounds)
    runner = ours._runner(0)
    runs = [runner.invoke_profiled(per_call=True, clock=time.thread_time) for _ in range(rounds)]
    sums = dict.fromkeys(KINDS, 0.0)
    for j, (_, name, _) in enumerate(runs[0]):
        sums[kind_of(name)] += statistics.median(run[j][2] for run in runs)
    return {"file": path.stem, "tinylite": t_ours, "xnnpack": t_xnn, "calls": len(runs[0]), **sums}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("only", nargs="+", help="substrings of the zoo file names to profile")
    ap.add_argument("--zoo", type=Path, default=DEFAULT_ZOO)
    ap.add_argument("--rounds", type=int, default=15, help="blocks of 5 invokes per runtime, and profiled invokes")
    args = ap.parse_args()
    if not args.zoo.is_dir():
        sys.exit(f"zoo folder {args.zoo} not found: pass --zoo or set TINYLITE_CORPUS (../shared/corpus)")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    paths = sorted(p for p in args.zoo.glob("*.tflite") if any(s in p.name for s in args.only))
    if not paths:
        sys.exit(f"no .tflite file in {args.zoo} matches {args.only}")
    print("ms, batch 1, one thread, CPU time; kinds: each call timed in sequence, median over rounds")
    print(f"{'file':44} {'XNN':>6} {'ours':>7} {'/XNN':>5} {'calls':>6} "
          + " ".join(f"{k:>8}" for k in KINDS) + f" {'rest':>6} {'floor':>6}")
    for path in paths:
        r = profile(path, args.rounds)
        summed = sum(r[k] for k in KINDS)
        floor = (r["products"] + r["einsum"] + r["lookups"]) / r["xnnpack"]
        print(f"{r['file'][:44]:44} {r['xnnpack'] * 1e3:6.2f} {r['tinylite'] * 1e3:7.2f} "
              f"{r['tinylite'] / r['xnnpack']:5.1f} {r['calls']:6d} "
              + " ".join(f"{r[k] * 1e3:8.2f}" for k in KINDS)
              + f" {(r['tinylite'] - summed) * 1e3:6.2f} {floor:5.1f}x")


if __name__ == "__main__":
    main()
