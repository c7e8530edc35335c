"""`tinylite bench`: latency statistics like TFLite's benchmark_model, an
optional per-op profile, and an optional same-process comparison with
ai-edge-litert."""
from __future__ import annotations

import time
import tracemalloc

import numpy as np


def _inputs(ip, batch, rng):
    feeds = []
    for d in ip.get_input_details():
        shape = list(d["shape"])
        if batch is not None and shape and d["shape_signature"][0] == -1:
            shape[0] = batch
        if tuple(shape) != tuple(d["shape"]):
            ip.resize_tensor_input(d["index"], shape)
        dtype = np.dtype(d["dtype"])
        if dtype.kind == "f":
            x = rng.random(shape, dtype=np.float32).astype(dtype)
        elif dtype.kind in "iu":
            info = np.iinfo(dtype)
            x = rng.integers(max(info.min, -128), min(info.max, 127) + 1, shape).astype(dtype)
        else:
            x = np.zeros(shape, dtype)
        feeds.append((d["index"], x))
    ip.allocate_tensors()
    for i, x in feeds:
        ip.set_tensor(i, x)
    return feeds


def stats(times) -> dict:
    t = np.asarray(times) * 1e3
    return {"count": len(t), "min_ms": float(t.min()), "max_ms": float(t.max()), "avg_ms": float(t.mean()),
            "std_ms": float(t.std()), "p50_ms": float(np.percentile(t, 50)), "p90_ms": float(np.percentile(t, 90)),
            "p99_ms": float(np.percentile(t, 99))}


