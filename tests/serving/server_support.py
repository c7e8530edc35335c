"""Helpers of the `tinylite serve` tests: the server runs as a real subprocess on a free 127.0.0.1 port; tests talk HTTP to it.

Every server is started through `running_server`, which waits for /healthz with a
deadline and always terminates the process (then kills it if it lingers)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import pytest

from tinylite.testing import single_op_model

CORPUS = Path(os.environ.get("TINYLITE_CORPUS", Path(__file__).resolve().parents[2].parent / "shared" / "corpus"))
START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, url: str, proc: subprocess.Popen, log):
        self.url, self.proc, self._log = url, proc, log

    def log(self) -> str:
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")

    def get(self, path, **kw):
        return httpx.get(self.url + path, timeout=30, **kw)

    def post(self, path, body=None, **kw):
        if isinstance(body, (bytes, str)):
            return httpx.post(self.url + path, content=body, timeout=30, **kw)
        return httpx.post(self.url + path, json=body, timeout=30, **kw)


@contextmanager
def running_server(*args, timeout: float = START_TIMEOUT, env=None):
    port = free_port()
    cmd = [sys.executable, "-m", "tinylite.cli", "serve", "--port", str(port), "--host", "127.0.0.1",
           *[str(a) for a in args]]
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    server = Server(f"http://127.0.0.1:{port}", proc, log)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"tinylite serve exited with {proc.returncode}:\n{server.log()[-4000:]}")
            try:
                if httpx.get(server.url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"tinylite serve not healthy after {timeout} s:\n{server.log()[-4000:]}")
            time.sleep(0.1)
        yield server
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        log.close()


# -- models ----------------------------------------------------------------------------------

def fc_model(scale: float = 0.1) -> bytes:
    """Float, one input x [-1, 5] -> y [-1, 3]."""
    w = (np.arange(15, dtype=np.float32).reshape(3, 5) - 7) * np.float32(scale)
    return single_op_model("FULLY_CONNECTED", [dict(name="x", shape=[1, 5], shape_signature=[-1, 5]),
                                               dict(name="w", data=w), dict(name="bias", data=np.ones(3, np.float32))],
                           [dict(name="y", shape=[1, 3], shape_signature=[-1, 3])])


def fixed_batch_model() -> bytes:
    """Float, x [1, 5] with no free batch dimension (runs row by row for larger batches)."""
    w = np.linspace(-1, 1, 10, dtype=np.float32).reshape(2, 5)
    return single_op_model("FULLY_CONNECTED", [dict(name="x", shape=[1, 5]), dict(name="w", data=w), None],
                           [dict(name="y", shape=[1, 2])])


def add_model() -> bytes:
    """Float, two inputs a, b [-1, 3] -> sum."""
    return single_op_model("ADD", [dict(name="a", shape=[1, 3], shape_signature=[-1, 3]),
                                   dict(name="b", shape=[1, 3], shape_signature=[-1, 3])],
                           [dict(name="sum", shape=[1, 3], shape_signature=[-1, 3])])


def add_int8_model() -> bytes:
    """int8 (per-tensor quantized) inputs and output: a quantized multi-input model."""
    return single_op_model(
        "ADD", [dict(name="a", shape=[1, 3], shape_signature=[-1, 3], dtype=np.int8, quantization=(0.05, 3)),
                dict(name="b", shape=[1, 3], shape_signature=[-1, 3], dtype=np.int8, quantization=(0.1, -2))],
        [dict(name="sum", shape=[1, 3], shape_signature=[-1, 3], dtype=np.int8, quantization=(0.2, 1))])


def unpack_model() -> bytes:
    """Float, one input x [-1, 2, 3] -> two named outputs."""
    return single_op_model("UNPACK", [dict(name="x", shape=[1, 2, 3], shape_signature=[-1, 2, 3])],
                           [dict(name="first", shape=[1, 3], shape_signature=[-1, 3]),
                            dict(name="second", shape=[1, 3], shape_signature=[-1, 3])], options=dict(num=2, axis=1))


def cast_model() -> bytes:
    """uint8 image-like input (for b64 values), no SignatureDef (tensor names are the keys)."""
    return single_op_model("CAST", [dict(name="img", shape=[1, 4], shape_signature=[-1, 4], dtype=np.uint8)],
                           [dict(name="f", shape=[1, 4], shape_signature=[-1, 4])], signature=False)


def strings_model() -> bytes:
    """GATHER on a STRING vector: DT_STRING in and out."""
    return single_op_model("GATHER", [dict(name="p", shape=[4], dtype=np.bytes_),
                                      dict(name="i", shape=[2], dtype=np.int32)],
                           [dict(name="o", shape=[2], dtype=np.bytes_)])


def put(root: Path, name: str, version: int, content: bytes) -> None:
    d = root / name / str(version)
    d.mkdir(parents=True, exist_ok=True)
    tmp = d / "model.tflite.tmp"
    tmp.write_bytes(content)
    os.replace(tmp, d / "model.tflite")


MODELS = {"fc": fc_model, "fixed": fixed_batch_model, "add": add_model, "addq": add_int8_model,
          "unpack": unpack_model, "cast": cast_model, "swap": fc_model, "strings": strings_model}
CORPUS_MODELS = {"mlp5_float": "mlp5/tf_float.tflite", "mlp5_int8": "mlp5/tf_int8.tflite",
                 "mlp5_int8io": "mlp5/tf_int8io.tflite"}


@pytest.fixture(scope="session")
def model_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    entries = []
    for name, make in MODELS.items():
        put(root, name, 1, make())
        entries.append((name, ""))
    for name, rel in CORPUS_MODELS.items():
        if (CORPUS / rel).is_file():
            put(root, name, 1, (CORPUS / rel).read_bytes())
            entries.append((name, ""))
    lines = ["# TF Serving's model config format", "model_config_list {"]
    for name, _ in entries:
        labels = " version_labels { key: 'stable' value: 1 }" if name == "unpack" else ""
        lines.append(f"  config {{ name: '{name}' base_path: '{root / name}' "
                     f"model_platform: 'tflite'{labels} }}")
    lines.append("}")
    (root / "models.config").write_text("\n".join(lines) + "\n")
    return root


SERVER_ARGS = ("--file_system_poll_wait_seconds", "0.2", "--max_body_bytes", "200000", "--max_request_batch", "64",
               "--pool_size", "2")


@pytest.fixture(scope="session")
def server(model_root):
    with running_server("--model_config_file", model_root / "models.config", *SERVER_ARGS) as s:
        yield s
