"""`tinylite report` renders in a real headless browser, with its plots."""
import re
import shutil
import subprocess

import numpy as np
import pytest

from support import need
from test_cli import classifier, tinylite  # noqa: F401  (fixture and helper)

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium():
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    need(exe is not None, "no headless Chromium (apt-get install chromium)")
    return exe


def test_report_renders_with_plots(tmp_path, classifier):  # noqa: F811
    exe = chromium()
    data = tmp_path / "eval.npz"
    rng = np.random.default_rng(0)
    x = rng.random((20, 4), np.float32)
    w = np.array([[1, 0, 0, 0], [0, 2, 0, 0], [0, 0, 0, 3]], np.float32)   # the classifier's weights
    np.savez(data, x=x, y=np.argmax(x @ w.T, axis=1))
    # A reference whose weights differ slightly: same tensor names, finite errors.
    from tinylite.flatbuffer import read_model, write_model

    m = read_model(classifier.read_bytes())
    w = m.subgraphs[0].tensors[1]
    m.buffers[w.buffer].data = (m.buffer_array(w) * 1.01).astype(np.float32).view(np.uint8).reshape(-1)
    reference = tmp_path / "reference.tflite"
    reference.write_bytes(write_model(m))
    page = tmp_path / "report.html"
    tinylite("report", classifier, "--compare", reference, "--data", data, "-o", page)
    profile = tmp_path / "profile"
    dom = subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    # The browser parsed the page and built the inline SVG plots.
    for plot in ("plot-graph", "plot-size", "plot-latency", "plot-quant-error"):
        assert re.search(rf'<svg[^>]*id="{plot}"', dom), f"{plot} missing from the rendered DOM"
    assert "accuracy" in dom and "100.00%" in dom
    shot = tmp_path / "report.png"
    subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--screenshot={shot}",
                    "--window-size=1100,1600", page.as_uri()], capture_output=True, timeout=120)
    assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000, "the screenshot is nearly blank"


def test_report_bad_input(tmp_path):
    r = tinylite("report", tmp_path / "missing.tflite", "-o", tmp_path / "r.html", check=False)
    assert r.returncode == 1 and "Could not open" in r.stderr
    assert not (tmp_path / "r.html").exists()


@pytest.fixture(autouse=True)
def _no_display(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
