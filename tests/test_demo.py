"""`tinylite demo`, the README's main job, through the real console script; then every
example of the README, run from the demo's folder on the files the demo wrote."""
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from test_cli import tinylite

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """(folder the demo ran in, its printed table); the demo writes ./tinylite_demo as the README says."""
    cwd = tmp_path_factory.mktemp("fresh_clone")
    proc = subprocess.run([sys.executable, "-m", "tinylite.cli", "demo"], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env=dict(os.environ, PYTHONPATH=str(README.parent)))
    assert proc.returncode == 0, proc.stderr
    return cwd, proc.stdout


def test_demo_pipeline_and_accuracy_matches_run(demo, tmp_path):
    cwd, text = demo
    out = cwd / "tinylite_demo"
    table = {m.group(1): float(m.group(2)) for m in re.finditer(
        r"^(float|dynamic|float16|int8)\s+digits_\w+\.tflite\s+\S+\s+\S+\s+([\d.]+)%", text, re.M)}
    assert "float" in table, text
    for mode, acc in table.items():
        assert acc > 90.0, f"{mode}: accuracy {acc}% on held-out digits"
        assert (out / f"digits_{mode}.tflite").exists()
    assert (out / "report.html").exists() and (out / "digits_cnn.h5").exists()
    # The table's accuracy is what `tinylite run` gives on the same data.
    data = np.load(out / "digits_test.npz")
    for mode, acc in table.items():
        saved = tmp_path / f"{mode}_out.npz"
        tinylite("run", out / f"digits_{mode}.tflite", "--input", out / "digits_test.npz", "-o", saved)
        pred = np.load(saved)["output0"].argmax(-1)
        assert abs(100 * float(np.mean(pred == data["y"])) - acc) < 0.01, mode


def _run(cmd, cwd, **kw):
    env = dict(os.environ, PYTHONPATH=str(README.parent))
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300, env=env, **kw)


def _cli(args):
    """A README command line as argv, run through this tree's entry points."""
    argv = shlex.split(args)
    module = {"tinylite": "tinylite.cli", "tflite_convert": "tinylite.tflite_convert"}[argv[0]]
    return [sys.executable, "-m", module, *argv[1:]]


def test_readme_examples_run_on_the_demo_files(demo):
    cwd, _ = demo
    text = README.read_text()
    # The Python example.
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    r = _run([sys.executable, "-c", code], cwd)
    assert r.returncode == 0, r.stderr
    assert (cwd / "digits.tflite").exists()
    # tflite_convert, and every command of the table except the demo and the server (below).
    commands = re.findall(r"^`(tflite_convert [^`]+)`", text, re.M)
    commands += re.findall(r"^\| `(tinylite (?!demo|serve)[^`]+)`", text, re.M)
    assert len(commands) == 8, commands
    for line in commands:
        r = _run(_cli(line), cwd)
        assert r.returncode == 0, (line, r.stderr[-2000:])
    # The server, on the folder the README's own shell line makes.
    setup = re.search(r"`(mkdir -p models/digits/1 && cp [^`]+)`", text).group(1)
    assert _run(["bash", "-c", setup], cwd).returncode == 0
    serve = re.search(r"^\| `(tinylite serve [^`]+)`", text, re.M).group(1)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, PYTHONPATH=str(README.parent))
    proc = subprocess.Popen(_cli(serve) + ["--port", str(port)], cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        import httpx

        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v1/models/digits", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, "the README's serve command did not start"
            time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(30)
