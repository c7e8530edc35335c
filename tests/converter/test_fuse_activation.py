"""The activation-fusion pass, op kind by op kind: each fusion it makes must load
in LiteRT and give the unfused graph's answer; ops whose LiteRT kernels reject a
fused activation (CONCATENATION, L2_NORMALIZATION) keep a separate activation op."""
import numpy as np
import pytest

from oracle import run_litert, run_tinylite

from tinylite.converter.builder import GraphBuilder
from tinylite.converter.passes import fuse_activation
from tinylite.flatbuffer.writer import write_model

RNG = np.random.default_rng(0)


def _conv(b, x, rng):
    w = b.const(rng.standard_normal((3, 3, 3, 2)).astype(np.float32), "w")
    bias = b.const(rng.standard_normal(3).astype(np.float32), "b")
    return b.op("CONV_2D", [x, w, bias], (1, 6, 6, 3), "conv",
                {"padding": "SAME", "stride_h": 1, "stride_w": 1})


def _depthwise(b, x, rng):
    w = b.const(rng.standard_normal((1, 3, 3, 2)).astype(np.float32), "w")
    bias = b.const(rng.standard_normal(2).astype(np.float32), "b")
    return b.op("DEPTHWISE_CONV_2D", [x, w, bias], (1, 6, 6, 2), "dw",
                {"padding": "SAME", "stride_h": 1, "stride_w": 1, "depth_multiplier": 1})


def _fc(b, x, rng):
    w = b.const(rng.standard_normal((4, 2)).astype(np.float32), "w")
    bias = b.const(rng.standard_normal(4).astype(np.float32), "b")
    return b.op("FULLY_CONNECTED", [x, w, bias], (1, 6, 6, 4), "fc", {"keep_num_dims": True})


def _binary(kind):
    def build(b, x, rng):
        y = b.const(rng.uniform(0.5, 1.5, (2,)).astype(np.float32), "y")
        return b.op(kind, [x, y], (1, 6, 6, 2), kind.lower())
    return build


def _pool(kind):
    def build(b, x, rng):
        return b.op(kind, [x], (1, 3, 3, 2), kind.lower(),
                    {"padding": "VALID", "stride_h": 2, "stride_w": 2, "filter_height": 2, "filter_width": 2})
    return build


def _concat(b, x, rng):
    return b.op("CONCATENATION", [x, x], (1, 6, 6, 4), "concat", {"axis": 3})


def _l2norm(b, x, rng):
    return b.op("L2_NORMALIZATION", [x], (1, 6, 6, 2), "l2norm")


FUSED = {"CONV_2D": _conv, "DEPTHWISE_CONV_2D": _depthwise, "FULLY_CONNECTED": _fc,
         "ADD": _binary("ADD"), "SUB": _binary("SUB"), "MUL": _binary("MUL"), "DIV": _binary("DIV"),
         "MAX_POOL_2D": _pool("MAX_POOL_2D"), "AVERAGE_POOL_2D": _pool("AVERAGE_POOL_2D")}
NOT_FUSED = {"CONCATENATION": _concat, "L2_NORMALIZATION": _l2norm}


def _model(build, activation, passes):
    b = GraphBuilder()
    x = b.input("x", (1, 6, 6, 2))
    y = build(b, x, np.random.default_rng(1))
    y = b.op(activation, [y], y.shape, "act")
    b.output(y, "y")
    return b.finish(passes=passes)


def _ops(model):
    return [model.op_name(op) for op in model.subgraphs[0].operators]


def test_every_fusing_op_is_tested():
    assert fuse_activation._FUSES_INTO == set(FUSED)


@pytest.mark.parametrize("activation", ["RELU", "RELU6", "RELU_N1_TO_1"])
@pytest.mark.parametrize("kind", sorted(FUSED) + sorted(NOT_FUSED))
def test_fusion_loads_in_litert(kind, activation):
    build = FUSED.get(kind) or NOT_FUSED[kind]
    x = RNG.standard_normal((1, 6, 6, 2)).astype(np.float32) * 2
    plain = write_model(_model(build, activation, passes=False))
    fused_model = _model(build, activation, passes=True)
    fused = write_model(fused_model)
    want = run_litert(plain, [x])[0]
    if kind in FUSED:
        assert _ops(fused_model) == [kind], "the activation was not fused"
    else:
        assert _ops(fused_model) == [kind, activation], "fused into an op whose LiteRT kernel rejects it"
    got = run_litert(fused, [x])[0]          # loads: LiteRT's prepare accepts the fused option
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(run_tinylite(fused, [x])[0], want, rtol=1e-5, atol=1e-5)
