"""Optimized kernels (tinylite/kernels/optimized) against the reference
kernels of the same ops, bit-exact, on random shapes, geometries and
quantization parameters (including multipliers with large right shifts,
uint8 filter zero points, float64 accumulation past 2**24 and gemmlowp
channel tails).  The LiteRT differential tests of each op run the optimized
kernels too (they are the default)."""
import numpy as np
import pytest

import tinylite
from tinylite.kernels import optimized
from tinylite.testing import chain_model, single_op_model

INFO = {np.int8: np.iinfo(np.int8), np.uint8: np.iinfo(np.uint8)}


def run(content, xs, reference):
    def go():
        ip = tinylite.Interpreter(model_content=content)
        ip.allocate_tensors()
        for d, x in zip(ip.get_input_details(), xs):
            ip.set_tensor(d["index"], x)
        ip.invoke()
        ip.invoke()          # buffers reused across invokes give the same answer
        kernels = [f"{s[0].__module__}.{s[0].__name__}" for s in ip._runner(0).steps]
        return [ip.get_tensor(d["index"]).copy() for d in ip.get_output_details()], kernels

    if reference:
        with optimized.reference_kernels():
            return go()
    return go()


def assert_optimized_matches(content, xs):
    fast, kernels = run(content, xs, False)
    assert any(k.startswith("tinylite.kernels.optimized") for k in kernels), f"no optimized kernel ran: {kernels}"
    if "tinylite.kernels.optimized.add.eval_scalar_broadcast" in kernels:
        # LiteRT's optimized scalar-broadcast ADD rounds unlike its reference (optimized/add.py):
        # its oracle is LiteRT's default resolver.
        from oracle import run_litert

        for a, b in zip(fast, run_litert(content, xs)):
            np.testing.assert_array_equal(a, b)
        return
    ref, ref_kernels = run(content, xs, True)
    assert not any(k.startswith("tinylite.kernels.optimized") for k in ref_kernels)
    for a, b in zip(fast, ref):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)


def qdesc(name, shape, dtype, scale, zero_point):
    return dict(name=name, shape=list(shape), dtype=dtype, quantization=(float(scale), int(zero_point)))


def case_params(rng, dtype):
    zp = int(rng.integers(-30, 31)) + (128 if dtype == np.uint8 else 0)
    return float(rng.uniform(0.005, 0.05)), zp


def random_geometry(rng):
    k = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    # inputs of at least 7 pixels a side: no empty output even VALID with dilation 2
    return dict(padding=str(rng.choice(["SAME", "VALID"])), stride_h=int(rng.integers(1, 3)),
                stride_w=int(rng.integers(1, 3)), dilation_h_factor=int(rng.integers(1, 3)),
                dilation_w_factor=int(rng.integers(1, 3)),
                fused_activation_function=str(rng.choice(["NONE", "RELU", "RELU6"]))), k


def out_scale(rng, xs, ws, depth):
    # From tiny multipliers (right shifts past 20) to ones that saturate often.
    return xs * float(np.mean(ws)) * np.sqrt(depth) * float(10.0 ** rng.uniform(0.5, 5))


