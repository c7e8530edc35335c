"""Bounded load test of `tinylite serve` on 127.0.0.1.

Starts the server as a subprocess on a free loopback port, runs N concurrent
clients (keep-alive HTTP, row-format predict requests) for T seconds, stops
the server and prints requests per second, p50/p99 latency and failed
requests.  Scenarios: without batching, with --enable_batching, and (with
--swap) without batching while new versions are dropped into the model folder
and old ones deleted every --swap-every seconds.

    python benchmarks/serve_load.py [--model m.tflite] [--clients 16] [--seconds 10] [--rows 1] [--swap]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

DEFAULT_CORPUS = Path(os.environ.get("TINYLITE_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def default_model() -> bytes:
    path = DEFAULT_CORPUS / "mlp5" / "tf_float.tflite"
    if path.is_file():
        return path.read_bytes()
    from tinylite.testing import single_op_model

    w = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)
    return single_op_model("FULLY_CONNECTED", [dict(name="x", shape=[1, 5], shape_signature=[-1, 5]),
                                               dict(name="w", data=w), None],
                           [dict(name="y", shape=[1, 3], shape_signature=[-1, 3])])


def write_version(root: Path, version: int, content: bytes) -> None:
    d = root / str(version)
    d.mkdir(parents=True, exist_ok=True)
    # Written in place, in two halves, as a slow copy would: the server must not load it half-written.
    with open(d / "model.tflite", "wb") as f:
        f.write(content[: len(content) // 2])
        f.flush()
        time.sleep(0.05)
        f.write(content[len(content) // 2:])


class Server:
    def __init__(self, root: Path, name: str, extra: list[str], pool_size: int):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "tinylite.cli", "serve", "--model_name", name, "--model_base_path", str(root),
               "--port", str(self.port), "--file_system_poll_wait_seconds", "0.2", "--no_access_log",
               "--log_level", "warning", "--pool_size", str(pool_size), *extra]
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)

    def wait(self, client, timeout=30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                if client.get(self.url + "/healthz").status_code == 200:
                    return
            except Exception:  # noqa: BLE001 - not listening yet
                pass
            time.sleep(0.1)
        self.stop()
        self.log.seek(0)
        raise RuntimeError(f"server did not become healthy:\n{self.log.read().decode(errors='replace')[-3000:]}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def run_load(url: str, body: bytes, clients: int, seconds: float, expect=None):
    import httpx

    latencies: list[list[float]] = [[] for _ in range(clients)]
    failures: list[str] = []
    stop_at = time.monotonic() + seconds
    start = threading.Barrier(clients + 1)

    def worker(i):
        with httpx.Client(timeout=30.0) as client:
            start.wait()
            while time.monotonic() < stop_at:
                t0 = time.perf_counter()
                try:
                    r = client.post(url, content=body, headers={"content-type": "application/json"})
                    ok = r.status_code == 200
                    if ok and expect is not None:
                        ok = expect(r.json())
                    if not ok:
                        failures.append(f"{r.status_code} {r.text[:200]}")
                except Exception as e:  # noqa: BLE001 - every failure is counted
                    failures.append(f"{type(e).__name__}: {e}")
                    continue
                latencies[i].append(time.perf_counter() - t0)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join(seconds + 60)
    elapsed = time.perf_counter() - t0
    lat = np.array([x for per in latencies for x in per])
    return {
        "requests": int(lat.size) + len(failures),
        "failed": len(failures),
        "rps": round(lat.size / elapsed, 1),
        "p50_ms": round(float(np.percentile(lat, 50)) * 1e3, 2) if lat.size else None,
        "p99_ms": round(float(np.percentile(lat, 99)) * 1e3, 2) if lat.size else None,
        "first_failures": failures[:3],
    }


def scenario(name, content, args, extra, swap=False):
    import httpx

    import tinylite

    root = Path(tempfile.mkdtemp(prefix="tinylite-load-"))
    server = None
    try:
        write_version(root, 1, content)
        ip = tinylite.Interpreter(model_content=content)
        ip.allocate_tensors()
        inp, out = ip.get_input_details()[0], ip.get_output_details()[0]
        x = np.random.default_rng(0).standard_normal((args.rows, *inp["shape"][1:])).astype(inp["dtype"])
        ip.resize_tensor_input(inp["index"], x.shape)
        ip.allocate_tensors()
        ip.set_tensor(inp["index"], x)
        ip.invoke()
        want = ip.get_tensor(out["index"])
        body = json.dumps({"instances": x.tolist()}).encode()

        batched = "--enable_batching" in extra

        def expect(doc):
            got = np.asarray(doc["predictions"], want.dtype)
            if batched:
                # A merged batch runs the matmul over more rows (a different BLAS accumulation
                # order), so floats may differ from a one-request invoke in the last bits.
                return got.shape == want.shape and np.allclose(got, want, rtol=1e-5, atol=1e-6)
            return np.array_equal(got, want)

        server = Server(root, "m", extra, args.pool_size)
        with httpx.Client() as c:
            server.wait(c)
        stop = threading.Event()
        swaps = []
        if swap:
            def swapper():
                v = 1
                while not stop.wait(args.swap_every):
                    v += 1
                    write_version(root, v, content)
                    swaps.append(v)
                    if v - 2 >= 1:   # the retired-before-last version goes away entirely
                        shutil.rmtree(root / str(v - 2), ignore_errors=True)
            threading.Thread(target=swapper, daemon=True).start()
        result = run_load(f"{server.url}/v1/models/m:predict", body, args.clients, args.seconds, expect)
        stop.set()
        if swap:
            with httpx.Client() as c:
                status = c.get(f"{server.url}/v1/models/m").json()["model_version_status"]
            served = [s["version"] for s in status if s["state"] == "AVAILABLE"]
            result["versions_dropped"] = len(swaps)
            result["serving_version_at_end"] = served
        result["scenario"] = name
        return result
    finally:
        if server:
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, help=".tflite with one batchable input (default: corpus mlp5/tf_float, "
                    "else a small FULLY_CONNECTED model)")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=10.0, help="per scenario")
    ap.add_argument("--rows", type=int, default=1, help="rows per request")
    ap.add_argument("--pool_size", type=int, default=max(2, os.cpu_count() or 1))
    ap.add_argument("--max_batch_size", type=int, default=32)
    ap.add_argument("--batch_timeout_micros", type=int, default=2000)
    ap.add_argument("--swap", action="store_true", help="also run the version-swap scenario")
    ap.add_argument("--swap-every", type=float, default=1.0, help="seconds between new versions (with --swap)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    content = args.model.read_bytes() if args.model else default_model()
    batching = ["--enable_batching", "--max_batch_size", str(args.max_batch_size),
                "--batch_timeout_micros", str(args.batch_timeout_micros)]
    results = [scenario("no batching", content, args, []), scenario("batching", content, args, batching)]
    if args.swap:
        results.append(scenario("no batching, version swaps", content, args, [], swap=True))
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(f"{args.clients} clients x {args.seconds:g} s, {args.rows} row(s)/request, 127.0.0.1")
        for r in results:
            extra = ""
            if "versions_dropped" in r:
                extra = f"  ({r['versions_dropped']} versions dropped, serving {r['serving_version_at_end']} at end)"
            print(f"  {r['scenario']:<28} {r['rps']:8.1f} req/s  p50 {r['p50_ms']} ms  p99 {r['p99_ms']} ms  "
                  f"{r['requests']} requests, {r['failed']} failed{extra}")
            for f in r["first_failures"]:
                print(f"      failure: {f}")
    return 1 if any(r["failed"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