def benchmark(path, runs=50, warmup=5, batch=None, op_profile=False, compare_litert=False, num_threads=None) -> dict:
    from ..interpreter import Interpreter

    rng = np.random.default_rng(0)
    tracemalloc.start()
    t0 = time.perf_counter()
    ip = Interpreter(model_path=path, num_threads=num_threads)
    feeds = _inputs(ip, batch, rng)
    init = time.perf_counter() - t0
    ip.invoke()
    # Tracing allocations slows every numpy call down: measure memory over load,
    # allocate and one invoke, then time without it.
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    for _ in range(warmup):
        ip.invoke()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        ip.invoke()
        times.append(time.perf_counter() - t)
    n = feeds[0][1].shape[0] if feeds and feeds[0][1].ndim else 1
    result = {"model": str(path), "batch": int(n), "init_ms": init * 1e3, "warmup_runs": warmup,
              "latency": stats(times), "throughput_per_s": n / float(np.median(times)),
              "arena_bytes": ip.arena_bytes, "peak_traced_bytes": int(peak)}
    if op_profile:
        runner = ip._runner(0)
        per_node: dict[int, list] = {}
        for _ in range(max(5, runs // 5)):
            for index, op, dt in runner.invoke_profiled():
                per_node.setdefault(index, [op, 0.0, 0])
                per_node[index][1] += dt
                per_node[index][2] += 1
        rows = [(idx, op, total / count) for idx, (op, total, count) in per_node.items()]
        total = sum(r[2] for r in rows) or 1.0
        result["op_profile"] = [{"node": i, "op": op, "avg_ms": t * 1e3, "percent": 100 * t / total}
                                for i, op, t in sorted(rows, key=lambda r: -r[2])]
        by_type: dict[str, list] = {}
        for i, op, t in rows:
            by_type.setdefault(op, [0.0, 0])
            by_type[op][0] += t
            by_type[op][1] += 1
        result["op_type_summary"] = [{"op": op, "nodes": c, "avg_ms": t * 1e3, "percent": 100 * t / total}
                                     for op, (t, c) in sorted(by_type.items(), key=lambda kv: -kv[1][0])]
        # The same run as the numpy calls the plan makes: how much is BLAS
        # ("dot"), how much moving data ("copyto") or elementwise work.
        repeats = max(5, runs // 5)
        by_call: dict[str, list] = {}
        for _ in range(repeats):
            for _, name, dt in runner.invoke_profiled(per_call=True):
                by_call.setdefault(name, [0.0, 0])
                by_call[name][0] += dt / repeats
                by_call[name][1] += 1
        total = sum(t for t, _ in by_call.values()) or 1.0
        result["call_summary"] = [{"call": name, "calls": c // repeats, "avg_ms": t * 1e3, "percent": 100 * t / total}
                                  for name, (t, c) in sorted(by_call.items(), key=lambda kv: -kv[1][0])]
    if compare_litert:
        try:
            from ai_edge_litert.interpreter import Interpreter as LiteRT
        except ImportError:
            result["litert"] = "ai-edge-litert is not installed (pip install ai-edge-litert)"
        else:
            lt = LiteRT(model_path=str(path), num_threads=num_threads or 1)
            for d, (_, x) in zip(lt.get_input_details(), feeds):
                if tuple(d["shape"]) != x.shape:
                    lt.resize_tensor_input(d["index"], x.shape)
            lt.allocate_tensors()
            for d, (_, x) in zip(lt.get_input_details(), feeds):
                lt.set_tensor(d["index"], x)
            for _ in range(warmup):
                lt.invoke()
            lt_times = []
            for _ in range(runs):
                t = time.perf_counter()
                lt.invoke()
                lt_times.append(time.perf_counter() - t)
            result["litert"] = {"latency": stats(lt_times),
                                "ratio_p50": result["latency"]["p50_ms"] / stats(lt_times)["p50_ms"]}
    return result


def render(r: dict) -> str:
    lat = r["latency"]
    lines = [
        f"Model: {r['model']}  (batch {r['batch']})",
        f"Init (load + allocate_tensors): {r['init_ms']:.2f} ms; warmup runs: {r['warmup_runs']}",
        f"Inference: count={lat['count']} min={lat['min_ms']:.3f} max={lat['max_ms']:.3f} avg={lat['avg_ms']:.3f} "
        f"std={lat['std_ms']:.3f} p50={lat['p50_ms']:.3f} p90={lat['p90_ms']:.3f} p99={lat['p99_ms']:.3f} (ms)",
        f"Throughput: {r['throughput_per_s']:.1f} samples/s",
        f"Memory: activation arena {r['arena_bytes'] / 2**20:.2f} MiB, peak traced allocations "
        f"{r['peak_traced_bytes'] / 2**20:.2f} MiB",
    ]
    if "op_profile" in r:
        lines.append("\nPer-op profile (sorted by time):")
        lines.append(f"  {'node':>4}  {'op':24} {'avg ms':>9} {'%':>6}")
        for p in r["op_profile"]:
            lines.append(f"  {p['node']:>4}  {p['op']:24} {p['avg_ms']:9.4f} {p['percent']:6.1f}")
        lines.append("\nBy op type:")
        lines.append(f"  {'op':24} {'nodes':>5} {'avg ms':>9} {'%':>6}")
        for p in r["op_type_summary"]:
            lines.append(f"  {p['op']:24} {p['nodes']:>5} {p['avg_ms']:9.4f} {p['percent']:6.1f}")
        lines.append("\nBy numpy call (dot: BLAS products; copyto: im2col and padding copies):")
        lines.append(f"  {'call':24} {'calls':>5} {'avg ms':>9} {'%':>6}")
        for p in r["call_summary"]:
            lines.append(f"  {p['call']:24} {p['calls']:>5} {p['avg_ms']:9.4f} {p['percent']:6.1f}")
    if "litert" in r:
        lt = r["litert"]
        if isinstance(lt, str):
            lines.append(f"\nLiteRT: {lt}")
        else:
            lines.append(f"\nLiteRT (same process): p50={lt['latency']['p50_ms']:.3f} ms; "
                         f"tinylite/LiteRT = {lt['ratio_p50']:.2f}x")
    return "\n".join(lines)
