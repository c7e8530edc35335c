"""Median invoke latency of tinylite vs LiteRT on the shared corpus float models.

Both run in this process.  LiteRT runs its default XNNPack delegate with
--threads threads (1 by default); tinylite runs with
num_threads=--tinylite-threads (default: --threads), which sets numpy's BLAS
threads and, above one thread, splits heavy batch steps across threads.
Prints a table with ratios (tinylite / LiteRT: < 1 means tinylite is faster)
and tinylite's peak memory (planned activation arena, and the traced peak of
Python allocations during load + allocate + invoke, kernel modules already
imported).

After the corpus rows come two sequence models built here with Keras (numpy
backend) and converted by tinylite: an LSTM classifier (the fused
UNIDIRECTIONAL_SEQUENCE_LSTM) and a transformer encoder block (MultiHeadAttention,
LayerNormalization, GELU feed-forward); --no-sequence skips them.

    python benchmarks/latency.py [--corpus ../shared/corpus] [--repeat 50] [--threads 1]
        [--tinylite-threads N] [--no-sequence] [--clock wall|cpu]
"""
import argparse
import os
import time
import tracemalloc
from pathlib import Path

import numpy as np

import tinylite

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def ready(ip, x):
    """The interpreter, allocated for x's shape, with x set and three warm-up invokes."""
    d = ip.get_input_details()[0]
    if tuple(d["shape"]) != x.shape:
        ip.resize_tensor_input(d["index"], x.shape)
    ip.allocate_tensors()
    ip.set_tensor(d["index"], x)
    for _ in range(3):
        ip.invoke()
    return ip


def median_latencies(interpreters, repeat, rounds=10, clock=time.perf_counter):
    """Median invoke time of each (ready) interpreter.  They take turns in
    `rounds` blocks of invokes, so a slow spell of this machine slows all of
    them alike (timed one whole run after the other, ratios moved by 10%);
    each block starts with an untimed invoke, so each is timed on warm caches
    as an application running one model sees it (invokes alternating one by
    one evict each other's weights and buffers).  `clock`: wall time by
    default; time.thread_time counts only this thread's CPU time (both runtimes
    compute in the calling thread at one thread), steadier on a shared machine."""
    times = [[] for _ in interpreters]
    per_round = max(1, -(-repeat // rounds))
    for _ in range(rounds):
        for ip, ts in zip(interpreters, times):
            ip.invoke()
            for _ in range(per_round):
                t = clock()
                ip.invoke()
                ts.append(clock() - t)
    return [float(np.median(ts)) for ts in times]


def traced_peak(make_tinylite, x):
    """(interpreter, peak traced bytes) over load, allocate and one invoke.
    Tracing slows every allocation down: timing runs untraced.  A first,
    untraced load imports the kernel modules the model needs, so the peak is
    the model's in every row, not that plus the one-time import of those
    modules in whichever row comes first (compiled from source where no
    bytecode cache is written, PYTHONDONTWRITEBYTECODE=1, those imports add
    1-2 MiB of transient allocations)."""
    ready(make_tinylite(), x)
    tracemalloc.start()
    ip = make_tinylite()
    ready(ip, x)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return ip, peak


def extra_models(corpus):
    """Optional models of the other issues (sequence models) when present."""
    return []


def sequence_models():
    """[(name, .tflite bytes, input sample)] for an LSTM and a transformer block, built with
    Keras on its numpy backend and converted by tinylite (float), or [] without Keras."""
    os.environ.setdefault("KERAS_BACKEND", "numpy")
    try:
        import keras
    except ImportError:
        print("(sequence models skipped: keras is not installed)")
        return []
    from keras import layers

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    lstm = keras.Sequential([keras.Input((20, 32)), layers.LSTM(64, return_sequences=True), layers.LSTM(64),
                             layers.Dense(10)])
    x = keras.Input((16, 64))
    a = layers.MultiHeadAttention(num_heads=4, key_dim=16)(x, x)
    h = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([x, a]))
    f = layers.Dense(64, activation="gelu")(layers.Dense(128, activation="gelu")(h))
    h = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([h, f]))
    transformer = keras.Model(x, layers.Dense(10)(layers.GlobalAveragePooling1D()(h)))
    out = []
    for name, model in (("lstm", lstm), ("transformer", transformer)):
        content = tinylite.TFLiteConverter.from_keras_model(model).convert()
        sample = rng.standard_normal((1,) + tuple(model.inputs[0].shape[1:])).astype(np.float32)
        out.append((name, content, sample))
    return out


def measure(make_litert, make_tinylite, x_all, repeat, clock=time.perf_counter):
    """(batch, tinylite ms, LiteRT ms, ratio, arena MiB, peak MiB) rows at batch 1 and 32."""
    rows = []
    for batch in (1, 32):
        x = np.ascontiguousarray(np.resize(x_all, (batch,) + x_all.shape[1:]).astype(x_all.dtype))
        ours_ip, peak = traced_peak(make_tinylite, x)
        ours, theirs = median_latencies([ours_ip, ready(make_litert(), x)], repeat, clock=clock)
        rows.append((batch, ours * 1e3, theirs * 1e3, ours / theirs, ours_ip.arena_bytes / 2**20, peak / 2**20))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=os.environ.get("TINYLITE_CORPUS", DEFAULT_CORPUS), type=Path)
    ap.add_argument("--repeat", type=int, default=50)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--tinylite-threads", type=int, default=None,
                    help="num_threads for tinylite (default: --threads); LiteRT keeps --threads")
    ap.add_argument("--variant", default="float")
    ap.add_argument("--no-sequence", action="store_true", help="skip the Keras LSTM and transformer models")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="cpu: the invoking thread's CPU time (both runtimes compute in it at one thread), "
                         "steadier than wall time on a busy machine")
    args = ap.parse_args()
    ours_threads = args.tinylite_threads or args.threads
    clock = time.thread_time if args.clock == "cpu" else time.perf_counter
    from ai_edge_litert.interpreter import Interpreter as LiteRT

    rows = []
    for folder in sorted(p for p in args.corpus.iterdir() if p.is_dir()):
        path = folder / f"tf_{args.variant}.tflite"
        if not path.exists():
            continue
        x_all = np.load(folder / "io.npz")["input0"]
        for r in measure(lambda: LiteRT(model_path=str(path), num_threads=args.threads),
                         lambda: tinylite.Interpreter(model_path=str(path), num_threads=ours_threads),
                         x_all, args.repeat, clock):
            rows.append((folder.name,) + r)
    if not args.no_sequence:
        for name, content, sample in sequence_models():
            for r in measure(lambda: LiteRT(model_content=content, num_threads=args.threads),
                             lambda: tinylite.Interpreter(model_content=content, num_threads=ours_threads),
                             sample, args.repeat, clock):
                rows.append((name,) + r)
    print(f"{'model':12} {'batch':>5} {'tinylite ms':>12} {'LiteRT ms':>10} {'ratio':>7} "
          f"{'arena MiB':>10} {'peak MiB':>9}")
    for r in rows:
        print(f"{r[0]:12} {r[1]:5d} {r[2]:12.3f} {r[3]:10.3f} {r[4]:7.2f} {r[5]:10.2f} {r[6]:9.2f}")
    print(f"ratio = tinylite / LiteRT median invoke latency ({args.clock} clock; same process; LiteRT num_threads="
          f"{args.threads}, tinylite num_threads={ours_threads}); "
          "peak = traced Python allocations during load + allocate + invoke")


if __name__ == "__main__":
    main()
