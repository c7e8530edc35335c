"""Fast kernel paths agree with the plain reference paths beside them, across
repeated invokes (their cached buffers must follow the input)."""
import numpy as np
import pytest

import tinylite
from tinylite.kernels import average_pool_2d, conv_2d, max_pool_2d, prelu
from tinylite.kernels.optimized import average_pool_2d as fast_average_pool
from tinylite.kernels.optimized import conv_2d as fast_conv
from tinylite.kernels.optimized import max_pool_2d as fast_max_pool
from tinylite.kernels.optimized import prelu as fast_prelu
from tinylite.testing import chain_model, single_op_model

rng = np.random.default_rng(7)


def prepared(content, x):
    ip = tinylite.Interpreter(model_content=content)
    ip.resize_tensor_input(0, x.shape)
    ip.allocate_tensors()
    (fn, node, ins, outs), = ip._runner(0).steps
    return ip, fn, node, ins, outs


# cin 1 and 3 take the transposed im2col layout, 6 the row-major one.
@pytest.mark.parametrize("cin", [1, 3, 6])
@pytest.mark.parametrize("padding,stride,dilation", [("SAME", 1, 1), ("VALID", 1, 1), ("SAME", 2, 1), ("VALID", 3, 1),
                                                     ("SAME", 1, 2)])
