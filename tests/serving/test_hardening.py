"""`tinylite serve` under abuse: a model that never finishes, bodies that are too large
or never complete, long names, wrong methods, requests the schema must refuse, and
real values an int8 input cannot represent."""
from __future__ import annotations

import json
import signal
import socket
import threading
import time

import httpx
import jsonschema_rs  # schemathesis's validator (test extra)
import pytest
from server_support import add_int8_model, fc_model, put, running_server, stuck_model

TIMEOUT = 2.0      # --request_timeout_seconds of the stuck-model server


@pytest.fixture(scope="module")
def stuck_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("stuck")
    put(root, "stuck", 1, stuck_model())
    put(root, "fc", 1, fc_model())
    put(root, "addq", 1, add_int8_model())
    (root / "models.config").write_text(
        "model_config_list { " + " ".join(f"config {{ name: '{n}' base_path: '{root / n}' }}"
                                          for n in ("stuck", "fc", "addq")) + " }\n")
    return root


def _post(url, body, timeout=60):
    return httpx.post(url, json=body, timeout=timeout)


def test_stuck_model_starves_no_other_and_sigterm_stops_the_server(stuck_root):
    with running_server("--model_config_file", stuck_root / "models.config", "--pool_size", "2",
                        "--request_timeout_seconds", TIMEOUT, "--file_system_poll_wait_seconds", "0") as s:
        stuck_url = s.url + "/v1/models/stuck:predict"
        results = {}

        def call(k):
            t0 = time.monotonic()
            r = _post(stuck_url, {"instances": [[1, 2, 3]]})
            results[k] = (r, time.monotonic() - t0)

        # Occupy both of the stuck model's interpreters.
        threads = [threading.Thread(target=call, args=(k,)) for k in range(2)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        # Meanwhile the other model answers at once, many times.
        worst = 0.0
        for _ in range(20):
            t0 = time.monotonic()
            r = s.post("/v1/models/fc:predict", {"instances": [[1, 2, 3, 4, 5]]})
            worst = max(worst, time.monotonic() - t0)
            assert r.status_code == 200, r.text
        assert worst < TIMEOUT, f"the fc model waited {worst:.2f} s behind the stuck one"
        for t in threads:
            t.join(30)
        for r, seconds in results.values():
            assert r.status_code == 504, r.text
            assert "did not answer within 2 s" in r.json()["error"]
            assert seconds < TIMEOUT + 5
        # Every interpreter of the stuck model is busy for good: 503 at once, and /healthz says so.
        t0 = time.monotonic()
        r = _post(stuck_url, {"instances": [[1, 2, 3]]})
        assert r.status_code == 503 and "not answering" in r.json()["error"], r.text
        assert time.monotonic() - t0 < TIMEOUT
        h = s.get("/healthz")
        assert h.status_code == 503 and "stuck" in h.json(), h.text
        assert len(h.json()["stuck"]["stuck"]) == 2
        assert s.post("/v1/models/fc:predict", {"instances": [[1, 2, 3, 4, 5]]}).status_code == 200
        # SIGTERM: the server leaves within its grace period (10 s) although two threads never end.
        t0 = time.monotonic()
        s.proc.send_signal(signal.SIGTERM)
        s.proc.wait(20)
        assert time.monotonic() - t0 < 15
        # uvicorn re-raises the SIGTERM once it has shut down, so the status is the signal's.
        assert s.proc.returncode in (0, -signal.SIGTERM), s.log()[-3000:]
        assert "Application shutdown complete" in s.log()


@pytest.fixture(scope="module")
def small_server(stuck_root):
    with running_server("--model_config_file", stuck_root / "models.config", "--pool_size", "2",
                        "--max_request_batch", "64", "--body_timeout_seconds", "1",
                        "--file_system_poll_wait_seconds", "0") as s:
        yield s


def _raw(server, request: bytes, read_timeout=15) -> tuple[int, dict, bytes]:
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=read_timeout) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        headers = {k.lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:])}
        want = int(headers.get("content-length", 0))
        while len(body) < want:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
        return int(lines[0].split()[1]), headers, body


