"""TF Serving REST API of `tinylite serve`: predictions against the interpreter, documents, errors."""
from __future__ import annotations

import base64
import json
import subprocess
import sys
import time

import numpy as np
import pytest
from server_support import CORPUS_MODELS, add_int8_model, add_model, fc_model, fixed_batch_model, put, unpack_model

import tinylite

rng = np.random.default_rng(7)


def interpret(content: bytes, **inputs) -> dict:
    """The reference: tinylite's Interpreter on the same inputs (signature runner)."""
    ip = tinylite.Interpreter(model_content=content)
    return ip.get_signature_runner()(**inputs)


def f32(doc):
    return np.asarray(doc, np.float32)


# -- predictions equal the interpreter's ------------------------------------------------------------

def test_float_single_input_row_and_columnar(server):
    x = rng.standard_normal((7, 5)).astype(np.float32)
    want = interpret(fc_model(), x=x)["y"]
    r = server.post("/v1/models/fc:predict", {"instances": x.tolist()})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    np.testing.assert_array_equal(f32(r.json()["predictions"]), want)   # one output: a bare list of rows
    r = server.post("/v1/models/fc/versions/1:predict", {"inputs": x[:1].tolist()})
    # (the interpreter on the same one-row batch: a matmul's float rounding may depend on the batch size)
    np.testing.assert_array_equal(f32(r.json()["outputs"]), interpret(fc_model(), x=x[:1])["y"])
    r = server.post("/v1/models/fc:predict", {"inputs": {"x": x.tolist()}, "signature_name": "serving_default"})
    np.testing.assert_array_equal(f32(r.json()["outputs"]), want)


def test_float_values_round_trip_exactly(server):
    # Floats print in their shortest float32 form (0.1f as 0.1, as TF Serving does), and parse
    # back to the very same float32; NaN and Infinity use TF Serving's JSON tokens.
    x = np.array([[0.1, -2.5e-8, 3.4e38, 1e-45, 7]], np.float32)
    r = server.post("/v1/models/fc:predict", {"instances": x.tolist()})
    np.testing.assert_array_equal(f32(r.json()["predictions"]), interpret(fc_model(), x=x)["y"])
    r = server.post("/v1/models/add:predict", b'{"inputs": {"a": [[NaN, -Infinity, 0.1]], "b": [[1, 1, 0]]}}')
    assert r.status_code == 200
    want = interpret(add_model(), a=np.array([[np.nan, -np.inf, 0.1]], np.float32),
                     b=np.array([[1, 1, 0]], np.float32))["sum"]
    assert r.text == "{\"outputs\":[[NaN,%s,0.1]]}" % ("-Infinity" if np.isinf(want[0, 1]) else repr(float(
        str(want[0, 1]))))


def test_float_multi_input_row_and_columnar(server):
    a, b = rng.standard_normal((2, 4, 3)).astype(np.float32)
    want = interpret(add_model(), a=a, b=b)["sum"]
    rows = [{"a": ai.tolist(), "b": bi.tolist()} for ai, bi in zip(a, b)]
    r = server.post("/v1/models/add:predict", {"instances": rows})
    assert r.status_code == 200, r.text
    np.testing.assert_array_equal(f32(r.json()["predictions"]), want)
    r = server.post("/v1/models/add:predict", {"inputs": {"a": a.tolist(), "b": b.tolist()}})
    np.testing.assert_array_equal(f32(r.json()["outputs"]), want)


def quantize(x, scale, zp):
    return np.clip(np.round(x / scale + zp), -128, 127).astype(np.int8)


def test_int8_multi_input_real_values_and_raw_integers(server):
    a = rng.uniform(-3, 3, (5, 3)).astype(np.float32)
    b = rng.uniform(-6, 6, (5, 3)).astype(np.float32)
    qa, qb = quantize(a, 0.05, 3), quantize(b, 0.1, -2)
    q_out = interpret(add_int8_model(), a=qa, b=qb)["sum"]
    want_real = (q_out.astype(np.float32) - 1) * np.float32(0.2)
    r = server.post("/v1/models/addq:predict", {"inputs": {"a": a.tolist(), "b": b.tolist()}})
    assert r.status_code == 200, r.text
    np.testing.assert_array_equal(f32(r.json()["outputs"]), want_real)
    rows = [{"a": x.tolist(), "b": y.tolist()} for x, y in zip(qa, qb)]
    r = server.post("/v1/models/addq:predict", {"instances": rows, "raw_integers": True})
    got = r.json()["predictions"]
    assert all(isinstance(v, int) for row in got for v in row)
    np.testing.assert_array_equal(np.asarray(got), q_out)