@pytest.mark.parametrize("seed", range(24))
def test_conv_2d(seed):
    rng = np.random.default_rng(seed)
    dtype = np.int8 if seed % 3 else np.uint8
    options, (kh, kw) = random_geometry(rng)
    if seed % 4 == 0:                                    # the pointwise layout
        kh = kw = 1
        options.update(stride_h=1, stride_w=1, padding="VALID")
    n, h, w, cin, cout = 1 + seed % 2, int(rng.integers(7, 12)), int(rng.integers(7, 12)), \
        int(rng.integers(1, 20)), int(rng.integers(1, 20))
    if seed == 5:
        cin, kh, kw = 2600, 1, 1                         # sums past 2**24: float64 products
    i = INFO[dtype]
    x = rng.integers(i.min, i.max + 1, (n, h, w, cin)).astype(dtype)
    wdata = rng.integers(-127 if dtype == np.int8 else 0, 128 if dtype == np.int8 else 256,
                         (cout, kh, kw, cin)).astype(dtype)
    xs, xzp = case_params(rng, dtype)
    per_channel = dtype == np.int8 and seed % 2 == 0
    ws = rng.uniform(0.002, 0.01, cout if per_channel else 1).astype(np.float32)
    wq = (ws, np.zeros(len(ws), np.int64), 0) if dtype == np.int8 else (ws, int(rng.integers(100, 156)))
    b = rng.integers(-30000, 30000, cout).astype(np.int32)
    osc = out_scale(rng, xs, ws, kh * kw * cin)
    if seed % 4 == 1 and per_channel:
        # A dead channel as real models have them: a multiplier of 2**-27 (right shift 26: the zero
        # point goes in after the shift) and a bias near 2**30.
        ws[0], b[0] = osc * 2.0**-27 / xs, (1 << 30) - 64
    bscale = (np.float32(xs) * ws).astype(np.float32)
    content = single_op_model(
        "CONV_2D", [qdesc("x", x.shape, dtype, xs, xzp), dict(name="w", data=wdata, quantization=wq),
                    dict(name="b", data=b, quantization=(bscale, np.zeros(len(bscale), np.int64), 0))],
        [qdesc("y", [1], dtype, osc, case_params(rng, dtype)[1])], options=options)
    assert_optimized_matches(content, [x])


def test_conv_2d_row_major_filter_across_resizes():
    """The integer CONV_2D's filter matrix turns row-major at the first invoke (_gemm._row_major);
    buffers bound after that (a resized input) multiply by it as it is: results stay the
    reference's before and after the resize."""
    from tinylite.kernels.optimized import _gemm

    rng = np.random.default_rng(3)
    cin, cout = 96, 128
    assert cin * cout > _gemm.ROW_MAJOR_AT_ONCE_MAX          # (smaller ones turn row-major when bound)
    wdata = rng.integers(-127, 128, (cout, 1, 1, cin)).astype(np.int8)
    ws = rng.uniform(0.002, 0.01, cout).astype(np.float32)
    b = rng.integers(-30000, 30000, cout).astype(np.int32)
    xs, osc = 0.02, 0.02 * 0.006 * np.sqrt(cin) * 30
    content = single_op_model(
        "CONV_2D", [qdesc("x", (1, 5, 6, cin), np.int8, xs, 3), dict(name="w", data=wdata, quantization=(ws, np.zeros(cout, np.int64), 0)),
                    dict(name="b", data=b, quantization=((np.float32(xs) * ws).astype(np.float32), np.zeros(cout, np.int64), 0))],
        [qdesc("y", [1], np.int8, osc, -4)], options=dict(padding="VALID", stride_h=1, stride_w=1))

    def outputs(ip, shapes):
        got = []
        for shape in shapes:
            ip.resize_tensor_input(0, shape)
            ip.allocate_tensors()
            x = rng.integers(-128, 128, shape).astype(np.int8)
            ip.set_tensor(ip.get_input_details()[0]["index"], x)
            ip.invoke()
            got.append(ip.get_tensor(ip.get_output_details()[0]["index"]).copy())
        return got

    shapes = [(1, 5, 6, cin), (2, 9, 7, cin), (1, 3, 3, cin)]
    ip = tinylite.Interpreter(model_content=content)
    state = rng.bit_generator.state
    fast = outputs(ip, shapes)
    (_, node, _, _), = ip._runner(0).steps
    assert node.data.opt_conv["wmat"].flags.c_contiguous
    assert any(getattr(c, "func", None) is _gemm._dot_filter for c in node.cache["opt_conv_bufs"].calls)
    rng.bit_generator.state = state
    with optimized.reference_kernels():
        ref = outputs(tinylite.Interpreter(model_content=content), shapes)
    for a, r in zip(fast, ref):
        np.testing.assert_array_equal(a, r)


