"""The rest of ai_edge_litert.interpreter's surface, each checked against LiteRT where LiteRT
can run it: custom-op registration, op details, view protection, resolver types, error
phrases and delegates."""
import sys
import types

import numpy as np
import pytest

import tinylite
from oracle import litert_interpreter
from tinylite.interpreter import custom_ops
from tinylite.testing import chain_model, single_op_model

NOT_A_FLATBUFFER = "The model is not a valid Flatbuffer buffer"


def litert_module():
    from ai_edge_litert import interpreter  # the oracle is installed: litert_interpreter checked it

    return interpreter


def fc_model():
    w = np.arange(12, dtype=np.float32).reshape(3, 4) / 10
    return single_op_model("FULLY_CONNECTED", [("x", [1, 4]), dict(name="w", data=w), None], [("y", [1, 3])])


def times_two_model():
    return single_op_model("TimesTwo", [("x", [2])], [("y", [2])])


def times_two(node):
    node.outputs[0].shape = node.inputs[0].shape

    def run(node, inputs, outputs):
        np.multiply(inputs[0], 2, out=outputs[0])
    return run


def run_once(ip, x):
    ip.allocate_tensors()
    ip.set_tensor(ip.get_input_details()[0]["index"], x)
    ip.invoke()
    return ip.get_tensor(ip.get_output_details()[0]["index"])


# --- custom ops ---------------------------------------------------------------------------------

def test_custom_ops_argument_runs_the_users_kernel():
    ip = tinylite.Interpreter(model_content=times_two_model(), custom_ops={"TimesTwo": times_two})
    np.testing.assert_array_equal(run_once(ip, np.array([1.5, -4], np.float32)), [3, -8])
    assert ip._get_op_details(0)["op_name"] == "TimesTwo"


def test_registerer_callable_import_path_and_registered_name():
    calls = []

    def registerer(resolver):
        calls.append(resolver)
        resolver.add_custom("TimesTwo", times_two)

    ip = tinylite.InterpreterWithCustomOps(model_content=times_two_model(), custom_op_registerers=[registerer])
    assert ip._safe_to_run() and len(calls) == 1
    np.testing.assert_array_equal(run_once(ip, np.array([1, 2], np.float32)), [2, 4])

    custom_ops.register_registerer("TinyliteTestTimesTwoRegisterer", registerer)
    ip = tinylite.InterpreterWithCustomOps(model_content=times_two_model(),
                                           custom_op_registerers=["TinyliteTestTimesTwoRegisterer"])
    np.testing.assert_array_equal(run_once(ip, np.array([3, 4], np.float32)), [6, 8])

    module = types.ModuleType("tinylite_test_registerers")
    module.Register = lambda resolver: resolver.AddCustom("TimesTwo", times_two)   # LiteRT's C++ spelling
    sys.modules[module.__name__] = module
    try:
        ip = tinylite.InterpreterWithCustomOps(model_content=times_two_model(),
                                               custom_op_registerers=["tinylite_test_registerers.Register"])
        np.testing.assert_array_equal(run_once(ip, np.array([5, 6], np.float32)), [10, 12])
    finally:
        del sys.modules[module.__name__]
    assert len(calls) == 2


def test_unknown_registerer_is_literts_value_error():
    lite = litert_module()
    bogus = "CompletelyBogusRegistererName"
    for cls in (tinylite.InterpreterWithCustomOps, lite.InterpreterWithCustomOps):
        with pytest.raises(ValueError, match=f"^Looking up symbol '{bogus}' failed"):
            cls(model_content=fc_model(), custom_op_registerers=[bogus])
    with pytest.raises(ValueError, match="Loading module 'no_such_module_xyz' failed"):
        tinylite.InterpreterWithCustomOps(model_content=fc_model(), custom_op_registerers=["no_such_module_xyz.F"])
    with pytest.raises(ValueError, match="str names or callables"):
        tinylite.InterpreterWithCustomOps(model_content=fc_model(), custom_op_registerers=[123])
    with pytest.raises(ValueError, match="must map custom op names"):
        tinylite.Interpreter(model_content=fc_model(), custom_ops=[times_two])
    with pytest.raises(ValueError, match="prepare"):
        tinylite.Interpreter(model_content=fc_model(), custom_ops={"TimesTwo": 3})