def test_corpus_int8_models(server, corpus):
    x = np.load(corpus / "mlp5" / "io.npz")["input0"][:6].astype(np.float32)
    for name in ("mlp5_float", "mlp5_int8"):
        content = (corpus / CORPUS_MODELS[name]).read_bytes()
        ip = tinylite.Interpreter(model_content=content)
        want = next(iter(ip.get_signature_runner()(keras_tensor_33=x).values()))
        r = server.post(f"/v1/models/{name}:predict", {"instances": x.tolist()})
        assert r.status_code == 200, r.text
        np.testing.assert_array_equal(f32(r.json()["predictions"]), want, err_msg=name)
    # int8 inputs and outputs: real values by default, the stored integers on request.
    content = (corpus / CORPUS_MODELS["mlp5_int8io"]).read_bytes()
    ip = tinylite.Interpreter(model_content=content)
    (inp,), (out,) = ip.get_input_details(), ip.get_output_details()
    (s_in, z_in), (s_out, z_out) = inp["quantization"], out["quantization"]
    qx = quantize(x, s_in, z_in)
    q_want = next(iter(ip.get_signature_runner()(keras_tensor_33=qx).values()))
    r = server.post("/v1/models/mlp5_int8io:predict", {"instances": x.tolist()})
    np.testing.assert_array_equal(f32(r.json()["predictions"]),
                                  (q_want.astype(np.float32) - z_out) * np.float32(s_out))
    r = server.post("/v1/models/mlp5_int8io:predict", {"instances": qx.tolist(), "raw_integers": True})
    np.testing.assert_array_equal(np.asarray(r.json()["predictions"]), q_want)
    # ... and the raw integers are LiteRT's (the corpus oracle, one sample per invoke).
    litert = np.load(corpus / "mlp5" / "tf_int8io.litert.npz")["output0"][:6]
    np.testing.assert_array_equal(np.asarray(r.json()["predictions"]).reshape(litert.shape), litert)


def test_string_tensors_in_and_out(server):
    r = server.get("/v1/models/strings/metadata")
    sig = r.json()["metadata"]["signature_def"]["signature_def"]["serving_default"]
    assert sig["inputs"]["p"]["dtype"] == sig["outputs"]["o"]["dtype"] == "DT_STRING"
    r = server.post("/v1/models/strings:predict", {"inputs": {"p": ["a", "bb", "\u00e9", "d"], "i": [2, 0]}})
    assert r.status_code == 200 and r.json() == {"outputs": ["\u00e9", "a"]}
    # Bytes that are not UTF-8 travel as {"b64": ...} both ways, as in TF Serving.
    r = server.post("/v1/models/strings:predict", {"inputs": {"p": [{"b64": "AP8="}, "bb", "c", "d"], "i": [0, 1]}})
    assert r.status_code == 200 and r.json() == {"outputs": [{"b64": "AP8="}, "bb"]}


def test_multi_output_row_is_list_of_objects_columnar_is_object(server):
    x = rng.standard_normal((3, 2, 3)).astype(np.float32)
    want = interpret(unpack_model(), x=x)
    r = server.post("/v1/models/unpack:predict", {"instances": x.tolist()})
    preds = r.json()["predictions"]
    assert isinstance(preds, list) and len(preds) == 3 and set(preds[0]) == {"first", "second"}
    for name in ("first", "second"):
        np.testing.assert_array_equal(f32([p[name] for p in preds]), want[name])
    r = server.post("/v1/models/unpack/labels/stable:predict", {"inputs": x.tolist()})
    outs = r.json()["outputs"]
    assert set(outs) == {"first", "second"}
    for name in ("first", "second"):
        np.testing.assert_array_equal(f32(outs[name]), want[name])


def test_b64_binary_values_and_model_without_signatures(server):
    img = rng.integers(0, 256, (3, 4), dtype=np.uint8)
    b64 = [{"b64": base64.b64encode(row.tobytes()).decode()} for row in img]
    r = server.post("/v1/models/cast:predict", {"instances": b64})
    assert r.status_code == 200, r.text
    np.testing.assert_array_equal(f32(r.json()["predictions"]), img.astype(np.float32))
    r = server.post("/v1/models/cast:predict", {"inputs": {"b64": base64.b64encode(img.tobytes()).decode()}})
    np.testing.assert_array_equal(f32(r.json()["outputs"]), img.astype(np.float32))
    r = server.post("/v1/models/cast:predict", {"inputs": {"img": img.tolist()}})   # keyed by tensor name
    np.testing.assert_array_equal(f32(r.json()["outputs"]), img.astype(np.float32))


