"""FULLY_CONNECTED with SHUFFLED4x16INT8 weights (uint8 x uint8 -> int16, TOCO's GEMV
format) against LiteRT, both op resolvers; and the layouts LiteRT's kernel cannot run
refused with a clear error."""
import numpy as np
import pytest

import tinylite
from oracle import assert_same_outputs, run_litert
from tinylite.errors import TinyliteError
from tinylite.flatbuffer.reader import read_model
from tinylite.flatbuffer.writer import write_model
from tinylite.testing import single_op_model

rng = np.random.default_rng(13)


def shuffle(w):
    """TOCO's ShuffleFCWeights: blocks of 4 units x 16 inputs, the sign bit flipped."""
    units, depth = w.shape
    return (w.reshape(units // 4, 4, depth // 16, 16).transpose(0, 2, 1, 3).reshape(units, depth) ^ 0x80)


def model(w, rows, xshape=None, act="NONE", scales=(0.05, 0.02, 1 / 4096), bias=None, ws_shape=None, keep=False,
          zps=(128, 128, 0), out_shape=None):
    units, depth = w.shape
    sx, sw, so = scales
    b = rng.integers(-20000, 20000, units).astype(np.int32) if bias is None else bias
    return single_op_model(
        "FULLY_CONNECTED",
        [dict(name="x", shape=xshape or [rows, depth], dtype=np.uint8, quantization=(sx, zps[0])),
         dict(name="w", data=shuffle(w), quantization=(sw, zps[1])),
         None if b is False else dict(name="b", data=b, quantization=(float(np.float32(sx) * np.float32(sw)), 0))],
        [dict(name="y", shape=out_shape or [rows, units], dtype=np.int16, quantization=(so, zps[2])),
         dict(name="ws", shape=ws_shape or [rows, depth], dtype=np.uint8)],
        options=dict(weights_format=1, fused_activation_function=act, keep_num_dims=keep))


@pytest.mark.parametrize("rows", [1, 4])
@pytest.mark.parametrize("units,depth", [(4, 16), (8, 32), (12, 64), (32, 128)])
@pytest.mark.parametrize("act", ["NONE", "RELU", "RELU6", "RELU_N1_TO_1"])
def test_shuffled_fully_connected(rows, units, depth, act):
    w = rng.integers(0, 256, (units, depth)).astype(np.uint8)
    x = rng.integers(0, 256, (rows, depth)).astype(np.uint8)
    # Output scales with shifts to the left and to the right of the multiplier.
    for scales in [(0.05, 0.02, 1 / 4096), (0.01, 0.003, 1 / 32)]:
        assert_same_outputs(model(w, rows, act=act, scales=scales), [x], rtol=0, atol=0)


@pytest.mark.parametrize("rows", [1, 4])
def test_shuffled_extremes(rows):
    # Weight and input bytes 0 and 255 (and 128, 127): saturated outputs; and -128 * -128 in both
    # halves of a block of 16, where LiteRT's default kernel wraps its int16 lane (its reference
    # kernel does not), on some units and rows only.
    units, depth = 8, 48
    w = rng.choice(np.array([0, 1, 127, 128, 255], np.uint8), (units, depth))
    w[:4] = 0
    x = rng.choice(np.array([0, 1, 127, 128, 255], np.uint8), (rows, depth))
    x[0] = 0
    for scales in [(0.05, 0.02, 1 / 4096), (1 / 64, 1 / 64, 1 / 32), (1e-4, 1e-4, 1e-3)]:
        content = model(w, rows, scales=scales, bias=np.zeros(units, np.int32))
        assert_same_outputs(content, [x], rtol=0, atol=0)
    # The case is live: LiteRT's two kernels disagree on it.
    assert not np.array_equal(run_litert(content, [x])[0], run_litert(content, [x], "ref")[0])


def test_shuffled_keep_num_dims_and_3d_input():
    w = rng.integers(0, 256, (8, 32)).astype(np.uint8)
    x = rng.integers(0, 256, (2, 2, 32)).astype(np.uint8)
    assert_same_outputs(model(w, 4, xshape=[2, 2, 32], ws_shape=[2, 2, 32]), [x], rtol=0, atol=0)
    assert_same_outputs(model(w, 4, xshape=[2, 2, 32], ws_shape=[2, 2, 32], keep=True, out_shape=[2, 2, 8]), [x],
                        rtol=0, atol=0)


def test_shuffled_weights_as_input():
    # Weights fed at run time are read in the same shuffled layout.
    units, depth = 8, 32
    w = rng.integers(0, 256, (units, depth)).astype(np.uint8)
    b = rng.integers(-20000, 20000, units).astype(np.int32)
    content = single_op_model(
        "FULLY_CONNECTED",
        [dict(name="x", shape=[1, depth], dtype=np.uint8, quantization=(0.05, 128)),
         dict(name="w", shape=[units, depth], dtype=np.uint8, quantization=(0.02, 128)),
         dict(name="b", data=b, quantization=(0.001, 0))],
        [dict(name="y", shape=[1, units], dtype=np.int16, quantization=(1 / 4096, 0)),
         dict(name="ws", shape=[1, depth], dtype=np.uint8)],
        options=dict(weights_format=1))
    x = rng.integers(0, 256, (1, depth)).astype(np.uint8)
    assert_same_outputs(content, [x, shuffle(w)], rtol=0, atol=0)


@pytest.mark.parametrize("case,match", [
    (dict(rows=2), "1 or 4 input rows"),
    (dict(units=6), "blocks of 4 units x 16 inputs"),
    (dict(depth=20), "blocks of 4 units x 16 inputs"),
    (dict(bias=False), "need an int32 bias"),
    (dict(zps=(0, 128, 0)), "zero points 128"),
    (dict(zps=(128, 128, 5)), "zero points 128"),
    (dict(ws_shape=[4]), "workspace output"),
])
def test_shuffled_refused_clearly(case, match):
    rows, units, depth = case.pop("rows", 1), case.pop("units", 8), case.pop("depth", 32)
    if units % 4 or depth % 16:
        w = rng.integers(0, 256, (units, depth)).astype(np.uint8)
        content = single_op_model(
            "FULLY_CONNECTED",
            [dict(name="x", shape=[rows, depth], dtype=np.uint8, quantization=(0.05, 128)),
             dict(name="w", data=w, quantization=(0.02, 128)),
             dict(name="b", data=np.zeros(units, np.int32), quantization=(0.001, 0))],
            [dict(name="y", shape=[rows, units], dtype=np.int16, quantization=(1 / 4096, 0)),
             dict(name="ws", shape=[rows, depth], dtype=np.uint8)], options=dict(weights_format=1))
    else:
        no_bias = case.pop("bias", None) is False
        content = model(rng.integers(0, 256, (units, depth)).astype(np.uint8), rows, **case)
        if no_bias:
            # The bias dropped after building, so scripts/collect_kernel_types.py does not list this
            # refused variant as one that runs.
            m = read_model(content)
            m.subgraphs[0].operators[0].inputs[2] = -1
            content = write_model(m)
    ip = tinylite.Interpreter(model_content=content)
    with pytest.raises(TinyliteError, match=match):
        ip.allocate_tensors()


def test_shuffled_needs_the_workspace_output():
    w = rng.integers(0, 256, (8, 32)).astype(np.uint8)
    content = single_op_model(
        "FULLY_CONNECTED",
        [dict(name="x", shape=[1, 32], dtype=np.uint8, quantization=(0.05, 128)),
         dict(name="w", data=shuffle(w), quantization=(0.02, 128)),
         dict(name="b", data=np.zeros(8, np.int32), quantization=(0.001, 0))],
        [dict(name="y", shape=[1, 8], dtype=np.int16, quantization=(1 / 4096, 0))], options=dict(weights_format=1))
    with pytest.raises(TinyliteError, match="need 2 outputs"):
        tinylite.Interpreter(model_content=content).allocate_tensors()
