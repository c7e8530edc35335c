"""Where tinylite's invoke time goes on zoo files, by kind of numpy work, beside LiteRT-XNNPACK.

    python benchmarks/zoo_profile.py [--zoo DIR] [--rounds N] FILE_SUBSTRING ...

Per file (batch 1, one thread, CPU time of the invoking thread): the median warm invoke of
tinylite and of LiteRT-XNNPACK, taking turns in one process; then every numpy call of
tinylite's plan timed on its own (the minimum over repeats, so with warm caches and no plan
loop around it), summed by kind:

    products  BLAS matrix products (np.dot: convolutions, fully connected layers)
    einsum    einsum sums (the depthwise convolutions' taps)
    lookups   table lookups (np.take: 8-bit ADD/SUB/MUL, activations, softmax)
    casts     np.copyto: inputs to float, convolution windows, floats cast to integer outputs
    passes    the other elementwise ufunc calls (requantization's multiply, add and clamp,
              activations, index arithmetic)
    other     the rest (reductions, a kernel's own Python steps)

`between` is the invoke's median less the sum of those minima: the plan loop's dispatch
(a fraction of a microsecond a call), the caches that go cold from one layer to the next (a
call timed alone finds its inputs and its float32 weights in cache, in sequence they come
from L3 or memory), and on a shared machine the gap between a median and a minimum, which
grows with the neighbours' load: compare files within one run.  `floor` is products + einsum + lookups
over XNNPACK's invoke: the ratio tinylite would reach with every other pass fused into them at
numpy's speed for what remains.  That remainder is the part only compiled kernels could take
further (an integer GEMM with its output stage, a depthwise convolution in one pass over its
input), which is how the README's "what it would take" figures for issue 14 were measured.
"""
import argparse
import os
import statistics
import sys
import time
import timeit
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from zoo import DEFAULT_ZOO, ready, sample_inputs  # noqa: E402

import tinylite  # noqa: E402
from tinylite.interpreter.tape import call_name  # noqa: E402

KINDS = ("products", "einsum", "lookups", "casts", "passes", "other")


def kind_of_call(call) -> str:
    name = call_name(call, "")
    fn = call.func if isinstance(call, partial) else call
    if name in ("dot", "matmul", "vdot") or name.endswith("_dot_filter"):
        return "products"
    if name in ("einsum", "c_einsum"):
        return "einsum"
    if name == "take":
        return "lookups"
    if name == "copyto":
        return "casts"
    if isinstance(fn, np.ufunc):
        return "passes"
    return "other"


def call_minimum(call, number=5, repeat=5) -> float:
    return min(timeit.repeat(call, number=number, repeat=repeat, timer=time.thread_time)) / number


def invoke_medians(ips, rounds):
    """Median CPU seconds of one invoke per interpreter, taking turns in blocks of invokes."""
    times = [[] for _ in ips]
    per_block = 5
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
    sums = dict.fromkeys(KINDS, 0.0)
    calls = 0
    # The main subgraph's plan (a control-flow op's bodies count under "other", as its step).
    for call in ours._runner(0).tape.calls:
        sums[kind_of_call(call)] += call_minimum(call)
        calls += 1
    return {"file": path.stem, "tinylite": t_ours, "xnnpack": t_xnn, "calls": calls, **sums}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("only", nargs="+", help="substrings of the zoo file names to profile")
    ap.add_argument("--zoo", type=Path, default=DEFAULT_ZOO)
    ap.add_argument("--rounds", type=int, default=20, help="blocks of 5 invokes per runtime (default 20)")
    args = ap.parse_args()
    if not args.zoo.is_dir():
        sys.exit(f"zoo folder {args.zoo} not found: pass --zoo or set TINYLITE_CORPUS (../shared/corpus)")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    paths = sorted(p for p in args.zoo.glob("*.tflite") if any(s in p.name for s in args.only))
    if not paths:
        sys.exit(f"no .tflite file in {args.zoo} matches {args.only}")
    print("ms, batch 1, one thread, CPU time; kinds: the sum of each call's minimum timed alone")
    print(f"{'file':44} {'XNN':>6} {'ours':>7} {'/XNN':>5} {'calls':>6} "
          + " ".join(f"{k:>8}" for k in KINDS) + f" {'between':>8} {'floor':>6}")
    for path in paths:
        r = profile(path, args.rounds)
        summed = sum(r[k] for k in KINDS)
        floor = (r["products"] + r["einsum"] + r["lookups"]) / r["xnnpack"]
        print(f"{r['file'][:44]:44} {r['xnnpack'] * 1e3:6.2f} {r['tinylite'] * 1e3:7.2f} "
              f"{r['tinylite'] / r['xnnpack']:5.1f} {r['calls']:6d} "
              + " ".join(f"{r[k] * 1e3:8.2f}" for k in KINDS)
              + f" {(r['tinylite'] - summed) * 1e3:8.2f} {floor:5.1f}x")


if __name__ == "__main__":
    main()