@pytest.mark.parametrize("seed", range(24))
def test_depthwise_conv_2d(seed):
    rng = np.random.default_rng(100 + seed)
    dtype = np.int8 if seed % 3 else np.uint8
    options, (kh, kw) = random_geometry(rng)
    cin = 1 if seed % 5 == 0 else int(rng.integers(1, 24))
    m = int(rng.choice([1, 1, 2, 3])) if cin > 1 else int(rng.integers(1, 40))
    cout = cin * m
    n, h, w = 1 + seed % 2, int(rng.integers(7, 14)), int(rng.integers(7, 14))
    i = INFO[dtype]
    x = rng.integers(i.min, i.max + 1, (n, h, w, cin)).astype(dtype)
    wdata = rng.integers(-127 if dtype == np.int8 else 0, 128 if dtype == np.int8 else 256,
                         (1, kh, kw, cout)).astype(dtype)
    xs, xzp = case_params(rng, dtype)
    ws = rng.uniform(0.002, 0.01, cout if dtype == np.int8 else 1).astype(np.float32)
    wq = (ws, np.zeros(len(ws), np.int64), 3) if dtype == np.int8 else (ws, int(rng.integers(100, 156)))
    b = rng.integers(-30000, 30000, cout).astype(np.int32)
    osc = out_scale(rng, xs, ws, kh * kw)
    if seed % 4 == 1 and dtype == np.int8:
        ws[0], b[0] = osc * 2.0**-27 / xs, (1 << 30) - 64    # a dead channel (see test_conv_2d)
    bscale = (np.float32(xs) * ws).astype(np.float32)
    options["depth_multiplier"] = m
    content = single_op_model(
        "DEPTHWISE_CONV_2D", [qdesc("x", x.shape, dtype, xs, xzp), dict(name="w", data=wdata, quantization=wq),
                              dict(name="b", data=b, quantization=(bscale, np.zeros(len(bscale), np.int64), 0))],
        [qdesc("y", [1], dtype, osc, case_params(rng, dtype)[1])], options=options)
    assert_optimized_matches(content, [x])


@pytest.mark.parametrize("seed", range(12))
def test_binary_8bit(seed):
    rng = np.random.default_rng(200 + seed)
    op = ["ADD", "SUB", "MUL"][seed % 3]
    dtype = np.int8 if seed % 4 else np.uint8
    shapes = [((2, 5, 6, 3), (2, 5, 6, 3)), ((1, 4, 4, 8), (1, 1, 1, 8)), ((1, 7, 3), ()), ((3, 1, 4), (1, 5, 1))]
    xshape, yshape = shapes[seed % 4]
    out_shape = np.broadcast_shapes(xshape, yshape)
    i = INFO[dtype]
    xs = [rng.integers(i.min, i.max + 1, s).astype(dtype) for s in (xshape, yshape)]
    (sx, zx), (sy, zy), (so, zo) = (case_params(rng, dtype) for _ in range(3))
    so *= 4 if op == "MUL" else 1.5
    act = str(rng.choice(["NONE", "RELU", "RELU6"]))
    content = single_op_model(op, [qdesc("x", xshape, dtype, sx, zx), qdesc("y", yshape, dtype, sy, zy)],
                              [qdesc("z", out_shape, dtype, so, zo)], options=dict(fused_activation_function=act))
    assert_optimized_matches(content, xs)


