"""The `tinylite` console script, through a real subprocess."""
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from support import need
from tinylite.flatbuffer import read_model
from tinylite.testing import single_op_model


def tinylite(*args, check=True):
    exe = shutil.which("tinylite")
    cmd = [exe] if exe else [sys.executable, "-m", "tinylite.cli"]
    proc = subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"tinylite {args} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture
def classifier(tmp_path):
    """A 3-class FULLY_CONNECTED classifier with a -1 batch dimension."""
    w = np.array([[1, 0, 0, 0], [0, 2, 0, 0], [0, 0, 0, 3]], np.float32)
    content = single_op_model(
        "FULLY_CONNECTED", [dict(name="x", shape=[1, 4], shape_signature=[-1, 4]), dict(name="w", data=w),
                            dict(name="b", data=np.zeros(3, np.float32))],
        [dict(name="scores", shape=[1, 3], shape_signature=[-1, 3])])
    path = tmp_path / "clf.tflite"
    path.write_bytes(content)
    return path


def test_help_shows_examples():
    for cmd in ("demo", "convert", "run", "bench", "inspect", "report", "export-c", "metadata", "serve"):
        out = tinylite(cmd, "--help").stdout
        assert "example:" in out, cmd


def test_run_npy_and_top_k(tmp_path, classifier):
    x = np.array([[1, 0, 0, 0], [0, 0, 0, 1]], np.float32)
    np.save(tmp_path / "x.npy", x)
    (tmp_path / "labels.txt").write_text("cat\ndog\nbird\n")
    out = tinylite("run", classifier, "--input", tmp_path / "x.npy", "--labels", tmp_path / "labels.txt",
                   "--top-k", "2", "-o", tmp_path / "out.npz").stdout
    assert "sample 0: cat 1.0000" in out
    assert "sample 1: bird 3.0000" in out
    saved = np.load(tmp_path / "out.npz")["output0"]
    np.testing.assert_array_equal(saved, [[1, 0, 0], [0, 0, 3]])


def test_run_bad_inputs(tmp_path, classifier):
    r = tinylite("run", classifier, "--input", tmp_path / "missing.npy", check=False)
    assert r.returncode == 1 and "does not exist" in r.stderr
    np.save(tmp_path / "bad.npy", np.zeros((2, 5), np.float32))
    r = tinylite("run", classifier, "--input", tmp_path / "bad.npy", check=False)
    assert r.returncode == 1 and "got shape [2, 5]" in r.stderr and "Traceback" not in r.stderr
    (tmp_path / "notamodel.tflite").write_bytes(b"hello world, not a model")
    np.save(tmp_path / "x.npy", np.zeros((1, 4), np.float32))
    r = tinylite("run", tmp_path / "notamodel.tflite", "--input", tmp_path / "x.npy", check=False)
    assert r.returncode == 1 and "not a TFLite model" in r.stderr and "Traceback" not in r.stderr


def test_inspect_text_and_json(classifier):
    text = tinylite("inspect", classifier).stdout
    assert "FULLY_CONNECTED" in text and "12 MACs" in text and "serving_default" in text
    info = json.loads(tinylite("inspect", classifier, "--json").stdout)
    sg = info["subgraphs"][0]
    assert sg["operators"][0]["op"] == "FULLY_CONNECTED"
    assert sg["macs"] == 12 and sg["parameters"] == 15


def test_inspect_missing_file(tmp_path):
    r = tinylite("inspect", tmp_path / "nope.tflite", check=False)
    assert r.returncode == 1 and "Could not open" in r.stderr


def test_bench_reports_statistics(classifier):
    r = json.loads(tinylite("bench", classifier, "--runs", "5", "--batch", "4", "--op-profile", "--json").stdout)
    assert r["batch"] == 4 and r["latency"]["count"] == 5
    assert r["latency"]["p50_ms"] > 0 and r["throughput_per_s"] > 0
    assert [p["op"] for p in r["op_profile"]] == ["FULLY_CONNECTED"]
    # The classifier's one layer at batch 4: its product, its bias, and its activation if any.
    calls = {p["call"]: p["calls"] for p in r["call_summary"]}
    assert calls["dot"] == 1 and calls["add"] == 1 and abs(sum(p["percent"] for p in r["call_summary"]) - 100) < 1e-6
    text = tinylite("bench", classifier, "--runs", "5", "--compare-litert", "--op-profile").stdout
    assert "By numpy call" in text
    assert "p99=" in text and "LiteRT" in text


def test_export_c_compiles_and_round_trips(tmp_path, classifier):
    need(shutil.which("gcc") is not None, "gcc is not installed")
    out = tmp_path / "model_data.cc"
    tinylite("export-c", classifier, "-o", out, "--name", "g_model")
    header = (tmp_path / "model_data.h").read_text()
    assert "extern const unsigned char g_model[];" in header and "TENSOR_ARENA_SIZE" in header
    source = out.read_text()
    assert "const unsigned char g_model[] TINYLITE_ALIGN16" in source
    subprocess.run(["gcc", "-c", "-x", "c++", str(out), "-o", str(tmp_path / "m.o")], check=True)
    subprocess.run(["gcc", "-c", "-x", "c", str(out), "-o", str(tmp_path / "m_c.o")], check=True)
    # Round trip: a C program that writes the array back out byte for byte.
    main = tmp_path / "dump.c"
    main.write_text('#include <stdio.h>\n#include "model_data.h"\nint main(void){fwrite(g_model,1,g_model_len,stdout);'
                    'return ((unsigned long)g_model % 16) != 0;}\n')
    exe = tmp_path / "dump"
    subprocess.run(["gcc", "-x", "c", str(out), str(main), "-I", str(tmp_path), "-o", str(exe)], check=True)
    dumped = subprocess.run([str(exe)], capture_output=True, check=True).stdout
    assert dumped == classifier.read_bytes()
    read_model(dumped)


def test_export_c_refuses_non_models(tmp_path):
    bad = tmp_path / "x.tflite"
    bad.write_bytes(b"\0" * 64)
    r = tinylite("export-c", bad, "-o", tmp_path / "x.cc", check=False)
    assert r.returncode == 1 and not (tmp_path / "x.cc").exists()


def test_no_command_prints_help():
    r = tinylite(check=False)
    assert r.returncode == 2 and "demo" in r.stdout
