"""Calibration gives the same file whichever BLAS kernel the CPU picks.

OpenBLAS chooses its GEMM kernels by CPU (OPENBLAS_CORETYPE overrides it); their
float32 sums differ in the last bits, and calibrated ranges used to inherit those
bits (the corpus's RNet lost 0.015 dB of SQNR on an AVX-512 machine).  Each model
here is converted to full integer in two processes, under two core types, and the
files must be equal byte for byte."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE_TYPES = ("Haswell", "Sandybridge")

CONVERT = r"""
import sys
import numpy as np
from threadpoolctl import threadpool_info
import tinylite

h5, data, out = sys.argv[1:4]
if data == "digits":
    from tinylite.demo import load_digits
    xs = [load_digits()[0][:200]]
else:
    io = np.load(data)
    xs = [io[k] for k in sorted(io.files) if k.startswith("input")]
c = tinylite.TFLiteConverter.from_keras_model_file(h5)
c.optimizations = [tinylite.Optimize.DEFAULT]
c.representative_dataset = lambda: ([x[i:i + 1] for x in xs] for i in range(min(64, len(xs[0]))))
open(out, "wb").write(c.convert())
print(",".join(sorted(str(i.get("architecture")) for i in threadpool_info() if i["internal_api"] == "openblas")))
"""


def convert_under(core_type, h5, data, out):
    env = dict(os.environ, OPENBLAS_CORETYPE=core_type, PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-c", CONVERT, str(h5), str(data), str(out)], env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout.strip().splitlines()[-1]


def same_file_under_two_core_types(tmp_path, h5, data):
    archs = [convert_under(t, h5, data, tmp_path / f"{t}.tflite") for t in CORE_TYPES]
    if archs[0] == archs[1]:
        # Not an oracle: a BLAS without OpenBLAS's run-time kernel choice has nothing to vary.
        pytest.skip(f"numpy's BLAS ignores OPENBLAS_CORETYPE here (kernels: {archs})")
    a, b = ((tmp_path / f"{t}.tflite").read_bytes() for t in CORE_TYPES)
    assert a == b, f"the int8 files differ between OpenBLAS kernels {archs}"


def test_bundled_digits_cnn(tmp_path):
    from importlib import resources

    h5 = tmp_path / "digits_cnn.h5"
    h5.write_bytes(resources.files("tinylite").joinpath("data/digits_cnn.h5").read_bytes())
    same_file_under_two_core_types(tmp_path, h5, "digits")


def test_corpus_rnet(tmp_path, corpus):
    same_file_under_two_core_types(tmp_path, corpus / "rnet" / "model.h5", corpus / "rnet" / "io.npz")
