"""Fast kernel paths agree with the plain reference paths beside them, across
repeated invokes (their cached buffers must follow the input)."""
import numpy as np
import pytest

import tinylite
from tinylite.kernels import average_pool_2d, conv_2d, max_pool_2d
from tinylite.testing import single_op_model

rng = np.random.default_rng(7)


def prepared(content, x):
    ip = tinylite.Interpreter(model_content=content)
    ip.resize_tensor_input(0, x.shape)
    ip.allocate_tensors()
    (fn, node, ins, outs), = ip._runner(0).steps
    return ip, fn, node, ins, outs


@pytest.mark.parametrize("padding,stride", [("SAME", 1), ("VALID", 1), ("SAME", 2), ("VALID", 3)])
def test_conv_fast_equals_reference(padding, stride):
    x = rng.standard_normal((2, 9, 7, 3)).astype(np.float32)
    w = rng.standard_normal((5, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(5).astype(np.float32)
    content = single_op_model("CONV_2D", [("x", [1, 9, 7, 3]), dict(name="w", data=w), dict(name="b", data=b)],
                              [("y", [1])], options=dict(padding=padding, stride_h=stride, stride_w=stride,
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
@pytest.mark.parametrize("padding,filt,stride", [("SAME", 3, 2), ("VALID", 2, 2), ("SAME", 2, 1), ("VALID", 3, 1)])
def test_pool_fast_equals_reference(module, op, padding, filt, stride):
    x = rng.standard_normal((2, 11, 8, 4)).astype(np.float32)
    content = single_op_model(op, [("x", [1, 11, 8, 4])], [("y", [1])],
                              options=dict(padding=padding, filter_height=filt, filter_width=filt,
                                           stride_h=stride, stride_w=stride))
    ip, fn, node, ins, outs = prepared(content, x)
    assert fn is module.eval_float
    for _ in range(3):
        x = rng.standard_normal(x.shape).astype(np.float32)
        ip.set_tensor(0, x)
        ip.invoke()
        fast = outs[0].copy()
        module.eval_reference(node, ins, outs)
        np.testing.assert_array_equal(fast, outs[0])