def test_conv_fast_equals_reference(cin, padding, stride, dilation):
    x = rng.standard_normal((2, 9, 7, cin)).astype(np.float32)
    w = rng.standard_normal((5, 3, 2, cin)).astype(np.float32)
    b = rng.standard_normal(5).astype(np.float32)
    content = single_op_model("CONV_2D", [("x", [1, 9, 7, cin]), dict(name="w", data=w), dict(name="b", data=b)],
                              [("y", [1])], options=dict(padding=padding, stride_h=stride, stride_w=stride,
                                                         dilation_h_factor=dilation, dilation_w_factor=dilation,
                                                         fused_activation_function="RELU6"))
    ip, fn, node, ins, outs = prepared(content, x)
    assert fn is fast_conv.eval_float_fast
    for _ in range(3):
        x = rng.standard_normal(x.shape).astype(np.float32)
        ip.set_tensor(0, x)
        ip.invoke()
        fast = outs[0].copy()
        conv_2d.eval_float(node, ins, outs)
        np.testing.assert_allclose(fast, outs[0], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("module,fast,op", [(max_pool_2d, fast_max_pool, "MAX_POOL_2D"),
                                            (average_pool_2d, fast_average_pool, "AVERAGE_POOL_2D")])
@pytest.mark.parametrize("padding,filt,stride", [("SAME", (3, 3), 2), ("VALID", (2, 2), 2), ("SAME", (2, 2), 1),
                                                 ("VALID", (3, 3), 1), ("SAME", (1, 3), 2), ("VALID", (3, 1), 1),
                                                 ("VALID", (1, 1), 2)])
def test_pool_fast_equals_reference(module, fast, op, padding, filt, stride):
    x = rng.standard_normal((2, 11, 8, 4)).astype(np.float32)
    content = single_op_model(op, [("x", [1, 11, 8, 4])], [("y", [1])],
                              options=dict(padding=padding, filter_height=filt[0], filter_width=filt[1],
                                           stride_h=stride, stride_w=stride, fused_activation_function="RELU"))
    ip, fn, node, ins, outs = prepared(content, x)
    assert fn is fast.eval_float_fast
    for _ in range(3):
        x = rng.standard_normal(x.shape).astype(np.float32)
        ip.set_tensor(0, x)
        ip.invoke()
        fast = outs[0].copy()
        module.eval_float(node, ins, outs)
        np.testing.assert_array_equal(fast, outs[0])


@pytest.mark.parametrize("alpha_range", [(0.01, 1.0), (1.0, 3.0)])
@pytest.mark.parametrize("alpha_shape", [(5,), (1, 1, 5), (4, 3, 5)])
def test_prelu_fast_equals_reference(alpha_range, alpha_shape):
    x = rng.standard_normal((2, 4, 3, 5)).astype(np.float32)
    alpha = rng.uniform(*alpha_range, alpha_shape).astype(np.float32)
    alpha.flat[0] = alpha_range[0] if alpha_range[0] == 1 else 1.0     # the boundary value 1
    content = single_op_model("PRELU", [("x", [1, 4, 3, 5]), dict(name="alpha", data=alpha)], [("y", [1])])
    ip, fn, node, ins, outs = prepared(content, x)
    assert fn is fast_prelu.eval_float_fast
    for _ in range(2):
        x = rng.standard_normal(x.shape).astype(np.float32)
        x.flat[:3] = [np.inf, -np.inf, 0.0]
        ip.set_tensor(0, x)
        ip.invoke()
        fast = outs[0].copy()
        prelu.eval_float(node, ins, outs)
        np.testing.assert_array_equal(fast, outs[0])
        # In place (the output buffer is the input), as a fused plan could run it.
        inplace = x.copy()
        fast_prelu.eval_float_fast(node, [inplace, ins[1]], [inplace])
        np.testing.assert_array_equal(inplace, fast)


@pytest.mark.parametrize("alpha", [[0.0, 0.5], [0.5, 2.0], [0.5, np.inf]])
def test_prelu_keeps_reference_path_outside_the_exact_ranges(alpha):
    # alpha = 0 would give 0 * inf = NaN in max(x, alpha * x); mixed or infinite alphas
    # have no single-pass form: the general kernel runs the reference's four passes.
    alpha = np.array(alpha, np.float32)
    content = single_op_model("PRELU", [("x", [1, 3, 2]), dict(name="alpha", data=alpha)], [("y", [1])])
    _, fn, _, _, _ = prepared(content, np.zeros((1, 3, 2), np.float32))
    assert fn is fast_prelu.eval_float_general


@pytest.mark.parametrize("batch", [1, 5])
@pytest.mark.parametrize("model", ["fashion_cnn", "mnist_cnn", "rnet", "mlp5"])
def test_plan_rewrites_keep_corpus_outputs(corpus, model, batch):
    """The plan rewrites (conv + max pool fused, activations moved, reshapes
    aliased, biases in one-row products) change no output: the plan without
    them (every tensor preserved) gives the same values, and the rewrites did
    happen.  Batch 5 also runs Winograd's two chunk sizes."""
    content = (corpus / model / "tf_float.tflite").read_bytes()
    results, step_ops, bias_rows = {}, {}, {}
    for preserve in (False, True):
        ip = tinylite.Interpreter(model_content=content, experimental_preserve_all_tensors=preserve)
        shape = ip.get_input_details()[0]["shape"]
        ip.resize_tensor_input(0, [batch] + list(shape[1:]))
        ip.allocate_tensors()
        steps = ip._runner(0).steps
        step_ops[preserve] = [node.op_name for _, node, _, _ in steps]
        bias_rows[preserve] = sum(getattr(node.data, "bias_row", None) is not None for _, node, _, _ in steps)
        x = np.random.default_rng(1).standard_normal([batch] + list(shape[1:])).astype(np.float32)
        outs = []
        for _ in range(2):      # cached buffers must follow new input values
            x = x[::-1].copy()
            ip.set_tensor(0, x)
            ip.invoke()
            outs.append([ip.get_tensor(d["index"]) for d in ip.get_output_details()])
        results[preserve] = outs
    for fast, plain in zip(results[False], results[True]):
        for f, p in zip(fast, plain):
            np.testing.assert_allclose(f, p, rtol=1e-5, atol=1e-6 * np.abs(p).max())
    if model != "mlp5":
        assert "RESHAPE" in step_ops[True] and "RESHAPE" not in step_ops[False]
    if model not in ("rnet", "mlp5"):     # rnet's pools overlap (3x3, stride 2): no fusion there
        assert step_ops[True].count("MAX_POOL_2D") > 0 and "MAX_POOL_2D" not in step_ops[False]
    # At batch 1 the fully connected layers with a bias, all reading a computed
    # tensor, take their bias in the product (rnet's and mlp5's have none).
    layers = {"fashion_cnn": 2, "mnist_cnn": 2}.get(model, 0)
    assert bias_rows[True] == 0 and bias_rows[False] == (layers if batch == 1 else 0)


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("model", ["fashion_cnn", "mnist_cnn", "rnet", "mlp5"])
def test_bound_calls_are_the_kernels_calls(corpus, model, batch):
    """invoke runs the plan as bound calls (interpreter.tape); running each
    step's kernel instead gives bit-identical outputs."""
    ip = tinylite.Interpreter(model_path=str(corpus / model / "tf_float.tflite"))
    shape = ip.get_input_details()[0]["shape"]
    ip.resize_tensor_input(0, [batch] + list(shape[1:]))
    ip.allocate_tensors()
    runner = ip._runner(0)
    assert any(len(group) > 1 for group in runner.tape.groups) or model == "mlp5"
    x = np.random.default_rng(2).standard_normal([batch] + list(shape[1:])).astype(np.float32)
    ip.set_tensor(0, x)
    ip.invoke()
    bound = [ip.get_tensor(d["index"]) for d in ip.get_output_details()]
    ip.set_tensor(0, -x)
    ip.invoke()                      # other values in every buffer first
    ip.set_tensor(0, x)
    for fn, node, ins, outs in runner.steps:
        fn(node, ins, outs)
    for b, d in zip(bound, ip.get_output_details()):
        np.testing.assert_array_equal(b, ip.get_tensor(d["index"]))


def test_a_failing_bound_call_names_its_node(corpus):
    ip = tinylite.Interpreter(model_path=str(corpus / "fashion_cnn" / "tf_float.tflite"))
    ip.allocate_tensors()
    tape = ip._runner(0).tape
    k = len(tape.calls) - 2
    node = ip._runner(0).steps[tape.owner[k]][1]

    def fail():
        raise ValueError("operands could not be broadcast")
    tape.run.__globals__[f"c{k}"] = fail      # the plan function calls c0, c1, ... from its namespace
    with pytest.raises(RuntimeError, match=rf"Node number {node.index} \({node.op_name}\) failed to invoke: operands"):
        ip.invoke()


def test_a_failing_call_of_a_long_plan_names_its_node(corpus, monkeypatch):
    # Past MAX_COMPILED_CALLS the plan runs as a loop over its calls instead of a compiled function.
    from tinylite.interpreter import tape as tape_module

    monkeypatch.setattr(tape_module, "MAX_COMPILED_CALLS", 0)
    ip = tinylite.Interpreter(model_path=str(corpus / "fashion_cnn" / "tf_float.tflite"))
    ip.allocate_tensors()
    tape = ip._runner(0).tape
    k = len(tape.calls) - 2
    node = ip._runner(0).steps[tape.owner[k]][1]

    def fail():
        raise ValueError("operands could not be broadcast")
    tape.calls[k] = fail                      # the loop reads the list it was given
    with pytest.raises(RuntimeError, match=rf"Node number {node.index} \({node.op_name}\) failed to invoke: operands"):
        ip.invoke()
    tape.calls[k] = lambda: None
    ip.invoke()


def _conv_pool_model(cin, conv_padding, conv_stride, conv_act, pool, pool_padding, pool_act, hw=(12, 11)):
    (fh, fw), (sh, sw) = pool
    w = rng.standard_normal((5, 3, 3, cin)).astype(np.float32)
    b = rng.standard_normal(5).astype(np.float32)
    return chain_model(("x", [2, hw[0], hw[1], cin]), [
        ("CONV_2D", [dict(name="w", data=w), dict(name="b", data=b)], ("c", [1]),
         dict(padding=conv_padding, stride_h=conv_stride, stride_w=conv_stride, fused_activation_function=conv_act)),
        ("MAX_POOL_2D", [], ("p", [1]), dict(padding=pool_padding, filter_height=fh, filter_width=fw, stride_h=sh,
                                             stride_w=sw, fused_activation_function=pool_act)),
    ])


# (cin, conv padding, conv stride, conv activation, pool ((fh, fw), (sh, sw)), pool padding, pool activation, fused)
CONV_POOL_CASES = [
    (1, "VALID", 1, "RELU", ((2, 2), (2, 2)), "VALID", "NONE", True),
    (3, "SAME", 1, "RELU6", ((2, 2), (2, 2)), "VALID", "NONE", True),
    (6, "SAME", 2, "NONE", ((3, 2), (3, 2)), "VALID", "RELU", True),
    (6, "VALID", 1, "RELU_N1_TO_1", ((1, 3), (1, 3)), "VALID", "RELU6", True),
    (4, "SAME", 1, "RELU", ((2, 2), (2, 2)), "SAME", "NONE", True),     # 12x11: SAME pads the width
    (6, "SAME", 1, "RELU", ((3, 3), (2, 2)), "VALID", "NONE", False),   # overlapping windows
    (2, "VALID", 1, "RELU", ((3, 3), (3, 3)), "VALID", "NONE", True),   # few channels: offsets gathered first
    (1, "SAME", 2, "NONE", ((2, 2), (2, 2)), "VALID", "RELU", True),    # strided: one copy
]


@pytest.mark.parametrize("case", CONV_POOL_CASES, ids=lambda c: "-".join(map(str, c)))
def test_conv_max_pool_fusion_matches_litert(case):
    from oracle import assert_same_outputs

    *model_args, fused = case
    content = _conv_pool_model(*model_args)
    ip = tinylite.Interpreter(model_content=content)
    ip.allocate_tensors()
    fns = [fn for fn, _, _, _ in ip._runner(0).steps]
    cin, pool_padding, hw = model_args[0], model_args[5], (12, 11)
    # SAME pooling of an 11-wide conv output pads, which the fused step does not do.
    expect = fused and not (pool_padding == "SAME" and hw[1] % 2)
    assert (fns == [fast_conv.eval_float_max_pooled]) == expect, fns
    if expect:      # the im2col matrix's copies: the offsets first where they are few (see optimized/conv_2d._FastBuffers)
        (_, node, _, _), = ip._runner(0).steps
        assert len(node.cache["fast"].copies) == (2 if cin <= fast_conv.TRANSPOSED_MAX_CIN and model_args[2] == 1 else 1)
    for _ in range(2):
        x = rng.standard_normal((2, 12, 11, cin)).astype(np.float32)
        assert_same_outputs(content, [x])
        ip.set_tensor(0, x)
        ip.invoke()
        got = ip.get_tensor(ip.get_output_details()[0]["index"])
        plain = tinylite.Interpreter(model_content=content, experimental_preserve_all_tensors=True)
        plain.allocate_tensors()
        plain.set_tensor(0, x)
        plain.invoke()
        np.testing.assert_allclose(got, plain.get_tensor(plain.get_output_details()[0]["index"]), rtol=1e-5,
                                   atol=1e-5)


def test_reshape_of_a_graph_input_or_output_keeps_its_own_memory():
    """Only intermediates are aliased: a RESHAPE reading the graph input or
    writing the graph output stays a step, and its output owns its memory."""
    content = chain_model(("x", [1, 2, 6]), [
        ("RESHAPE", [dict(name="s1", data=np.array([1, 12], np.int32))], ("r1", [1, 12]), None),
        ("RELU", [], ("a", [1, 12]), None),
        ("RESHAPE", [dict(name="s2", data=np.array([3, 4], np.int32))], ("r2", [3, 4]), None),
        ("RELU", [], ("b", [3, 4]), None),
        ("RESHAPE", [dict(name="s3", data=np.array([12], np.int32))], ("y", [12]), None),
    ])
    ip = tinylite.Interpreter(model_content=content)
    ip.allocate_tensors()
    assert [node.op_name for _, node, _, _ in ip._runner(0).steps] == ["RESHAPE", "RELU", "RELU", "RESHAPE"]
    x = rng.standard_normal((1, 2, 6)).astype(np.float32)
    ip.set_tensor(0, x)
    ip.invoke()
    np.testing.assert_array_equal(ip.get_tensor(ip.get_output_details()[0]["index"]), np.maximum(x, 0).reshape(12))
    x2 = ip.get_tensor(0)
    np.testing.assert_array_equal(x2, x)        # the input was not overwritten through an alias


@pytest.mark.parametrize("batch", [4, 7])
@pytest.mark.parametrize("cin,padding,hw,act,pool_act", [
    (1, "VALID", (10, 14), "RELU", "NONE"), (5, "SAME", (8, 12), "RELU6", "NONE"),
    (8, "VALID", (6, 6), "NONE", "RELU_N1_TO_1"), (3, "SAME", (4, 8), "RELU", "RELU6")])
def test_winograd_conv_pool_matches_reference_and_litert(batch, cin, padding, hw, act, pool_act):
    """3x3 stride-1 conv + 2x2 max pool on a batch: the Winograd F(4x4, 3x3)
    step gives the im2col reference's values (and LiteRT's)."""
    from oracle import assert_same_outputs

    w = (rng.standard_normal((6, 3, 3, cin)) * 2).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    content = chain_model(("x", [batch, hw[0], hw[1], cin]), [
        ("CONV_2D", [dict(name="w", data=w), dict(name="b", data=b)], ("c", [1]),
         dict(padding=padding, stride_h=1, stride_w=1, fused_activation_function=act)),
        ("MAX_POOL_2D", [], ("p", [1]), dict(padding="VALID", filter_height=2, filter_width=2, stride_h=2,
                                             stride_w=2, fused_activation_function=pool_act))])
    ip = tinylite.Interpreter(model_content=content)
    ip.allocate_tensors()
    assert [fn for fn, _, _, _ in ip._runner(0).steps] == [fast_conv.eval_float_winograd_pooled]
    plain = tinylite.Interpreter(model_content=content, experimental_preserve_all_tensors=True)
    plain.allocate_tensors()
    for _ in range(2):
        x = rng.standard_normal((batch, hw[0], hw[1], cin)).astype(np.float32)
        ip.set_tensor(0, x)
        ip.invoke()
        plain.set_tensor(0, x)
        plain.invoke()
        want = plain.get_tensor(plain.get_output_details()[0]["index"])
        got = ip.get_tensor(ip.get_output_details()[0]["index"])
        # Winograd's rounding scales with the sums behind each output (bounded
        # by sum |w| * max |x|), which a clamp (RELU6, RELU_N1_TO_1) hides.
        bound = float(np.abs(w).sum(axis=(1, 2, 3)).max() * np.abs(x).max())
        np.testing.assert_allclose(got, want, rtol=0, atol=2e-6 * bound)
        assert_same_outputs(content, [x], rtol=0, atol=2e-6 * bound)


def test_one_row_fully_connected_takes_its_bias_in_the_product():
    from oracle import assert_same_outputs

    def fc(name, units, depth, act):
        return ("FULLY_CONNECTED", [dict(name=name + "w", data=rng.standard_normal((units, depth)).astype(np.float32)),
                                    dict(name=name + "b", data=rng.standard_normal(units).astype(np.float32))],
                (name, [1, units]), dict(fused_activation_function=act))
    content = chain_model(("x", [1, 6]), [fc("h", 5, 6, "RELU"), fc("y", 3, 5, "NONE")])
    ip = tinylite.Interpreter(model_content=content)
    ip.allocate_tensors()
    first, second = (node for _, node, _, _ in ip._runner(0).steps)
    # The graph input keeps its own memory; the hidden layer lives in [h, 1].
    assert first.data.bias_row is None and second.data.bias_row.shape == (1, 6) and second.data.bias_row[0, -1] == 1
    for _ in range(3):
        x = rng.standard_normal((1, 6)).astype(np.float32)
        assert_same_outputs(content, [x])


@pytest.mark.parametrize("alpha_shape,alpha_range,pool_act,swapped", [
    ((6,), (0.1, 0.9), "NONE", True),
    ((1, 1, 6), (1.0, 3.0), "NONE", True),        # alphas above 1: still increasing
    ((1, 1, 6), (0.5, 3.0), "NONE", False),       # both sides of 1: the reference PRELU, not in place
    ((1, 1, 1, 6), (0.1, 0.9), "NONE", True),
    ((8, 8, 6), (0.1, 0.9), "NONE", False),       # alpha varies over positions
    ((1, 1, 6), (-0.5, 0.9), "NONE", False),      # a negative alpha: not monotone
    ((1, 1, 6), (0.1, 0.9), "RELU6", False),      # the pool's clamp would then come first
])
@pytest.mark.parametrize("threads", [None, 2])
def test_max_pool_runs_before_a_monotone_prelu(alpha_shape, alpha_range, pool_act, swapped, threads):
    from oracle import assert_same_outputs
    from tinylite.interpreter.threads import BatchSplit

    alpha = np.linspace(*alpha_range, int(np.prod(alpha_shape)), dtype=np.float32).reshape(alpha_shape)
    batch = 16 if threads else 2        # big enough for the split PRELU to run in place on slices
    content = chain_model(("x", [batch, 8, 8, 6]), [
        ("ADD", [dict(name="zero", data=np.zeros(6, np.float32))], ("h", [batch, 8, 8, 6]), None),
        ("PRELU", [dict(name="alpha", data=alpha)], ("p", [batch, 8, 8, 6]), None),
        ("MAX_POOL_2D", [], ("y", [batch, 4, 4, 6]), dict(padding="SAME", filter_height=3, filter_width=3,
                                                          stride_h=2, stride_w=2, fused_activation_function=pool_act)),
    ])
    ip = tinylite.Interpreter(model_content=content, num_threads=threads)
    ip.allocate_tensors()
    ops = [(node.op_name, fn.fn if isinstance(fn, BatchSplit) else fn) for fn, node, _, _ in ip._runner(0).steps]
    assert ([op for op, _ in ops] == ["ADD", "MAX_POOL_2D", "PRELU"]) == swapped, ops
    for _ in range(2):
        x = (rng.standard_normal((batch, 8, 8, 6)) * 3).astype(np.float32)
        assert_same_outputs(content, [x])
        ip.set_tensor(0, x)
        ip.invoke()
        plain = tinylite.Interpreter(model_content=content, experimental_preserve_all_tensors=True)
        plain.allocate_tensors()
        plain.set_tensor(0, x)
        plain.invoke()
        np.testing.assert_array_equal(ip.get_tensor(ip.get_output_details()[0]["index"]),
                                      plain.get_tensor(plain.get_output_details()[0]["index"]))


def test_per_call_profile_names_what_each_call_runs(corpus):
    ip = tinylite.Interpreter(model_path=str(corpus / "fashion_cnn" / "tf_float.tflite"))
    ip.allocate_tensors()
    calls = ip._runner(0).invoke_profiled(per_call=True)
    assert len(calls) == len(ip._runner(0).tape.calls) and all(t >= 0 for _, _, t in calls)
    names = [name for _, name, _ in calls]
    assert names.count("dot") == 5 and "maximum.reduce" in names and names[-1] == "SOFTMAX one_row"
    ip = tinylite.Interpreter(model_path=str(corpus / "mlp5" / "tf_float.tflite"))
    ip.allocate_tensors()
    assert [name for _, name, _ in ip._runner(0).invoke_profiled(per_call=True)] == [
        "dot", "tanh", "dot", "negative", "exp", "add", "reciprocal", "dot"]
    content = single_op_model("CAST", [("x", [2], np.int32)], [("y", [2], np.float32)])
    ip = tinylite.Interpreter(model_content=content)
    ip.allocate_tensors()
    assert [name for _, name, _ in ip._runner(0).invoke_profiled(per_call=True)] == ["CAST kernel"]


def test_bound_elementwise_and_reduction_calls_are_the_kernels_calls():
    """As above, on the small ops a transformer block lowers to."""
    f32 = np.float32
    content = chain_model(("x", [3, 5, 8]), [
        ("ADD", [dict(name="b", data=rng.standard_normal(8).astype(f32))], ("a", [3, 5, 8]), None),
        ("MEAN", [dict(name="axes", data=np.array([2], np.int32))], ("m", [3, 5, 1]), dict(keep_dims=True)),
        ("MUL", [dict(name="s", data=rng.standard_normal((5, 1)).astype(f32))], ("p", [3, 5, 1]),
         dict(fused_activation_function="RELU6")),
        ("LOGISTIC", [], ("l", [3, 5, 1]), None),
        ("TANH", [], ("t", [3, 5, 1]), None),
        ("GELU", [], ("g", [3, 5, 1]), dict(approximate=False)),
    ])
    ip = tinylite.Interpreter(model_content=content)
    ip.allocate_tensors()
    runner = ip._runner(0)
    x = (rng.standard_normal((3, 5, 8)) * 4).astype(f32)
    ip.set_tensor(0, x)
    ip.invoke()
    bound = ip.get_tensor(ip.get_output_details()[0]["index"])
    ip.set_tensor(0, -x)
    ip.invoke()
    ip.set_tensor(0, x)
    for fn, node, ins, outs in runner.steps:
        fn(node, ins, outs)
    np.testing.assert_array_equal(bound, ip.get_tensor(ip.get_output_details()[0]["index"]))
    names = [name for _, name, _ in runner.invoke_profiled(per_call=True)]
    assert {"add.reduce", "divide", "negative", "tanh", "GELU kernel"} <= set(names), names


def _attributes(node):
    """A node's attributes and the fields of its op data."""
    from tinylite.kernels._base import Node

    attributes = {k: getattr(node, k) for k in Node.__slots__}
    if node.data is not None:
        attributes.update({"data." + k: v for k, v in vars(node.data).items()})
    return attributes


@pytest.mark.parametrize("threads", [None, 2])
@pytest.mark.parametrize("model", ["fashion_cnn", "mnist_cnn", "rnet", "mlp5"])
def test_plan_rewrites_write_no_prepared_node(corpus, model, threads, monkeypatch):
    """After prepare, only a node's own kernel writes on it: rewrites (fusion,
    bias rows, moved activations) and batch splits work on derived nodes
    (Node.derived), so every prepared node keeps exactly what its prepare set."""
    from tinylite.interpreter.subgraph import SubgraphRunner

    prepared = {}
    original = SubgraphRunner._prepare

    def record(self, kernel, node):
        fn = original(self, kernel, node)
        prepared[id(node)] = (node, _attributes(node))
        return fn
    monkeypatch.setattr(SubgraphRunner, "_prepare", record)
    ip = tinylite.Interpreter(model_path=str(corpus / model / "tf_float.tflite"), num_threads=threads)
    shape = ip.get_input_details()[0]["shape"]
    ip.resize_tensor_input(0, [8] + list(shape[1:]))
    ip.allocate_tensors()
    ip.set_tensor(0, np.ones([8] + list(shape[1:]), np.float32))
    ip.invoke()
    assert prepared
    for node, attributes in prepared.values():
        now = {k: v for k, v in _attributes(node).items() if k != "cache"}
        before = {k: v for k, v in attributes.items() if k != "cache"}
        assert now.keys() == before.keys(), (node.op_name, set(now) ^ set(before))
        assert all(now[k] is before[k] for k in now), node.op_name


def test_tape_passes_ufunc_outputs_by_position():
    """tape.positional_out: a bound ufunc call with out= becomes the same call with its output(s)
    by position (other keywords kept); np.maximum/np.minimum (whose positional output numpy 2
    deprecates), reductions and other functions are left as they are."""
    from functools import partial

    from tinylite.interpreter.tape import positional_out

    x, y = np.arange(6.0), np.full(6, 4.0)
    out, q, r = np.empty(6), np.empty(6), np.empty(6)
    call = positional_out(partial(np.add, x, y, out=out))
    assert call.keywords == {} and call.args[-1] is out
    call()
    np.testing.assert_array_equal(out, x + y)
    call = positional_out(partial(np.divmod, x, y, out=(q, r)))
    assert call.args[-2:] == (q, r)
    call()
    np.testing.assert_array_equal(q, x // y)
    np.testing.assert_array_equal(r, x % y)
    i16, u8 = np.array([-3, 70, 400], np.int16), np.empty(3, np.uint8)
    call = positional_out(partial(np._core.umath.clip, i16, np.int16(0), np.int16(255), out=u8, casting="unsafe"))
    assert call.keywords == {"casting": "unsafe"}
    call()
    np.testing.assert_array_equal(u8, [0, 70, 255])
    for kept in (partial(np.maximum, x, y, out=out), partial(np.add.reduce, x, out=np.empty(())),
                 partial(np.copyto, out, x), partial(np.add, x, out=out)):
        assert positional_out(kept) is kept
