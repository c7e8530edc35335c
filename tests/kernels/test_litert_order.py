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


def assert_bit_exact(content, x, resolvers=("builtin", "ref")):
    for resolver in resolvers:
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


def _before_hybrid_conv(x_shape, float_op, channels):
    """x -> `float_op` (a chain_model step writing tensor "f") -> hybrid 1x1 CONV_2D -> y."""
    wq = np.random.default_rng(1).integers(-127, 128, (5, 1, 1, channels)).astype(np.int8)
    out = list(float_op[2][1])
    return chain_model(("x", list(x_shape)), [
        float_op,
        ("CONV_2D", [dict(name="wq", data=wq, quantization=([0.02], [0])), dict(name="bq", data=np.zeros(5, np.float32))],
         ("y", out[:3] + [5]), dict(padding="VALID", stride_h=1, stride_w=1))])


def test_logistic_before_a_hybrid_op_is_litert_s():
    """A float LOGISTIC a hybrid op quantizes (EfficientNet's swish) runs LiteRT's own sigmoid:
    Eigen's under the default resolver, the reference kernel's (exp(x) below -9) under BUILTIN_REF,
    bit for bit, so the hybrid op's output is exact too."""
    r = np.random.default_rng(3)
    x = (r.standard_normal((1, 6, 6, 8)) * 7).astype(np.float32)
    x.reshape(-1)[:6] = [-120, -104.5, -9.5, 16.7, 40, 0]
    content = _before_hybrid_conv(x.shape, ("LOGISTIC", [], ("f", list(x.shape)), None), 8)
    assert_bit_exact(content, x)


def test_tanh_before_a_hybrid_op_is_eigen_s():
    """A float TANH a hybrid op quantizes runs Eigen's tanh as LiteRT's default kernel does (its
    fast-math rational approximation, products rounded apart), bit for bit.  Under the reference
    resolver LiteRT calls glibc's tanhf, which rounding numpy's or float64's tanh does not
    reproduce (a quarter of values differ by an ulp): not covered."""
    r = np.random.default_rng(4)
    x = (r.standard_normal((1, 6, 6, 8)) * 3).astype(np.float32)
    x.reshape(-1)[:6] = [-30, -7.95, 7.9, 0, -0.0, 1e-40]
    content = _before_hybrid_conv(x.shape, ("TANH", [], ("f", list(x.shape)), None), 8)
    assert_bit_exact(content, x, resolvers=("builtin",))


@pytest.mark.parametrize("channels", [8, 6, 3])
def test_hybrid_depthwise_scales_as_litert(channels):
    """A per-channel hybrid DEPTHWISE_CONV_2D (EfficientNet's, dynamic-range) scales its sums as
    LiteRT's x86 build does: channels in whole groups of 4 by (sum x channel scale) x image scale,
    the last channels % 4 by (sum x image scale) x channel scale (its NEON loop and its scalar
    tail), bit for bit, so the hybrid op after it quantizes the same values."""
    r = np.random.default_rng(channels)
    x = (r.standard_normal((1, 9, 9, channels)) * 3).astype(np.float32)
    w = r.integers(-127, 128, (1, 3, 3, channels)).astype(np.int8)
    scales = r.uniform(0.001, 0.05, channels).astype(np.float32)
    dw = ("DEPTHWISE_CONV_2D", [dict(name="w", data=w, quantization=(scales, np.zeros(channels, np.int64), 3)),
                                dict(name="b", data=r.standard_normal(channels).astype(np.float32))],
          ("f", [1, 5, 5, channels]), dict(padding="SAME", stride_h=2, stride_w=2, depth_multiplier=1))
    assert_bit_exact(_before_hybrid_conv(x.shape, dw, channels), x)


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
