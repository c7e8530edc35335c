"""The tf.lite.Interpreter surface: same fields, same errors as LiteRT."""
import numpy as np
import pytest

import tinylite
from oracle import litert_interpreter
from tinylite.testing import single_op_model

rng = np.random.default_rng(0)


def conv_model(batch_signature=True):
    w = rng.standard_normal((4, 3, 3, 2)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    return single_op_model(
        "CONV_2D", [dict(name="image", shape=[1, 6, 6, 2], shape_signature=[-1, 6, 6, 2] if batch_signature else None),
                    dict(name="kernel", data=w), dict(name="bias", data=b)],
        [dict(name="features", shape=[1, 6, 6, 4], shape_signature=[-1, 6, 6, 4] if batch_signature else None)],
        options=dict(padding="SAME", stride_h=1, stride_w=1, fused_activation_function="RELU"))


def both(content):
    return tinylite.Interpreter(model_content=content), litert_interpreter(content)


def errors(fn_ours, fn_theirs):
    """Call both; return (type, message) of what each raised."""
    out = []
    for fn in (fn_ours, fn_theirs):
        try:
            fn()
            out.append(None)
        except Exception as e:  # noqa: BLE001 - comparing what each raises
            out.append((type(e), str(e)))
    return out


def assert_details_equal(ours, theirs):
    # LiteRT appends its kernels' unnamed scratch tensors (im2col buffers and
    # the like) after the model's own tensors; those are not the model's.
    known = {d["index"] for d in ours}
    extra = [d for d in theirs if d["index"] not in known]
    assert all(d["index"] > max(known) for d in extra), "LiteRT lists a model tensor tinylite does not"
    theirs = [d for d in theirs if d["index"] in known]
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert set(a) == set(b)
        if b["name"] == "Densify_output":
            # LiteRT's DENSIFY kernel renames its output tensor when it prepares;
            # tinylite keeps the name the file gives it.
            b = dict(b, name=a["name"])
        for k in a:
            if k == "quantization_parameters":
                for q in a[k]:
                    np.testing.assert_array_equal(a[k][q], b[k][q])
                    assert np.asarray(a[k][q]).dtype == np.asarray(b[k][q]).dtype, q
            else:
                assert_same_value(a[k], b[k], k)


def assert_same_value(a, b, where):
    """Equal values, arrays of equal dtype, recursing into dicts and lists (sparsity_parameters)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), where
        for k in a:
            assert_same_value(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), where
        for k, (x, y) in enumerate(zip(a, b)):
            assert_same_value(x, y, f"{where}[{k}]")
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=where)
        assert a.dtype == b.dtype, where
    else:
        assert a == b, where


def test_details_match_litert():
    ours, theirs = both(conv_model())
    ours.allocate_tensors()
    theirs.allocate_tensors()
    assert_details_equal(ours.get_input_details(), theirs.get_input_details())
    assert_details_equal(ours.get_output_details(), theirs.get_output_details())
    assert_details_equal(ours.get_tensor_details(), theirs.get_tensor_details())
    assert ours.get_signature_list() == theirs.get_signature_list()
    assert ours.num_subgraphs() == theirs.num_subgraphs() == 1


def test_corpus_details_match_litert(corpus):
    for path in sorted(corpus.glob("*/tf_*.tflite")):
        content = path.read_bytes()
        ours, theirs = both(content)
        theirs.allocate_tensors()
        assert_details_equal(ours.get_input_details(), theirs.get_input_details())
        assert_details_equal(ours.get_output_details(), theirs.get_output_details())
        assert_details_equal(ours.get_tensor_details(), theirs.get_tensor_details())
        assert ours.get_signature_list() == theirs.get_signature_list()


def test_invoke_before_allocate_is_the_same_error():
    ours, theirs = both(conv_model())
    a, b = errors(ours.invoke, theirs.invoke)
    assert a[0] is b[0] is RuntimeError
    assert a[1] == b[1]


def test_set_tensor_before_allocate():
    ours, theirs = both(conv_model())
    x = np.zeros((1, 6, 6, 2), np.float32)
    a, b = errors(lambda: ours.set_tensor(0, x), lambda: theirs.set_tensor(0, x))
    assert a == b


@pytest.mark.parametrize("value", [
    np.zeros((1, 6, 6, 2), np.float64),       # wrong dtype
    np.zeros((2, 6, 6, 2), np.float32),       # wrong batch
    np.zeros((1, 6, 2), np.float32),          # wrong rank
    np.zeros((1, 6, 6, 3), np.float32),       # wrong channels
])
def test_set_tensor_errors_match_litert(value):
    ours, theirs = both(conv_model())
    ours.allocate_tensors()
    theirs.allocate_tensors()
    idx = ours.get_input_details()[0]["index"]
    a, b = errors(lambda: ours.set_tensor(idx, value), lambda: theirs.set_tensor(idx, value))
    assert a is not None and b is not None
    assert a[0] is b[0] is ValueError
    assert a[1] == b[1]


def test_bad_tensor_index_matches_litert():
    ours, theirs = both(conv_model())
    ours.allocate_tensors()
    theirs.allocate_tensors()
    a, b = errors(lambda: ours.get_tensor(99), lambda: theirs.get_tensor(99))
    # LiteRT's maximum counts its kernels' scratch tensors too; the text is otherwise the same.
    assert a[0] is b[0] is ValueError
    assert a[1].startswith("Invalid tensor index 99 exceeds max tensor index")


def test_constructor_errors():
    with pytest.raises(ValueError, match="must be specified"):
        tinylite.Interpreter()
    with pytest.raises(ValueError, match="Can't both"):
        tinylite.Interpreter(model_path="x.tflite", model_content=b"1234")
    with pytest.raises(ValueError, match="num_threads"):
        tinylite.Interpreter(model_content=conv_model(), num_threads=0)
    with pytest.raises(ValueError, match="Could not open"):
        tinylite.Interpreter(model_path="/nonexistent/model.tflite")
    # Accepted for compatibility.
    tinylite.Interpreter(model_content=conv_model(), num_threads=2, experimental_delegates=None,
                         experimental_op_resolver_type=tinylite.OpResolverType.BUILTIN_REF,
                         experimental_disable_delegate_clustering=True)


def test_resize_strict_and_rerun():
    ours, theirs = both(conv_model())
    for ip in (ours, theirs):
        ip.resize_tensor_input(0, [3, 6, 6, 2], strict=True)
        ip.allocate_tensors()
    x = rng.standard_normal((3, 6, 6, 2)).astype(np.float32)
    outs = []
    for ip in (ours, theirs):
        ip.set_tensor(0, x)
        ip.invoke()
        d = ip.get_output_details()[0]
        assert list(d["shape"]) == [3, 6, 6, 4]
        outs.append(ip.get_tensor(d["index"]))
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-5, atol=1e-5)
    a, b = errors(lambda: ours.resize_tensor_input(0, [3, 7, 6, 2], strict=True),
                  lambda: theirs.resize_tensor_input(0, [3, 7, 6, 2], strict=True))
    assert a == b


def test_resize_needs_reallocate():
    ip = tinylite.Interpreter(model_content=conv_model())
    ip.allocate_tensors()
    ip.resize_tensor_input(0, [2, 6, 6, 2])
    with pytest.raises(RuntimeError, match="not ready"):
        ip.invoke()


def test_tensor_view_and_get_tensor_copy():
    ip = tinylite.Interpreter(model_content=conv_model())
    ip.allocate_tensors()
    inp = ip.tensor(ip.get_input_details()[0]["index"])
    out = ip.tensor(ip.get_output_details()[0]["index"])
    inp().fill(1.0)
    ip.invoke()
    first = out().copy()
    copy = ip.get_tensor(ip.get_output_details()[0]["index"])
    copy[...] = -5
    np.testing.assert_array_equal(out(), first)
    inp().fill(2.0)
    ip.invoke()
    assert not np.array_equal(out(), first)


def test_signature_runner_matches_litert():
    content = conv_model()
    ours, theirs = both(content)
    x = rng.standard_normal((2, 6, 6, 2)).astype(np.float32)
    got = ours.get_signature_runner()(image=x)
    want = theirs.get_signature_runner("serving_default")(image=x)
    assert got.keys() == want.keys() == {"features"}
    np.testing.assert_allclose(got["features"], want["features"], rtol=1e-5, atol=1e-5)
    runner = ours.get_signature_runner("serving_default")
    assert set(runner.get_input_details()) == {"image"}
    with pytest.raises(ValueError, match="Invalid Input name"):
        runner(wrong=x)
    with pytest.raises(ValueError, match="Invalid number of inputs"):
        runner()
    with pytest.raises(ValueError, match="Invalid signature_key"):
        ours.get_signature_runner("nope")


def test_preserve_all_tensors_keeps_intermediates():
    """CONV_2D then ADD: the conv output is an intermediate the arena may reuse,
    unless experimental_preserve_all_tensors is set."""
    from tinylite.flatbuffer import read_model, write_model
    from tinylite.flatbuffer.schema import OP_CODES
    from tinylite.graph import Operator, Tensor
    from tinylite.testing import encode_options

    w = np.ones((2, 1, 1, 2), np.float32)
    m = read_model(single_op_model(
        "CONV_2D", [("x", [1, 4, 4, 2]), dict(name="w", data=w), dict(name="b", data=np.zeros(2, np.float32))],
        [("y", [1, 4, 4, 2])], options=dict(padding="VALID", stride_h=1, stride_w=1), signature=False))
    sg = m.subgraphs[0]
    sg.tensors.append(Tensor("z", np.array([1, 4, 4, 2], np.int32)))
    add = Operator(m.opcode_index(OP_CODES["ADD"]), [3, 3], [4])
    add.builtin_options_type, add.builtin_options = encode_options("ADD", {})
    sg.operators.append(add)
    sg.outputs = [4]
    ip = tinylite.Interpreter(model_content=write_model(m), experimental_preserve_all_tensors=True)
    ip.allocate_tensors()
    x = rng.standard_normal((1, 4, 4, 2)).astype(np.float32)
    ip.set_tensor(0, x)
    ip.invoke()
    y = ip.get_tensor(3)
    np.testing.assert_allclose(y, np.repeat(x.sum(-1, keepdims=True), 2, -1), rtol=1e-6)
    np.testing.assert_allclose(ip.get_tensor(4), 2 * y, rtol=1e-6)


def test_arena_reuses_memory():
    """Tensors whose lifetimes do not overlap share arena bytes."""
    from tinylite.interpreter.planner import Allocation, plan

    allocs = [Allocation(0, 100, 0, 1), Allocation(1, 100, 1, 2), Allocation(2, 100, 2, 3)]
    size = plan(allocs)
    assert allocs[0].offset == allocs[2].offset
    assert allocs[1].offset != allocs[0].offset
    assert size == 256
    unshared = [Allocation(0, 100, 0, 1), Allocation(1, 100, 1, 2), Allocation(2, 100, 2, 3)]
    assert plan(unshared, share=False) == 384
