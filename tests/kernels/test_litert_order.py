"""Float convolutions whose results a hybrid op quantizes sum in LiteRT's order
(kernels/_litert_order.py): their outputs equal LiteRT's bit for bit, in the
optimized resolver (Eigen's product, the depthwise kernel from the bias) and
in the reference resolver, so the hybrid op after them quantizes the same
values and its output is exact too.  Each model is a float CONV_2D or
DEPTHWISE_CONV_2D followed by a hybrid 1x1 CONV_2D (int8 weights)."""
import numpy as np
import pytest

from oracle import litert_interpreter
from tinylite.flatbuffer.reader import parse
from tinylite.interpreter.hybrid import feeding_hybrid_ops
from tinylite.kernels._litert_order import depth_blocks
from tinylite.testing import chain_model

import tinylite


def hybrid_after(x_shape, op, w, b, options, out_shape):
    """x -> float `op` (tensor "f") -> hybrid 1x1 CONV_2D (int8 weights) -> y."""
    r = np.random.default_rng(1)
    c = out_shape[-1]
    wq = r.integers(-127, 128, (5, 1, 1, c)).astype(np.int8)
    return chain_model(("x", list(x_shape)), [
        (op, [dict(name="w", data=w), dict(name="b", data=b)], ("f", list(out_shape)), options),
        ("CONV_2D", [dict(name="wq", data=wq, quantization=([0.02], [0])),
                     dict(name="bq", data=np.zeros(5, np.float32))], ("y", out_shape[:3] + [5]),
         dict(padding="VALID", stride_h=1, stride_w=1))])


def tensors(ip, content, feed):
    names = {t.name: i for i, t in enumerate(parse(content).subgraphs[0].tensors)}
    ip.allocate_tensors()
    ip.set_tensor(ip.get_input_details()[0]["index"], feed)
    ip.invoke()
    return ip.get_tensor(names["f"]), ip.get_tensor(names["y"])


def assert_bit_exact(content, x):
    for resolver in ("builtin", "ref"):
        want = tensors(litert_interpreter(content, resolver, experimental_preserve_all_tensors=True), content, x)
        kind = tinylite.OpResolverType.BUILTIN_REF if resolver == "ref" else tinylite.OpResolverType.BUILTIN
        # The plan as invoke runs it (no preserve_all_tensors): the float op is a graph-inner tensor,
        # so the hybrid output shows whether the float op summed in LiteRT's order.
        ip = tinylite.Interpreter(model_content=content, experimental_op_resolver_type=kind)
        ip.allocate_tensors()
        ip.set_tensor(ip.get_input_details()[0]["index"], x)
        ip.invoke()
        np.testing.assert_array_equal(ip.get_tensor(ip.get_output_details()[0]["index"]), want[1],
                                      err_msg=f"{resolver}: hybrid output")
        got = tensors(tinylite.Interpreter(model_content=content, experimental_op_resolver_type=kind,
                                           experimental_preserve_all_tensors=True), content, x)
        np.testing.assert_array_equal(got[0], want[0], err_msg=f"{resolver}: float op")
        np.testing.assert_array_equal(got[1], want[1], err_msg=f"{resolver}: hybrid op")


# (batch, h, w, cin, cout, kh, kw, stride, dilation, padding): whole 8-channel packets, a
# half packet (cout % 8 >= 4), one output pixel (matrix-vector), one output channel, depths
# past Eigen's block (1024, 1100 taps), pixels not in whole groups of 4, dilation, a batch.
CONV_CASES = [
    (1, 96, 96, 3, 16, 3, 3, 2, 1, "SAME"),
    (1, 12, 12, 48, 8, 1, 1, 1, 1, "VALID"),
    (1, 8, 8, 16, 12, 1, 1, 1, 1, "VALID"),
    (1, 7, 7, 21, 4, 1, 1, 1, 1, "VALID"),
    (1, 9, 9, 5, 20, 3, 3, 1, 1, "SAME"),
    (1, 1, 1, 100, 8, 1, 1, 1, 1, "VALID"),
    (1, 3, 3, 37, 7, 3, 3, 1, 1, "VALID"),
    (1, 13, 13, 3, 1, 3, 3, 1, 1, "SAME"),
    (1, 4, 4, 1024, 8, 1, 1, 1, 1, "VALID"),
    (1, 5, 5, 1100, 16, 1, 1, 1, 1, "VALID"),
    (1, 11, 10, 6, 8, 3, 2, 1, 2, "SAME"),
    (2, 6, 6, 8, 24, 3, 3, 2, 1, "SAME"),
]


