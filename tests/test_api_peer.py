"""LiteRT's own Python Interpreter tests (../shared/api_peer) pass on tinylite wherever they pass on LiteRT.

The runner executes LiteRT's unchanged tflite/python/interpreter_test.py twice, once with
ai_edge_litert.interpreter and once with tinylite in its place (see its README)."""
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

from support import CORPUS, need

ROOT = Path(__file__).resolve().parents[1]


def _api_peer_dir():
    for d in (CORPUS.parent / "api_peer", ROOT.parent / "shared" / "api_peer"):
        if (d / "run_api_peer.py").is_file():
            return d
    return None


def test_litert_interpreter_suite_passes_on_tinylite(tmp_path):
    peer = _api_peer_dir()
    need(peer is not None, f"../shared/api_peer/run_api_peer.py not found (looked beside {CORPUS} and {ROOT})")
    need(importlib.util.find_spec("ai_edge_litert") is not None,
         "ai-edge-litert is not installed (pip install '.[test]'): it is the control run")
    out = tmp_path / "api_peer.json"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, str(peer / "run_api_peer.py"), "--json", str(out)], cwd=ROOT,
                          capture_output=True, text=True, env=env, timeout=900)
    report = proc.stdout[-6000:] + proc.stderr[-3000:]
    assert out.is_file(), f"run_api_peer.py wrote no results (exit {proc.returncode}):\n{report}"
    result = json.loads(out.read_text())
    # The checkout under test is the one measured, not an installed tinylite.
    assert Path(result["results"]["tinylite"]["where"]).resolve() == ROOT / "tinylite", report
    litert, ours = set(result["litert_passed"]), set(result["tinylite_passed"])
    assert litert, f"the LiteRT control run passed nothing: the runner is broken\n{report}"
    missing = sorted(litert - ours)
    assert not missing, f"tinylite fails upstream tests LiteRT passes: {missing}\n{report}"
    assert proc.returncode == 0, report