def test_no_registerers_and_builtin_models_run_unchanged():
    ip = tinylite.InterpreterWithCustomOps(model_content=fc_model())
    assert ip._safe_to_run()
    x = np.array([[1, 2, 3, 4]], np.float32)
    np.testing.assert_array_equal(run_once(ip, x), run_once(tinylite.Interpreter(model_content=fc_model()), x))


def test_unresolved_custom_op_fails_at_allocate_naming_it_as_litert_does():
    content = times_two_model()
    ip = tinylite.Interpreter(model_content=content)      # constructing is fine, as in LiteRT
    with pytest.raises(tinylite.UnsupportedOpError) as e:
        ip.allocate_tensors()
    msg = str(e.value)
    assert msg.startswith("Encountered unresolved custom op: TimesTwo.")
    assert "custom_ops={'TimesTwo': prepare}" in msg and "FLOAT32[2]" in msg
    assert "LiteRT needs it registered too" in msg
    theirs = litert_interpreter(content)
    with pytest.raises(RuntimeError, match="Encountered unresolved custom op: TimesTwo"):
        theirs.allocate_tensors()


def test_user_registration_wins_over_bundled_kernels(monkeypatch):
    from tinylite.interpreter import subgraph

    bundled = types.SimpleNamespace(prepare=lambda node: pytest.fail("the bundled kernel ran"))
    monkeypatch.setattr(subgraph, "kernel_for_custom", lambda name: bundled if name == "TimesTwo" else None)
    ip = tinylite.Interpreter(model_content=times_two_model(), custom_ops={"TimesTwo": times_two})
    np.testing.assert_array_equal(run_once(ip, np.array([1, 1], np.float32)), [2, 2])
    # custom_ops given with registerers wins over them too
    ip = tinylite.InterpreterWithCustomOps(
        model_content=times_two_model(), custom_ops={"TimesTwo": times_two},
        custom_op_registerers=[lambda r: r.add_custom("TimesTwo", bundled)])
    np.testing.assert_array_equal(run_once(ip, np.array([2, 2], np.float32)), [4, 4])
    # A custom op named like a builtin is still the custom op.
    content = single_op_model("Relu", [("x", [2])], [("y", [2])])
    with pytest.raises(tinylite.UnsupportedOpError, match="unresolved custom op: Relu"):
        tinylite.Interpreter(model_content=content).allocate_tensors()


def test_custom_kernel_state_and_folding():
    runs = []

    def counting(node):
        node.outputs[0].shape = node.inputs[0].shape

        def run(node, inputs, outputs):
            runs.append(1)
            np.multiply(inputs[0], 2, out=outputs[0])
        return run

    content = single_op_model("TimesTwo", [dict(name="c", data=np.array([1, 2], np.float32))], [("y", [2])])
    # A bare prepare function runs at every invoke, even on constant inputs (it may keep state).
    ip = tinylite.Interpreter(model_content=content, custom_ops={"TimesTwo": counting})
    ip.allocate_tensors()
    ip.invoke()
    ip.invoke()
    assert len(runs) == 2
    np.testing.assert_array_equal(ip.get_tensor(1), [2, 4])
    # An object declaring FOLDABLE runs once, at allocate_tensors.
    runs.clear()
    ip = tinylite.Interpreter(model_content=content,
                              custom_ops={"TimesTwo": types.SimpleNamespace(prepare=counting, FOLDABLE=True)})
    ip.allocate_tensors()
    ip.invoke()
    ip.invoke()
    assert len(runs) == 1
    np.testing.assert_array_equal(ip.get_tensor(1), [2, 4])


