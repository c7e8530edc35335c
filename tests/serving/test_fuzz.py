"""Fuzz the live server from its own OpenAPI document (schemathesis): no request may get a 5xx."""
from __future__ import annotations

import subprocess
import sys

FUZZ_SECONDS = 15


def test_openapi_fuzz_finds_no_server_error(server, tmp_path):
    doc = server.get("/openapi.json").json()
    assert doc["paths"]["/v1/models/{model_name}:predict"]["post"]["requestBody"]["content"]["application/json"][
        "example"]["instances"], "the predict example request lets the fuzzer reach the models"
    cmd = [sys.executable, "-m", "schemathesis.cli", "run", f"{server.url}/openapi.json",
           "--checks", "not_a_server_error", "--phases", "examples,coverage,fuzzing",
           "--max-examples", "25", "--max-time", str(FUZZ_SECONDS), "--seed", "20240601",
           "--request-timeout", "10", "--workers", "1", "--no-shrink",
           "--report", "ndjson", "--report-dir", str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=FUZZ_SECONDS + 60, cwd=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    assert "passed" in out and "generated" in out, out[-3000:]
    assert "Server error" not in out and "500 Internal" not in out, out[-6000:]
    # The server logged no internal error either.
    assert '"level": "error"' not in server.log(), server.log()[-4000:]
