"""Concurrency of `tinylite serve`: server-side batching, several worker processes, and version
swaps while requests are in flight."""
from __future__ import annotations

import re
import shutil
import threading
import time

import httpx
import numpy as np
import pytest
from server_support import add_model, fc_model, put, running_server

import tinylite


def interpret(content, **inputs):
    return tinylite.Interpreter(model_content=content).get_signature_runner()(**inputs)


def concurrently(n, fn):
    """Run fn(i) in n threads released together; returns the results in order."""
    results, errors = [None] * n, []
    barrier = threading.Barrier(n)

    def run(i):
        try:
            barrier.wait(10)
            results[i] = fn(i)
        except Exception as e:  # noqa: BLE001 - reported by the caller
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return results


def metric(text, name, **labels):
    sel = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    m = re.search(rf"^{name}\{{{re.escape(sel)}\}} (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


@pytest.fixture(scope="module")
def batch_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("batching")
    put(root, "fc", 1, fc_model())
    put(root, "add", 1, add_model())
    (root / "models.config").write_text(
        f"model_config_list {{ config {{ name: 'fc' base_path: '{root / 'fc'}' }} "
        f"config {{ name: 'add' base_path: '{root / 'add'}' }} }}\n")
    return root


def test_server_side_batching(batch_root):
    rng = np.random.default_rng(3)
    xs = [rng.standard_normal((1 if i % 4 else 3, 5)).astype(np.float32) for i in range(24)]
    with running_server("--model_config_file", batch_root / "models.config", "--enable_batching",
                        "--max_batch_size", "8", "--batch_timeout_micros", "50000", "--pool_size", "2") as s:
        with httpx.Client(timeout=30) as client:
            def call(i):
                return client.post(f"{s.url}/v1/models/fc:predict", json={"instances": xs[i].tolist()})

            responses = concurrently(len(xs), call)
            for x, r in zip(xs, responses):
                assert r.status_code == 200, r.text
                got = np.asarray(r.json()["predictions"], np.float32)
                # A merged batch may round a matmul differently from a lone request, in the last bit.
                np.testing.assert_allclose(got, interpret(fc_model(), x=x)["y"], rtol=1e-6, atol=1e-6)
            text = client.get(f"{s.url}/metrics").text
            batches = metric(text, "tinylite_serving_batch_size_count", model="fc")
            rows = metric(text, "tinylite_serving_batch_size_sum", model="fc")
            assert rows == sum(len(x) for x in xs)
            assert batches < len(xs), f"no request was merged: {batches} batches for {len(xs)} requests"

            # Multi-input rows batch too; larger requests than max_batch_size run on their own; errors
            # still come back per request.
            a, b = rng.standard_normal((2, 6, 3)).astype(np.float32)

            def call_add(i):
                if i == 6:
                    return client.post(f"{s.url}/v1/models/add:predict", json={"instances": [[1, 2]]})
                if i == 7:
                    return client.post(f"{s.url}/v1/models/add:predict",
                                       json={"inputs": {"a": np.tile(a, (2, 1)).tolist(),
                                                        "b": np.tile(b, (2, 1)).tolist()}})
                return client.post(f"{s.url}/v1/models/add:predict",
                                   json={"instances": [{"a": a[i].tolist(), "b": b[i].tolist()}]})

            responses = concurrently(8, call_add)
            for i in range(6):
                np.testing.assert_array_equal(np.asarray(responses[i].json()["predictions"], np.float32),
                                              a[i:i + 1] + b[i:i + 1])
            assert responses[6].status_code == 400 and "plain list" in responses[6].json()["error"]
            np.testing.assert_array_equal(np.asarray(responses[7].json()["outputs"], np.float32),
                                          np.tile(a + b, (2, 1)))


def test_several_worker_processes(batch_root):
    with running_server("--model_config_file", batch_root / "models.config", "--workers", "2",
                        "--pool_size", "1") as s:
        x = np.arange(10, dtype=np.float32).reshape(2, 5)
        want = interpret(fc_model(), x=x)["y"]
        for _ in range(20):   # a new connection each time: the workers share the listening socket
            r = s.post("/v1/models/fc:predict", {"instances": x.tolist()})
            np.testing.assert_array_equal(np.asarray(r.json()["predictions"], np.float32), want)
        # Whichever worker answers the scrape, the counters cover every worker.
        text = s.get("/metrics").text
        assert metric(text, "tinylite_serving_requests_total", api="predict", code="200", model="fc") == 20
        started = set(re.findall(r'"msg": "Started server process \[(\d+)\]"', s.log()))
        assert len(started) == 2, s.log()[-2000:]


def test_version_swaps_under_load_drop_no_request(tmp_path):
    put(tmp_path, "m", 1, fc_model(0.1))
    contents = {1: fc_model(0.1), 2: fc_model(0.2), 3: fc_model(-0.1)}
    x = np.linspace(-1, 1, 10, dtype=np.float32).reshape(2, 5)
    allowed = [np.asarray(interpret(c, x=x)["y"]) for c in contents.values()]
    failures, ok = [], [0]
    with running_server("--model_name", "m", "--model_base_path", tmp_path / "m",
                        "--file_system_poll_wait_seconds", "0.05", "--pool_size", "2") as s:
        stop = threading.Event()

        def client():
            with httpx.Client(timeout=30) as c:
                while not stop.is_set():
                    try:
                        r = c.post(f"{s.url}/v1/models/m:predict", json={"instances": x.tolist()})
                        got = np.asarray(r.json()["predictions"], np.float32) if r.status_code == 200 else None
                        if got is None or not any(np.array_equal(got, a) for a in allowed):
                            failures.append(r.text[:200])
                        else:
                            ok[0] += 1
                    except Exception as e:  # noqa: BLE001 - every failure counts
                        failures.append(repr(e))

        threads = [threading.Thread(target=client) for _ in range(6)]
        for t in threads:
            t.start()
        try:
            for v in (2, 3):
                time.sleep(0.7)
                d = tmp_path / "m" / str(v)
                d.mkdir()
                with open(d / "model.tflite", "wb") as f:   # written slowly, in place
                    f.write(contents[v][:1000])
                    f.flush()
                    time.sleep(0.1)
                    f.write(contents[v][1000:])
                deadline = time.monotonic() + 10
                while s.get("/v1/models/m").json()["model_version_status"][0]["version"] != str(v):
                    assert time.monotonic() < deadline, s.log()[-2000:]
                    time.sleep(0.05)
                shutil.rmtree(tmp_path / "m" / str(v - 1))   # the old version disappears entirely
            time.sleep(0.7)
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        status = s.get("/v1/models/m").json()["model_version_status"]
    assert not failures, failures[:5]
    assert ok[0] > 50
    assert status[0]["version"] == "3" and status[0]["state"] == "AVAILABLE"
