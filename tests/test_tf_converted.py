"""TensorFlow's own conversions (tf.lite.TFLiteConverter: float, dynamic-range,
float16, int8 with float I/O, int8 with int8 I/O) of an attention block (TF
computes its shapes with REDUCE_PROD) and a U-Net with Conv2DTranspose (its int8
files have TRANSPOSE_CONV on int8) run in tinylite and agree with LiteRT's
BUILTIN_WITHOUT_DEFAULT_DELEGATES resolver on seeded random inputs: integer
outputs, and the float outputs of the fully-int8 files (a DEQUANTIZE of exact
integers), bit-exact; other float outputs within 1e-4 of the largest magnitude
of LiteRT's output.  The files are made by scripts/make_tf_tflite_fixtures.py."""
from pathlib import Path

import numpy as np
import pytest

from oracle import run_litert, run_tinylite
from tinylite.flatbuffer.reader import parse
from tinylite.testing import random_inputs

DATA = Path(__file__).parent / "data" / "tf_converted"
FILES = [f"{m}_{k}" for m in ("attention", "unet") for k in ("float", "dynamic", "float16", "int8", "int8_io")]
RTOL = 1e-4


def op_names(content):
    model = parse(content)
    return {model.op_name(op) for sg in model.subgraphs for op in sg.operators}


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tf_conversion_matches_litert(name, seed):
    content = (DATA / f"{name}.tflite").read_bytes()
    feeds = random_inputs(content, seed=seed)
    got, want = run_tinylite(content, feeds), run_litert(content, feeds)
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        assert g.shape == w.shape and g.dtype == w.dtype, f"output {k}: {g.shape} {g.dtype} vs {w.shape} {w.dtype}"
        if w.dtype.kind == "f" and not name.endswith("int8"):
            scale = float(np.max(np.abs(w)))
            err = float(np.max(np.abs(g.astype(np.float64) - w)))
            assert err <= RTOL * scale, f"output {k}: max error {err:.3g} > {RTOL} x {scale:.3g}"
        else:
            np.testing.assert_array_equal(g, w, err_msg=f"output {k}")


def test_fixtures_have_the_ops_that_once_failed():
    assert "REDUCE_PROD" in op_names((DATA / "attention_float.tflite").read_bytes())
    model = parse((DATA / "unet_int8.tflite").read_bytes())
    sg = model.subgraphs[0]
    conv_t = [op for op in sg.operators if model.op_name(op) == "TRANSPOSE_CONV"]
    assert conv_t and all(sg.tensors[op.inputs[2]].type == 9 for op in conv_t)      # int8 input