def test_failing_custom_kernel_is_reported_with_its_node():
    def broken(node):
        raise ValueError("needs a rank-4 input")

    ip = tinylite.Interpreter(model_content=times_two_model(), custom_ops={"TimesTwo": broken})
    with pytest.raises(RuntimeError, match=r"Node number 0 \(TimesTwo\) failed to prepare: needs a rank-4 input"):
        ip.allocate_tensors()

    def no_eval(node):
        node.outputs[0].shape = node.inputs[0].shape

    ip = tinylite.Interpreter(model_content=times_two_model(), custom_ops={"TimesTwo": no_eval})
    with pytest.raises(RuntimeError, match="registered for custom op 'TimesTwo' returned NoneType; it must return"):
        ip.allocate_tensors()

    def failing_eval(node):
        node.outputs[0].shape = node.inputs[0].shape
        return lambda node, inputs, outputs: 1 / 0

    ip = tinylite.Interpreter(model_content=times_two_model(), custom_ops={"TimesTwo": failing_eval})
    ip.allocate_tensors()
    with pytest.raises(RuntimeError, match=r"Node number 0 \(TimesTwo\) failed to invoke: ZeroDivisionError"):
        ip.invoke()


# --- op details ---------------------------------------------------------------------------------

def _models():
    rng = np.random.default_rng(1)
    yield fc_model()
    yield chain_model(("x", [1, 4, 4, 3]), [
        ("CONV_2D", [dict(name="w", data=rng.standard_normal((2, 3, 3, 3)).astype(np.float32)),
                     dict(name="b", data=np.zeros(2, np.float32))], ("c", [1, 4, 4, 2]),
         dict(padding="SAME", stride_w=1, stride_h=1)),
        ("RELU", [], ("r", [1, 4, 4, 2]), None),
        ("RESHAPE", [dict(name="s", data=np.array([1, 32], np.int32))], ("y", [1, 32]), None)])
    yield single_op_model("GATHER", [("p", [5], np.bytes_), ("i", [3], np.int64)], [("o", [3], np.bytes_)])


def test_ops_details_match_litert():
    for content in _models():
        ours = tinylite.Interpreter(model_content=content)
        theirs = litert_interpreter(content)     # no default delegate: its nodes are the model's
        ours.allocate_tensors()
        theirs.allocate_tensors()
        a, b = ours._get_ops_details(), theirs._get_ops_details()
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert set(x) == set(y) == {"index", "op_name", "inputs", "outputs", "operand_types", "result_types"}
            assert x["index"] == y["index"] and x["op_name"] == y["op_name"]
            for k in ("inputs", "outputs"):
                np.testing.assert_array_equal(x[k], y[k])
                assert x[k].dtype == y[k].dtype
            assert x["operand_types"] == y["operand_types"] and x["result_types"] == y["result_types"]
        for bad in (len(a), -1, 99):
            for ip in (ours, theirs):
                with pytest.raises(ValueError, match="^Invalid node index"):
                    ip._get_op_details(bad)


# --- view protection ----------------------------------------------------------------------------

def test_live_tensor_views_block_allocate_invoke_and_resize_like_litert():
    content = fc_model()
    for ip in (tinylite.Interpreter(model_content=content), litert_interpreter(content)):
        ip.allocate_tensors()
        i = ip.get_input_details()[0]["index"]
        accessor = ip.tensor(i)
        assert ip._safe_to_run()
        view = accessor()
        assert not ip._safe_to_run()
        row = view[0, 1:]          # a slice of the view protects as the view does
        del view
        assert not ip._safe_to_run()
        for call in (ip.allocate_tensors, ip.invoke, lambda: ip.resize_tensor_input(i, [1, 4])):
            with pytest.raises(RuntimeError, match="There is at least 1 reference"):
                call()
        del row
        assert ip._safe_to_run()
        np.copyto(accessor(), np.array([[1, 2, 3, 4]], np.float32))   # a temporary view is fine
        ip.invoke()
        np.testing.assert_allclose(ip.get_tensor(ip.get_output_details()[0]["index"]), [[2, 6, 10]], rtol=1e-6)


