"""Fast kernel paths agree with the plain reference paths beside them, across
repeated invokes (their cached buffers must follow the input)."""
import numpy as np
import pytest

import tinylite
from tinylite.kernels import average_pool_2d, conv_2d, max_pool_2d, prelu
from tinylite.testing import single_op_model

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
    assert fn is conv_2d.eval_float_fast
    for _ in range(3):
        x = rng.standard_normal(x.shape).astype(np.float32)
        ip.set_tensor(0, x)
        ip.invoke()
        fast = outs[0].copy()
        conv_2d.eval_float(node, ins, outs)
        np.testing.assert_allclose(fast, outs[0], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("module,op", [(max_pool_2d, "MAX_POOL_2D"), (average_pool_2d, "AVERAGE_POOL_2D")])
@pytest.mark.parametrize("padding,filt,stride", [("SAME", (3, 3), 2), ("VALID", (2, 2), 2), ("SAME", (2, 2), 1),
                                                 ("VALID", (3, 3), 1), ("SAME", (1, 3), 2), ("VALID", (3, 1), 1),
                                                 ("VALID", (1, 1), 2)])
def test_pool_fast_equals_reference(module, op, padding, filt, stride):
    x = rng.standard_normal((2, 11, 8, 4)).astype(np.float32)
    content = single_op_model(op, [("x", [1, 11, 8, 4])], [("y", [1])],
                              options=dict(padding=padding, filter_height=filt[0], filter_width=filt[1],
                                           stride_h=stride, stride_w=stride, fused_activation_function="RELU"))
    ip, fn, node, ins, outs = prepared(content, x)
    assert fn is module.eval_float
    for _ in range(3):
        x = rng.standard_normal(x.shape).astype(np.float32)
        ip.set_tensor(0, x)
        ip.invoke()
        fast = outs[0].copy()
        module.eval_reference(node, ins, outs)
        np.testing.assert_array_equal(fast, outs[0])


@pytest.mark.parametrize("alpha_range", [(0.01, 1.0), (1.0, 3.0)])
@pytest.mark.parametrize("alpha_shape", [(5,), (1, 1, 5), (4, 3, 5)])
def test_prelu_fast_equals_reference(alpha_range, alpha_shape):
    x = rng.standard_normal((2, 4, 3, 5)).astype(np.float32)
    alpha = rng.uniform(*alpha_range, alpha_shape).astype(np.float32)
    alpha.flat[0] = alpha_range[0] if alpha_range[0] == 1 else 1.0     # the boundary value 1
    content = single_op_model("PRELU", [("x", [1, 4, 3, 5]), dict(name="alpha", data=alpha)], [("y", [1])])
    ip, fn, node, ins, outs = prepared(content, x)
    assert fn is prelu.eval_float_fast
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
        prelu.eval_float_fast(node, [inplace, ins[1]], [inplace])
        np.testing.assert_array_equal(inplace, fast)


@pytest.mark.parametrize("alpha", [[0.0, 0.5], [0.5, 2.0], [0.5, np.inf]])
def test_prelu_keeps_reference_path_outside_the_exact_ranges(alpha):
    # alpha = 0 would give 0 * inf = NaN in max(x, alpha * x); mixed or infinite alphas
    # have no single-pass form.
    alpha = np.array(alpha, np.float32)
    content = single_op_model("PRELU", [("x", [1, 3, 2]), dict(name="alpha", data=alpha)], [("y", [1])])
    _, fn, _, _, _ = prepared(content, np.zeros((1, 3, 2), np.float32))
    assert fn is prelu.eval_float


@pytest.mark.parametrize("model", ["fashion_cnn", "mnist_cnn"])
def test_activation_moved_onto_max_pool(corpus, model):
    """conv(RELU) -> MAX_POOL_2D runs the RELU after the pool, unless all tensors are preserved."""
    content = (corpus / model / "tf_float.tflite").read_bytes()
    x = rng.standard_normal((3, 28, 28, 1)).astype(np.float32)
    results = {}
    for preserve in (False, True):
        ip = tinylite.Interpreter(model_content=content, experimental_preserve_all_tensors=preserve)
        ip.resize_tensor_input(0, x.shape)
        ip.allocate_tensors()
        steps = ip._runner(0).steps
        pools = [(i, node) for i, (fn, node, _, _) in enumerate(steps) if fn is max_pool_2d.eval_float]
        i, pool = pools[0]
        conv = steps[i - 1][1]
        assert conv.op_name == "CONV_2D"
        assert (pool.act is not None, conv.act is None) == (not preserve, not preserve)
        ip.set_tensor(0, x)
        ip.invoke()
        results[preserve] = ip.get_tensor(ip.get_output_details()[0]["index"])
        if preserve:    # the conv output keeps its RELU when every tensor is kept
            assert ip.get_tensor(conv.outputs[0].index).min() >= 0
    np.testing.assert_array_equal(results[False], results[True])