def test_large_body_is_refused_from_its_content_length(small_server):
    """50 MB announced for a model whose 64 rows need ~24 KB: 413 before a byte of it is read."""
    t0 = time.monotonic()
    status, _, body = _raw(small_server, b"POST /v1/models/fc:predict HTTP/1.1\r\nHost: x\r\n"
                                         b"Content-Type: application/json\r\nContent-Length: 50000000\r\n\r\n{")
    assert status == 413, body
    assert "max_request_batch=64 rows" in json.loads(body)["error"]
    assert time.monotonic() - t0 < 5


def test_body_shorter_than_its_content_length_times_out(small_server):
    t0 = time.monotonic()
    status, _, body = _raw(small_server, b"POST /v1/models/fc:predict HTTP/1.1\r\nHost: x\r\n"
                                         b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"inst")
    assert status == 408, body
    assert "6 bytes of the 100 its Content-Length declares" in json.loads(body)["error"]
    assert time.monotonic() - t0 < 10


def test_long_model_name_is_not_echoed_in_full(small_server):
    for n in (10_000, 100_000):
        name = "m" * n
        body = json.dumps({"instances": [[1] * 5]}).encode()
        for request in (f"POST /v1/models/{name}:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        f"Content-Length: {len(body)}\r\n\r\n".encode() + body,
                        f"GET /v1/models/{name} HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
                        f"GET /v1/{name} HTTP/1.1\r\nHost: x\r\n\r\n".encode()):
            status, _, reply = _raw(small_server, request)
            assert 400 <= status < 500, reply[:300]
            assert len(reply) < 1000, (n, status, len(reply))


def test_405_carries_allow(small_server):
    r = httpx.post(small_server.url + "/healthz", timeout=30)
    assert r.status_code == 405 and r.headers.get("allow") == "GET", (r.headers, r.text)
    assert "error" in r.json()
    r = httpx.delete(small_server.url + "/v1/models/fc", timeout=30)
    assert r.status_code == 405 and "GET" in r.headers.get("allow", ""), r.headers


def test_request_schema_refuses_what_the_server_refuses(small_server):
    doc = small_server.get("/openapi.json").json()
    schema = doc["paths"]["/v1/models/{model_name}:predict"]["post"]["requestBody"]["content"][
        "application/json"]["schema"]
    good = [{"instances": [[1, 2, 3, 4, 5]]}, {"inputs": [[1, 2, 3, 4, 5]], "signature_name": "serving_default"}]
    bad = [{}, {"signature_name": "serving_default"}, {"instances": [[1] * 5], "inputs": [[1] * 5]}]
    for body in good:
        assert jsonschema_rs.is_valid(schema, body), body
        assert small_server.post("/v1/models/fc:predict", body).status_code == 200
    for body in bad:
        assert not jsonschema_rs.is_valid(schema, body), body
        assert small_server.post("/v1/models/fc:predict", body).status_code == 400


@pytest.mark.parametrize("value", [300, 1e30, -7.0])
def test_int8_input_out_of_range_is_rejected(small_server, value):
    """a's scale 0.05 and zero point 3 represent [-6.55, 6.2]: values outside are refused, not clipped."""
    r = small_server.post("/v1/models/addq:predict", {"inputs": {"a": [[1, 2, value]], "b": [[1, 2, 3]]}})
    assert r.status_code == 400, r.text
    msg = r.json()["error"]
    assert "input 'a'" in msg and "[-6.55, 6.2]" in msg and "not clipped" in msg, msg
    ok = small_server.post("/v1/models/addq:predict", {"inputs": {"a": [[1, 2, 6.2]], "b": [[1, 2, 3]]}})
    assert ok.status_code == 200, ok.text