@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: "x".join(map(str, c[:8])) + f"d{c[8]}{c[9][0]}")
def test_conv_2d_before_a_hybrid_op_sums_as_litert(case):
    n, h, wd, cin, cout, kh, kw, s, d, pad = case
    r = np.random.default_rng(0)
    x = r.standard_normal((n, h, wd, cin)).astype(np.float32)
    w = r.standard_normal((cout, kh, kw, cin)).astype(np.float32)
    b = r.standard_normal(cout).astype(np.float32)
    ekh, ekw = (kh - 1) * d + 1, (kw - 1) * d + 1
    oh, ow = (-(-h // s), -(-wd // s)) if pad == "SAME" else ((h - ekh) // s + 1, (wd - ekw) // s + 1)
    content = hybrid_after(x.shape, "CONV_2D", w, b, dict(padding=pad, stride_h=s, stride_w=s, dilation_h_factor=d,
                                                          dilation_w_factor=d, fused_activation_function="RELU6"),
                           [n, oh, ow, cout])
    assert_bit_exact(content, x)


# (h, w, cin, multiplier, k, stride, dilation)
DEPTHWISE_CASES = [(48, 48, 16, 1, 3, 1, 1), (24, 24, 48, 1, 3, 2, 1), (9, 9, 5, 3, 3, 2, 1), (9, 9, 7, 1, 5, 1, 1),
                   (10, 10, 6, 2, 3, 1, 2), (8, 8, 1, 8, 3, 1, 1)]


@pytest.mark.parametrize("case", DEPTHWISE_CASES, ids=lambda c: "x".join(map(str, c)))
def test_depthwise_before_a_hybrid_op_sums_as_litert(case):
    h, wd, cin, m, k, s, d = case
    r = np.random.default_rng(0)
    x = r.standard_normal((1, h, wd, cin)).astype(np.float32)
    w = r.standard_normal((1, k, k, cin * m)).astype(np.float32)
    b = r.standard_normal(cin * m).astype(np.float32)
    content = hybrid_after(x.shape, "DEPTHWISE_CONV_2D", w, b,
                           dict(padding="SAME", stride_h=s, stride_w=s, depth_multiplier=m, dilation_h_factor=d,
                                dilation_w_factor=d, fused_activation_function="RELU6"),
                           [1, -(-h // s), -(-wd // s), cin * m])
    assert_bit_exact(content, x)


def test_only_ops_feeding_a_hybrid_op_are_marked():
    r = np.random.default_rng(0)
    w = r.standard_normal((4, 1, 1, 4)).astype(np.float32)
    b = np.zeros(4, np.float32)
    conv = ("CONV_2D", [dict(name="w", data=w), dict(name="b", data=b)], ("f", [1, 3, 3, 4]),
            dict(padding="VALID", stride_h=1, stride_w=1))
    hybrid = ("CONV_2D", [dict(name="wq", data=np.ones((4, 1, 1, 4), np.int8), quantization=([0.1], [0])),
                          dict(name="bq", data=b)], ("h", [1, 3, 3, 4]), dict(padding="VALID", stride_h=1, stride_w=1))
    after = ("CONV_2D", [dict(name="w2", data=w), dict(name="b2", data=b)], ("g", [1, 3, 3, 4]),
             dict(padding="VALID", stride_h=1, stride_w=1))
    model = parse(chain_model(("x", [1, 3, 3, 4]), [conv, hybrid, after]))
    assert feeding_hybrid_ops(model, model.subgraphs[0]) == {0}
    model = parse(chain_model(("x", [1, 3, 3, 4]), [conv, after]))          # no hybrid op: nothing changes
    assert feeding_hybrid_ops(model, model.subgraphs[0]) == set()


def test_depth_blocks_follow_eigens_split():
    assert depth_blocks(1016) == [(0, 1016)]
    assert depth_blocks(1024) == [(0, 520), (520, 1024)]
    assert depth_blocks(1100) == [(0, 552), (552, 1100)]
    assert depth_blocks(2032) == [(0, 1016), (1016, 2032)]
