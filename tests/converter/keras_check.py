"""Run a converted model in LiteRT and in tinylite and compare both with Keras.

Importing this module picks Keras's backend before Keras is first imported:
numpy, the oracle's (support.keras_oracle checks it; another backend fails in CI).
Test modules import it before keras."""
from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "numpy")

import numpy as np

import tinylite
from oracle import run_litert, run_tinylite


def tolerance(ref) -> float:
    # The bar: max abs error <= 1e-4 * max|reference| + 1e-5.
    return 1e-4 * float(np.max(np.abs(ref))) + 1e-5


def close(got, want, what, tol_scale=1.0):
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    err = float(np.max(np.abs(got.astype(np.float64) - want))) if want.size else 0.0
    assert err <= tol_scale * tolerance(want), f"{what}: max abs error {err} > {tol_scale * tolerance(want)}"


def missing_kernels(content) -> list[str]:
    from tinylite.kernels import supported_ops

    model = tinylite.read_model(content)
    have = set(supported_ops())
    return sorted({model.op_name(op) for op in model.subgraphs[0].operators} - have)


def check_both(content, feeds, refs, tol_scale=1.0):
    """LiteRT and tinylite both reproduce `refs` (every op the converter emits must
    have a tinylite kernel)."""
    refs = [np.asarray(r) for r in refs]
    got = run_litert(content, feeds)
    assert len(got) == len(refs)
    for k, (g, r) in enumerate(zip(got, refs)):
        close(g, r, f"LiteRT output {k}", tol_scale)
    assert not missing_kernels(content), f"tinylite has no kernel for {missing_kernels(content)}"
    got = run_tinylite(content, feeds)
    for k, (g, r) in enumerate(zip(got, refs)):
        close(g, r, f"tinylite output {k}", tol_scale)