@pytest.mark.parametrize("seed", range(16))
def test_depthwise_conv_2d_float(seed):
    # Float sums run in einsum's order: equal to the reference within float32 rounding.
    rng = np.random.default_rng(300 + seed)
    options, (kh, kw) = random_geometry(rng)
    options["stride_w"] = 1 + seed % 3                         # phases of the width stride: 1, 2, 3
    cin = int(rng.integers(1, 24))
    m = int(rng.choice([1, 1, 2])) if seed % 4 else 1
    options["depth_multiplier"] = m
    n, h, w = 1 + seed % 2, int(rng.integers(7, 14)), int(rng.integers(7, 14))
    x = rng.standard_normal((n, h, w, cin)).astype(np.float32)
    wdata = rng.standard_normal((1, kh, kw, cin * m)).astype(np.float32)
    inputs = [("x", x.shape), dict(name="w", data=wdata)]
    if seed % 3:
        inputs.append(dict(name="b", data=rng.standard_normal(cin * m).astype(np.float32)))
    content = single_op_model("DEPTHWISE_CONV_2D", inputs, [("y", [1])], options=options)
    fast, kernels = run(content, [x], False)
    assert "tinylite.kernels.optimized.depthwise_conv_2d.eval_float" in kernels, kernels
    ref, _ = run(content, [x], True)
    np.testing.assert_allclose(fast[0], ref[0], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("padding,stride,act,batch", [("SAME", 1, "RELU", 1), ("VALID", 2, "NONE", 2),
                                                      ("SAME", 2, "RELU6", 1)])
def test_conv_2d_float_large_im2col(monkeypatch, padding, stride, act, batch):
    # An im2col matrix above optimized.conv_2d.MAX_IM2COL_BYTES runs in chunks of rows (the limits
    # lowered here so that small inputs take several chunks).
    from oracle import assert_same_outputs
    from tinylite.kernels.optimized import conv_2d

    monkeypatch.setattr(conv_2d, "MAX_IM2COL_BYTES", 1 << 16)
    monkeypatch.setattr(conv_2d, "CHUNK_BYTES", 1 << 14)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((batch, 30, 28, 8)).astype(np.float32)
    w = rng.standard_normal((6, 5, 5, 8)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    content = single_op_model("CONV_2D", [("x", x.shape), dict(name="w", data=w), dict(name="b", data=b)],
                              [("y", [1])], options=dict(padding=padding, stride_h=stride, stride_w=stride,
                                                         fused_activation_function=act))
    fast, kernels = run(content, [x], False)
    assert "tinylite.kernels.optimized.conv_2d.eval_float_chunked" in kernels, kernels
    ref, _ = run(content, [x], True)
    np.testing.assert_allclose(fast[0], ref[0], rtol=1e-5, atol=1e-5)
    assert_same_outputs(content, [x])


@pytest.mark.parametrize("seed", range(12))
def test_fully_connected(seed):
    rng = np.random.default_rng(400 + seed)
    dtype = np.int8 if seed % 3 else np.uint8
    rows, depth, units = [(1, 16, 10), (3, 40, 7), (5, 9, 64), (2, 300, 33)][seed % 4]
    i = INFO[dtype]
    x = rng.integers(i.min, i.max + 1, (rows, depth)).astype(dtype)
    wdata = rng.integers(-127 if dtype == np.int8 else 0, 128 if dtype == np.int8 else 256,
                         (units, depth)).astype(dtype)
    xs, xzp = case_params(rng, dtype)
    per_channel = dtype == np.int8 and seed % 2 == 0
    ws = rng.uniform(0.002, 0.01, units if per_channel else 1).astype(np.float32)
    wq = (ws, np.zeros(len(ws), np.int64), 0) if dtype == np.int8 else (ws, int(rng.integers(100, 156)))
    osc = out_scale(rng, xs, ws, depth)
    b = rng.integers(-30000, 30000, units).astype(np.int32)
    if per_channel and seed % 4 == 0:
        ws[0], b[0] = osc * 2.0**-27 / xs, (1 << 30) - 64    # a dead unit (see test_conv_2d)
    bscale = (np.float32(xs) * ws).astype(np.float32)
    act = str(rng.choice(["NONE", "RELU", "RELU6"]))
    content = single_op_model(
        "FULLY_CONNECTED", [qdesc("x", x.shape, dtype, xs, xzp), dict(name="w", data=wdata, quantization=wq),
                            dict(name="b", data=b, quantization=(bscale, np.zeros(len(bscale), np.int64), 0))],
        [qdesc("y", [rows, units], dtype, osc, case_params(rng, dtype)[1])],
        options=dict(fused_activation_function=act))
    assert_optimized_matches(content, [x])


def _conv_pool_chain(rng, dtype, shape, cout, options, k, pool, pool_act="NONE", pool_zp=None):
    """CONV_2D -> MAX_POOL_2D (pool = filter = stride, VALID), 8-bit, random weights and scales."""
    i = INFO[dtype]
    cin = shape[-1]
    wdata = rng.integers(-127 if dtype == np.int8 else 0, 128 if dtype == np.int8 else 256,
                         (cout, k[0], k[1], cin)).astype(dtype)
    xs, xzp = case_params(rng, dtype)
    per_channel = dtype == np.int8
    ws = rng.uniform(0.002, 0.01, cout if per_channel else 1).astype(np.float32)
    wq = (ws, np.zeros(len(ws), np.int64), 0) if per_channel else (ws, int(rng.integers(100, 156)))
    b = rng.integers(-30000, 30000, cout).astype(np.int32)
    osc = out_scale(rng, xs, ws, k[0] * k[1] * cin)
    ozp = case_params(rng, dtype)[1]
    bscale = (np.float32(xs) * ws).astype(np.float32)
    content = chain_model(qdesc("x", shape, dtype, xs, xzp), [
        ("CONV_2D", [dict(name="w", data=wdata, quantization=wq),
                     dict(name="b", data=b, quantization=(bscale, np.zeros(len(bscale), np.int64), 0))],
         qdesc("c", [1], dtype, osc, ozp), options),
        ("MAX_POOL_2D", [], qdesc("p", [1], dtype, osc, ozp if pool_zp is None else pool_zp),
         dict(padding="VALID", filter_height=pool[0], filter_width=pool[1], stride_h=pool[0], stride_w=pool[1],
              fused_activation_function=pool_act))])
    return content, rng.integers(i.min, i.max + 1, shape).astype(dtype)


def _check_conv_pool(content, x, fused):
    from oracle import assert_same_outputs
    from tinylite.kernels.optimized import _gemm

    ip = tinylite.Interpreter(model_content=content)
    ip.allocate_tensors()
    fns = [fn for fn, _, _, _ in ip._runner(0).steps]
    assert (fns == [_gemm.eval_int_max_pooled]) == fused, fns
    # Unfused (every intermediate kept, so no rewrite), reference kernels, and LiteRT: all equal.
    want, _ = run(content, [x], True)
    plain = tinylite.Interpreter(model_content=content, experimental_preserve_all_tensors=True)
    for interp in (ip, plain):
        interp.allocate_tensors()
        interp.set_tensor(0, x)
        for _ in range(2):
            interp.invoke()
            np.testing.assert_array_equal(interp.get_tensor(interp.get_output_details()[0]["index"]), want[0])
    assert_same_outputs(content, [x])


@pytest.mark.parametrize("seed", range(12))
def test_conv_2d_max_pool_fused(seed):
    """The conv_max_pool rewrite on integer convolutions (optimized/_gemm.fuse_max_pool):
    the accumulators pooled, then requantized; random geometries, activations on both ops,
    pools that drop the conv's last rows or columns, int8 per-channel and uint8."""
    rng = np.random.default_rng(300 + seed)
    dtype = np.int8 if seed % 3 else np.uint8
    options, k = random_geometry(rng)
    pool = (int(rng.integers(1, 4)), int(rng.integers(2, 4)))
    shape = (1 + seed % 2, int(rng.integers(8, 15)), int(rng.integers(8, 15)), int(rng.integers(1, 12)))
    act = str(rng.choice(["NONE", "RELU", "RELU6"]))
    content, x = _conv_pool_chain(rng, dtype, shape, int(rng.integers(1, 20)), options, k, pool, act)
    _check_conv_pool(content, x, True)


def test_conv_2d_max_pool_fused_in_chunks():
    """Enough rows for several chunks of pooled rows, with a shorter last one."""
    rng = np.random.default_rng(7)
    options = dict(padding="SAME", stride_h=1, stride_w=1, fused_activation_function="RELU")
    content, x = _conv_pool_chain(rng, np.int8, (3, 46, 38, 5), 40, options, (3, 3), (2, 2))
    ip = tinylite.Interpreter(model_content=content)
    ip.allocate_tensors()
    ip.invoke()
    (_, node, _, _), = ip._runner(0).steps
    from tinylite.kernels.optimized import _gemm

    # (the products read a row-major filter made at the first invoke through _dot_filter)
    dots = [c for c in node.cache["opt_conv_pooled_bufs"].calls if getattr(c, "func", None) in (np.dot, _gemm._dot_filter)]
    assert len(dots) > 2 and dots[-1].args[0].shape[0] < dots[0].args[0].shape[0]
    _check_conv_pool(content, x, True)


@pytest.mark.parametrize("act", ["NONE", "RELU"])
def test_conv_2d_max_pool_fused_scaled_in_chunks(act):
    """A fused conv + pool with few terms per output and many filters (the scaled float64 product,
    the pool's maximum over its float values), in several chunks with a shorter last one."""
    from tinylite.kernels.optimized import _gemm

    rng = np.random.default_rng(11)
    options = dict(padding="SAME", stride_h=1, stride_w=1, fused_activation_function=act)
    content, x = _conv_pool_chain(rng, np.int8, (2, 40, 36, 2), 40, options, (3, 3), (2, 2), pool_act=act)
    ip = tinylite.Interpreter(model_content=content)
    ip.allocate_tensors()
    (_, node, _, _), = ip._runner(0).steps
    dots = [c for c in node.cache["opt_conv_pooled_bufs"].calls if getattr(c, "func", None) is np.dot]
    assert len(dots) > 2 and all(c.args[1].dtype == np.float64 and c.args[1].shape == (19, 40) for c in dots)
    assert dots[-1].args[0].shape[0] < dots[0].args[0].shape[0]
    _check_conv_pool(content, x, True)


def test_small_integer_conv_filter_is_row_major_when_bound():
    """A small filter is copied row-major at bind time: the products are plain np.dot calls
    (no first-invoke check, no wrapper), with the reference's results."""
    from tinylite.kernels.optimized import _gemm

    rng = np.random.default_rng(9)
    options = dict(padding="SAME", stride_h=1, stride_w=1, fused_activation_function="RELU")
    content, x = _conv_pool_chain(rng, np.int8, (1, 8, 8, 16), 32, options, (3, 3), (2, 2))
    ip = tinylite.Interpreter(model_content=content)
    ip.allocate_tensors()
    (_, node, _, _), = ip._runner(0).steps
    calls = node.cache["opt_conv_pooled_bufs"].calls
    assert [c.func for c in calls if getattr(c, "func", None) in (np.dot, _gemm._dot_filter)] == [np.dot]
    assert node.data.opt_conv["wmat"].flags.c_contiguous
    _check_conv_pool(content, x, True)


def test_conv_2d_max_pool_with_disjoint_clamps_is_not_fused():
    """A pool whose own clamp (from its output's zero point) misses the conv's whole range:
    the two clamps in turn give the pool's bound, which one clamp of the conv's output
    would not, so the two ops run as two steps."""
    rng = np.random.default_rng(8)
    options = dict(padding="VALID", stride_h=1, stride_w=1, fused_activation_function="RELU")
    content, x = _conv_pool_chain(rng, np.int8, (1, 9, 9, 3), 4, options, (3, 3), (2, 2), "RELU_N1_TO_1", -128)
    _check_conv_pool(content, x, False)