def test_tensor_views_read_and_write_the_live_buffer():
    ip = tinylite.Interpreter(model_content=fc_model())
    ip.allocate_tensors()
    accessor = ip.tensor(0)
    accessor()[...] = 1
    ip.invoke()
    out = ip.tensor(ip.get_output_details()[0]["index"])
    np.testing.assert_allclose(out(), [[0.6, 2.2, 3.8]], rtol=1e-6)
    assert not ip.tensor(1)().flags.writeable      # the weights are the model's constants


# --- resolver types, error phrases, delegates -----------------------------------------------------

def test_op_resolver_type_validation_matches_litert():
    lite = litert_module()
    for bad in ("test", 1, None, "BUILTIN"):
        for cls in (tinylite.Interpreter, lite.Interpreter):
            with pytest.raises(ValueError, match=f"^Unrecognized passed in op resolver type: {bad}"):
                cls(model_content=fc_model(), experimental_op_resolver_type=bad)
    for t in tinylite.OpResolverType:
        tinylite.Interpreter(model_content=fc_model(), experimental_op_resolver_type=t)
    # LiteRT's own enum members are understood (code written for it passes them).
    ip = tinylite.Interpreter(model_content=fc_model(), experimental_op_resolver_type=lite.OpResolverType.BUILTIN_REF)
    assert ip._op_resolver_type is tinylite.OpResolverType.BUILTIN_REF


@pytest.mark.parametrize("content", [b"", b"short", b"wrong_identifier", b"\x10\x00\x00\x00TFL3" + bytes(8),
                                     b"x" * 100])
def test_bad_model_content_starts_with_litert_phrase(content, tmp_path):
    lite = litert_module()
    with pytest.raises(ValueError, match=f"^{NOT_A_FLATBUFFER}") as ours:
        tinylite.Interpreter(model_content=content)
    assert len(str(ours.value)) > len(NOT_A_FLATBUFFER) + 20     # tinylite's detail follows
    path = tmp_path / "bad.tflite"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=f"^{NOT_A_FLATBUFFER}"):
        tinylite.Interpreter(model_path=str(path))
    if content:       # LiteRT takes empty model_content for "no model" (a different message)
        with pytest.raises(ValueError, match=f"^{NOT_A_FLATBUFFER}"):
            lite.Interpreter(model_content=content)


def test_invalid_tensor_index_counts_tensors_as_litert():
    content = fc_model()
    # Before allocate_tensors: after it, LiteRT's count includes its kernels' scratch tensors.
    ours, theirs = tinylite.Interpreter(model_content=content), litert_interpreter(content)
    for bad in (3, 4, -1, 100):
        want = f"Invalid tensor index {bad} exceeds max tensor index 3"
        for call in (lambda ip: ip._get_tensor_details(bad, 0), lambda ip: ip.get_tensor(bad),
                     lambda ip: ip.tensor(bad)()):
            for ip in (ours, theirs):
                with pytest.raises(ValueError, match=f"^{want}"):
                    call(ip)


# LiteRT's Delegate.__del__ trips over the half-built object it leaves behind.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_load_delegate_raises_what_litert_raises_for_a_missing_library():
    lite = litert_module()
    with pytest.raises(OSError):
        lite.load_delegate("/nonexistent/libdelegate.so")
    for fn in (tinylite.load_delegate, tinylite.lite.experimental.load_delegate):
        with pytest.raises(ValueError, match="^Failed to load delegate from libedgetpu.so.1\ntinylite runs no"):
            fn("libedgetpu.so.1", {"device": "usb"})
        with pytest.raises(OSError):     # either except clause falls back to the CPU
            fn("libedgetpu.so.1")


def test_experimental_delegates_are_refused_not_ignored():
    with pytest.raises(ValueError, match="runs no native delegates"):
        tinylite.Interpreter(model_content=fc_model(), experimental_delegates=[object()])
    tinylite.Interpreter(model_content=fc_model(), experimental_delegates=[])
    tinylite.Interpreter(model_content=fc_model(), experimental_delegates=None)