def test_batches_of_any_size(server):
    for n in (1, 2, 9, 64):
        x = rng.standard_normal((n, 5)).astype(np.float32)
        r = server.post("/v1/models/fc:predict", {"instances": x.tolist()})
        np.testing.assert_array_equal(f32(r.json()["predictions"]), interpret(fc_model(), x=x)["y"])


def test_fixed_batch_model_runs_row_by_row(server):
    x = rng.standard_normal((4, 5)).astype(np.float32)
    want = np.concatenate([interpret(fixed_batch_model(), x=row[None])["y"] for row in x])
    r = server.post("/v1/models/fixed:predict", {"instances": x.tolist()})
    assert r.status_code == 200, r.text
    np.testing.assert_array_equal(f32(r.json()["predictions"]), want)
    dims = server.get("/v1/models/fixed/metadata").json()["metadata"]["signature_def"]["signature_def"][
        "serving_default"]["inputs"]["x"]["tensor_shape"]["dim"]
    assert dims == [{"size": "1", "name": ""}, {"size": "5", "name": ""}]


# -- status and metadata documents ---------------------------------------------------------------------

def test_model_status_document(server):
    ok = {"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
    assert server.get("/v1/models/fc").json() == {"model_version_status": [ok]}
    assert server.get("/v1/models/fc/versions/1").json() == {"model_version_status": [ok]}
    assert server.get("/v1/models/unpack/labels/stable").json() == {"model_version_status": [ok]}


def test_metadata_document(server):
    def dims(*sizes):
        return {"dim": [{"size": str(s), "name": ""} for s in sizes], "unknown_rank": False}

    want = {
        "model_spec": {"name": "add", "signature_name": "", "version": "1"},
        "metadata": {"signature_def": {"signature_def": {"serving_default": {
            "inputs": {"a": {"dtype": "DT_FLOAT", "tensor_shape": dims(-1, 3), "name": "a"},
                       "b": {"dtype": "DT_FLOAT", "tensor_shape": dims(-1, 3), "name": "b"}},
            "outputs": {"sum": {"dtype": "DT_FLOAT", "tensor_shape": dims(-1, 3), "name": "sum"}},
            "method_name": "tensorflow/serving/predict"}}}}}
    assert server.get("/v1/models/add/metadata").json() == want
    assert server.get("/v1/models/add/versions/1/metadata").json() == want
    sig = server.get("/v1/models/addq/metadata").json()["metadata"]["signature_def"]["signature_def"]
    assert sig["serving_default"]["inputs"]["a"]["dtype"] == "DT_FLOAT"       # real values by default
    sig = server.get("/v1/models/addq/metadata", params={"raw_integers": "true"}).json()
    assert sig["metadata"]["signature_def"]["signature_def"]["serving_default"]["outputs"]["sum"]["dtype"] == "DT_INT8"
    cast = server.get("/v1/models/cast/metadata").json()["metadata"]["signature_def"]["signature_def"]
    assert cast["serving_default"]["inputs"]["img"]["dtype"] == "DT_UINT8"


# -- errors: status and message ---------------------------------------------------------------------------

ERRORS = [
    ("/v1/models/fc:predict", b"{\"instances\": [[1, 2, 3, 4, 5]]", 400, "JSON Parse error"),
    ("/v1/models/fc:predict", b"", 400, "The document is empty"),
    ("/v1/models/fc:predict", b"[1, 2]", 400, "Is not object"),
    ("/v1/models/fc:predict", {"instances": [[1] * 5], "inputs": [[1] * 5]}, 400,
     "expecting only one of 'inputs' or 'instances'"),
    ("/v1/models/fc:predict", {"signature_name": "serving_default"}, 400, "Missing 'inputs' or 'instances' key"),
    ("/v1/models/fc:predict", {"instances": []}, 400, "No values in 'instances' array"),
    ("/v1/models/fc:predict", {"instances": {"x": 1}}, 400, "Excepting 'instances' to be an list/array"),
    ("/v1/models/fc:predict", {"instances": [[1, 2, 3, 4]]}, 400, "dimension 1 must be 5"),
    ("/v1/models/fc:predict", {"inputs": [1, 2, 3, 4, 5]}, 400, "expected a tensor of rank 2"),
    ("/v1/models/fc:predict", {"instances": [[1, 2, 3, 4, 5], [1, 2]]}, 400, "not rectangular"),
    ("/v1/models/fc:predict", {"instances": [["a", 2, 3, 4, 5]]}, 400,
     "String are not of expected type: DT_FLOAT"),
    ("/v1/models/fc:predict", {"instances": [[True, False, True, False, True]]}, 400,
     "Bool are not of expected type: DT_FLOAT"),
    ("/v1/models/fc:predict", {"instances": [[1e300, 0, 0, 0, 0]]}, 400, "without loss of precision"),
    ("/v1/models/fc:predict", {"instances": [[1, 2, 3, 4, 5]], "signature_name": "nope"}, 400,
     'Serving signature name: "nope" not found in signature def'),
    ("/v1/models/fc:predict", {"instances": [[1, 2, 3, 4, 5]], "signature_name": 3}, 400,
     "'signature_name' key must be a string value"),
    ("/v1/models/fc:predict", {"instances": [[1] * 5] * 65}, 400, "at most 64 per request"),
    ("/v1/models/fc:predict", {"inputs": [[1] * 5] * 65}, 400, "at most 64 per request"),
    ("/v1/models/fc:predict", {"instances": [[1] * 5] * 20000}, 413, "at most 200000 bytes"),
    ("/v1/models/add:predict", {"instances": [[1, 2, 3]]}, 400, "instances is a plain list, but expecting list of "
     "objects"),
    ("/v1/models/add:predict", {"instances": [{"a": [1, 2, 3]}]}, 400, "keys must be equal to: a,b"),
    ("/v1/models/add:predict", {"inputs": {"a": [[1, 2, 3]]}}, 400, "Missing named input: b in 'inputs' object."),
    ("/v1/models/add:predict", {"inputs": {"a": [[1, 2, 3]], "b": [[1, 2, 3]], "c": 1}}, 400, "Unknown input: c"),
    ("/v1/models/add:predict", {"inputs": [[1, 2, 3]]}, 400, "inputs is a plain value/list, but expecting an object"),
    ("/v1/models/addq:predict", {"inputs": {"a": [[1, 2, 300]], "b": [[1, 2, 3]]}, "raw_integers": True}, 400,
     "JSON Value: 300 is out of the range of DT_INT8"),
    ("/v1/models/addq:predict", {"inputs": {"a": [[1, 2, 3.5]], "b": [[1, 2, 3]]}, "raw_integers": True}, 400,
     "not of expected type: DT_INT8"),
    ("/v1/models/addq:predict", {"inputs": {"a": [[1, 2, 3]], "b": [[1, 2, 3]]}, "raw_integers": "yes"}, 400,
     "'raw_integers' must be true or false"),
    ("/v1/models/cast:predict", {"instances": [{"b64": "AQID"}]}, 400, "do not fit the shape [4]"),
    ("/v1/models/cast:predict", {"instances": [{"b64": "%%%"}]}, 400, "Unable to base64 decode"),
    ("/v1/models/fc:predict", {"instances": [{"x": 1, "y": 2}]}, 400, "keys must be equal to: x"),
    ("/v1/models/nope:predict", {"instances": [[1] * 5]}, 404, "Servable not found for request: Latest(nope)"),
    ("/v1/models/fc/versions/9:predict", {"instances": [[1] * 5]}, 404,
     "Servable not found for request: Specific(fc, 9)"),
    ("/v1/models/fc/labels/canary:predict", {"instances": [[1] * 5]}, 404,
     "Unrecognized servable version label: canary"),
]


@pytest.mark.parametrize("path, body, status, message", ERRORS, ids=[e[3][:40] for e in ERRORS])
def test_predict_errors(server, path, body, status, message):
    r = server.post(path, body)
    assert r.status_code == status, r.text
    doc = r.json()
    assert set(doc) == {"error"} and message in doc["error"], doc


def test_status_and_metadata_errors(server):
    cases = [("/v1/models/nope", 404, "Could not find any versions of model nope"),
             ("/v1/models/fc/versions/9", 404, "Could not find version 9 of model fc"),
             ("/v1/models/nope/metadata", 404, "Servable not found for request: Latest(nope)"),
             ("/v1/models/fc/versions/9/metadata", 404, "Servable not found for request: Specific(fc, 9)"),
             ("/v1/models/fc/versions/x", 400, "Malformed request"),
             ("/v1/nothing", 404, "Malformed request: GET /v1/nothing")]
    for path, status, message in cases:
        r = server.get(path)
        assert r.status_code == status, (path, r.text)
        assert message in r.json()["error"], (path, r.text)


def test_deeply_nested_body_is_a_400(server):
    r = server.post("/v1/models/fc:predict", b'{"instances": ' + b"[" * 100000 + b"]" * 100000 + b"}")
    assert r.status_code in (400, 413), r.text
    assert "error" in r.json()


# -- hot swap ----------------------------------------------------------------------------------------------

def test_new_version_is_served_without_restart(server, model_root):
    x = rng.standard_normal((2, 5)).astype(np.float32)
    v1 = interpret(fc_model(), x=x)["y"]
    r = server.post("/v1/models/swap:predict", {"instances": x.tolist()})
    np.testing.assert_array_equal(f32(r.json()["predictions"]), v1)
    v2_content = fc_model(scale=-0.3)
    put(model_root, "swap", 2, v2_content)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        status = server.get("/v1/models/swap").json()["model_version_status"]
        if status[0] == {"version": "2", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"version 2 not served after 15 s: {status}\n{server.log()[-2000:]}")
    assert status[1]["version"] == "1" and status[1]["state"] == "END"
    r = server.post("/v1/models/swap:predict", {"instances": x.tolist()})
    np.testing.assert_array_equal(f32(r.json()["predictions"]), interpret(v2_content, x=x)["y"])
    assert server.get("/v1/models/swap/metadata").json()["model_spec"]["version"] == "2"
    assert server.post("/v1/models/swap/versions/1:predict", {"instances": x.tolist()}).status_code == 404
    # A broken version is reported, and the server keeps serving the last good one.
    (model_root / "swap" / "3").mkdir()
    (model_root / "swap" / "3" / "model.tflite").write_bytes(b"not a model")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        status = {s["version"]: s for s in server.get("/v1/models/swap").json()["model_version_status"]}
        if "3" in status and status["3"]["state"] == "END":
            break
        time.sleep(0.1)
    assert status["3"]["status"]["error_code"] != "OK" and "could not load" in status["3"]["status"]["error_message"]
    assert status["2"]["state"] == "AVAILABLE"
    r = server.post("/v1/models/swap:predict", {"instances": x.tolist()})
    np.testing.assert_array_equal(f32(r.json()["predictions"]), interpret(v2_content, x=x)["y"])


# -- operations --------------------------------------------------------------------------------------------

def test_healthz_metrics_openapi(server):
    health = server.get("/healthz").json()
    assert health["status"] == "ok" and health["models"]["fc"] == [1]
    server.post("/v1/models/fc:predict", {"instances": [[1] * 5] * 3})
    server.post("/v1/models/fc:predict", {"instances": [[1] * 4]})
    server.post("/v1/models/not-a-model:predict", {"instances": [[1] * 4]})
    text = server.get("/metrics").text
    assert 'tinylite_serving_requests_total{api="predict",code="200",model="fc"}' in text
    assert 'tinylite_serving_request_errors_total{code="400",model="fc"}' in text
    assert 'tinylite_serving_request_latency_seconds_bucket{api="predict"' in text
    assert 'tinylite_serving_batch_size_bucket{le="4.0",model="fc"}' in text
    assert 'model="not-a-model"' not in text     # client-chosen names do not create series
    assert server.get("/monitoring/prometheus/metrics").status_code == 200
    doc = server.get("/openapi.json").json()
    assert "/v1/models/{model_name}:predict" in doc["paths"]
    assert "/v1/models/{model_name}/versions/{version}/metadata" in doc["paths"]
    # Structured logs: one JSON object per line.
    lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
    assert any(rec.get("msg") == "request" and rec.get("status") == 400 for rec in lines)
    assert any(rec.get("msg") == "version_loaded" and rec.get("model") == "fc" for rec in lines)


def test_serving_is_optional_for_import_and_other_commands():
    code = ("import sys, tinylite, tinylite.cli; tinylite.cli._parser(); tinylite.Interpreter; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('fastapi', 'uvicorn', 'starlette', "
            "'prometheus_client')]; print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_serve_help_and_argument_errors(tmp_path):
    run = [sys.executable, "-m", "tinylite.cli", "serve"]
    out = subprocess.run(run + ["--help"], capture_output=True, text=True, timeout=60).stdout
    assert "example: tinylite serve" in out and "--enable_batching" in out
    proc = subprocess.run(run + ["--model_name", "m", "--model_base_path", str(tmp_path / "missing")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "is not a folder" in proc.stderr
    proc = subprocess.run(run, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "--model_base_path" in proc.stderr
    bad = tmp_path / "bad.config"
    bad.write_text("model_config_list { config { name: 'x' } }")
    proc = subprocess.run(run + ["--model_config_file", str(bad)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "needs a name and a base_path" in proc.stderr
