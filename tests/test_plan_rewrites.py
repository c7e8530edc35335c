"""The plan rewrites of interpreter/fusion.py, one declared pattern at a time:
each fires on a small model built here, changes no output (against the plan
without rewrites and the reference resolver), and, applied before memory
planning, gives the tensors it removes no memory: the arena is never larger
than the plan without that pattern."""
import numpy as np
import pytest

import tinylite
from tinylite.errors import PrepareError
from tinylite.flatbuffer import read_model, write_model
from tinylite.flatbuffer.schema import OP_CODES
from tinylite.graph import Operator, Tensor
from tinylite.interpreter import fusion
from tinylite.interpreter.subgraph import STAGES, SubgraphRunner
from tinylite.testing import chain_model, encode_options

rng = np.random.default_rng(12)
f32 = np.float32


def _conv(name, cin, cout, act="NONE"):
    return ("CONV_2D", [dict(name=name + "_w", data=rng.standard_normal((cout, 3, 3, cin)).astype(f32)),
                        dict(name=name + "_b", data=rng.standard_normal(cout).astype(f32))],
            (name, [1]), dict(padding="SAME", stride_h=1, stride_w=1, fused_activation_function=act))


def _pool(name, size, stride, padding="VALID", act="NONE"):
    return ("MAX_POOL_2D", [], (name, [1]), dict(padding=padding, filter_height=size, filter_width=size,
                                                 stride_h=stride, stride_w=stride, fused_activation_function=act))


def _fc(name, units, depth, act="NONE"):
    return ("FULLY_CONNECTED", [dict(name=name + "_w", data=rng.standard_normal((units, depth)).astype(f32)),
                                dict(name=name + "_b", data=rng.standard_normal(units).astype(f32))],
            (name, [1, units]), dict(fused_activation_function=act))


def _zero_add(name, channels):
    # An op in front, so the pattern's first op reads a computed tensor.
    return ("ADD", [dict(name=name + "_zero", data=np.zeros(channels, f32))], (name, [1]), None)


# pattern name -> (model, input shape, the tensor the pattern removes or None,
#                  the tensor that becomes a view or lives outside the arena or None)
CASES = {
    "conv_max_pool": (lambda: chain_model(("x", [1, 12, 12, 3]), [
        _zero_add("a", 3), _conv("c", 3, 8, "RELU"), _pool("p", 2, 2), _conv("y", 8, 4)]), [1, 12, 12, 3], "c", None),
    "pool_before_prelu": (lambda: chain_model(("x", [2, 8, 8, 6]), [
        _zero_add("a", 6),
        ("PRELU", [dict(name="alpha", data=np.linspace(0.1, 0.9, 6, dtype=f32).reshape(1, 1, 6))], ("r", [1]), None),
        _pool("p", 3, 2, "SAME"), _zero_add("y", 6)]), [2, 8, 8, 6], "r", None),
    "pool_before_prelu_int": (lambda: chain_model(("x", [2, 8, 8, 6]), [
        ("QUANTIZE", [], dict(name="q", shape=[1], dtype=np.int8, quantization=(0.05, -3)), None),
        ("PRELU", [dict(name="alpha", data=np.arange(20, 80, 10, dtype=np.int8).reshape(1, 1, 6),
                        quantization=(0.01, 0))], dict(name="r", shape=[1], dtype=np.int8, quantization=(0.04, 5)), None),
        ("MAX_POOL_2D", [], dict(name="p", shape=[1], dtype=np.int8, quantization=(0.04, 5)), _pool("p", 3, 2, "SAME")[3]),
        ("DEQUANTIZE", [], ("y", [1]), None)]), [2, 8, 8, 6], "r", None),
    "activation_onto_pool": (lambda: chain_model(("x", [1, 9, 9, 3]), [
        _zero_add("a", 3), _conv("c", 3, 5, "RELU6"), _pool("p", 3, 2), _zero_add("y", 5)]), [1, 9, 9, 3], None, None),
    "reshape_view": (lambda: chain_model(("x", [1, 2, 6]), [
        ("RELU", [], ("a", [1, 2, 6]), None),
        ("RESHAPE", [dict(name="shape", data=np.array([3, 4], np.int32))], ("r", [3, 4]), None),
        ("RELU", [], ("y", [3, 4]), None)]), [1, 2, 6], None, "r"),
    "bias_row": (lambda: chain_model(("x", [1, 6]), [
        _fc("h", 5, 6, "RELU"), _fc("y", 3, 5)]), [1, 6], None, "h"),
}


def _tensor(content, name):
    return next(i for i, t in enumerate(read_model(content).subgraphs[0].tensors) if t.name == name)


def _allocated(content, x, **kwargs):
    ip = tinylite.Interpreter(model_content=content, **kwargs)
    ip.allocate_tensors()
    ip.set_tensor(0, x)
    ip.invoke()
    return ip, ip.get_tensor(ip.get_output_details()[0]["index"])


def test_every_registered_pattern_has_a_case():
    assert {p.name for p in fusion.PATTERNS} == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_pattern_fires_keeps_outputs_and_gives_removed_tensors_no_memory(name, monkeypatch):
    make, shape, removed, placed = CASES[name]
    content = make()
    fired = []
    original = fusion.apply

    def recording(plans, keep):
        new_plans, done = original(plans, keep)
        fired.append((plans, new_plans, done))
        return new_plans, done
    monkeypatch.setattr(fusion, "apply", recording)
    for _ in range(2):      # cached buffers must follow new input values
        x = (rng.standard_normal(shape) * 3).astype(f32)
        ip, got = _allocated(content, x)
        _, plain = _allocated(content, x, experimental_preserve_all_tensors=True)
        _, ref = _allocated(content, x, experimental_op_resolver_type=tinylite.OpResolverType.BUILTIN_REF)
        # These rewrites reorder no sum: the outputs are the unrewritten plan's, float for float.
        np.testing.assert_array_equal(got, plain)
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6 * np.abs(ref).max())
    # Neither the reference resolver nor preserve_all_tensors rewrites anything.
    assert len(fired) == 2
    before, after, done = fired[-1]
    runner = ip._runner(0)
    # It fired, once, and the plan's steps changed there.
    assert done.fired == {name: 1} and [id(e[0]) for e in before] != [id(e[0]) for e in after]
    if removed is not None:
        t = _tensor(content, removed)
        assert done.elided == {t: name} and runner.elided == {t: name}
        assert t not in runner.allocations and runner.arrays[t] is None      # no memory at all
        assert all(t not in {s.index for s in n.inputs + n.outputs if s is not None} for _, n, _, _ in runner.steps)
        with pytest.raises(ValueError, match=f"{name}.*experimental_preserve_all_tensors=True"):
            ip.get_tensor(t)
    else:
        assert not runner.elided
    if placed is not None:
        t = _tensor(content, placed)
        assert t not in runner.allocations and runner.arrays[t] is not None
        if name == "reshape_view":
            assert np.shares_memory(runner.arrays[t], runner.arrays[_tensor(content, "a")])
        else:
            assert runner.arrays[t].base is done.bias_rows[t] and done.bias_rows[t][0, -1] == 1
    if name == "activation_onto_pool":
        conv, pool = (n for _, n, _, _ in runner.steps if n.op_name in ("CONV_2D", "MAX_POOL_2D"))
        assert conv.data.act is None and pool.data.act is not None
    # Applied before memory planning: never a larger arena than without this pattern.
    rewritten = runner.arena_bytes
    monkeypatch.setattr(fusion, "apply", original)
    monkeypatch.setattr(fusion, "PATTERNS", [p for p in fusion.PATTERNS if p.name != name])
    without, plain_out = _allocated(content, x)
    assert rewritten <= without.arena_bytes
    if removed is not None:
        assert _tensor(content, removed) in without._runner(0).allocations
    np.testing.assert_array_equal(got, plain_out)


def test_preserve_all_tensors_keeps_every_intermediate_with_the_same_outputs():
    make, shape, removed, _ = CASES["conv_max_pool"]
    content = make()
    x = rng.standard_normal(shape).astype(f32)
    ip, got = _allocated(content, x, experimental_preserve_all_tensors=True)
    _, fused = _allocated(content, x)
    np.testing.assert_array_equal(got, fused)
    runner = ip._runner(0)
    assert not runner.elided
    for d in ip.get_tensor_details():
        assert ip.get_tensor(d["index"]).shape == tuple(d["shape"])
    conv = ip.get_tensor(_tensor(content, removed))
    pooled = ip.get_tensor(_tensor(content, "p"))
    np.testing.assert_array_equal(pooled, conv.reshape(1, 6, 2, 6, 2, 8).max(axis=(2, 4)))


def test_a_tensor_read_through_a_view_is_not_fused_away():
    """CONV_2D's output read by a tiling MAX_POOL_2D and, through a RESHAPE
    (a view), by another op: the fused step would not compute it, so the
    conv and the pool stay two steps."""
    m = read_model(chain_model(("x", [1, 8, 8, 2]), [_conv("c", 2, 4), _pool("p", 2, 2)], signature=False))
    sg = m.subgraphs[0]
    c = next(i for i, t in enumerate(sg.tensors) if t.name == "c")
    sg.tensors += [Tensor("shape", np.array([2], np.int32), type=2, buffer=m.add_buffer(np.array([1, 256], np.int32))),
                   Tensor("r", np.array([1, 256], np.int32)), Tensor("z", np.array([1, 256], np.int32))]
    n = len(sg.tensors)
    for op_name, ins, outs in (("RESHAPE", [c, n - 3], [n - 2]), ("RELU", [n - 2], [n - 1])):
        op = Operator(m.opcode_index(OP_CODES[op_name]), ins, outs)
        op.builtin_options_type, op.builtin_options = encode_options(op_name, {})
        sg.operators.append(op)
    sg.outputs = [sg.outputs[0], n - 1]
    content = write_model(m)
    x = rng.standard_normal((1, 8, 8, 2)).astype(f32)
    ip, _ = _allocated(content, x)
    assert [node.op_name for _, node, _, _ in ip._runner(0).steps] == ["CONV_2D", "MAX_POOL_2D", "RELU"]
    plain, _ = _allocated(content, x, experimental_preserve_all_tensors=True)
    for d in ip.get_output_details():
        np.testing.assert_array_equal(ip.get_tensor(d["index"]), plain.get_tensor(d["index"]))


def test_allocate_tensors_is_a_pipeline_of_named_stages(monkeypatch):
    """allocate_tensors runs subgraph.STAGES in order, each a documented
    method; the rewrites come before memory planning."""
    methods = [m for _, m in STAGES]
    assert methods == ["_prepare_nodes", "_rewrite_plan", "_plan_memory", "_bind", "_split_batches", "_compile"]
    called = []
    for method in methods:
        fn = getattr(SubgraphRunner, method)
        assert callable(fn) and fn.__doc__ and fn.__name__ == method

        def stage(self, plan, fn=fn, method=method):
            called.append(method)
            return fn(self, plan)
        monkeypatch.setattr(SubgraphRunner, method, stage)
    ip = tinylite.Interpreter(model_content=CASES["conv_max_pool"][0]())
    ip.allocate_tensors()
    assert called == methods


def test_a_failing_stage_is_named(monkeypatch):
    def broken(self, plan):
        raise KeyError("boom")
    monkeypatch.setattr(SubgraphRunner, "_rewrite_plan", broken)
    ip = tinylite.Interpreter(model_content=CASES["reshape_view"][0]())
    with pytest.raises(PrepareError, match="while rewriting the plan"):
        ip.allocate_tensors()


def test_int8_prelu_with_a_negative_alpha_stays_before_its_pool():
    """Its table decreases for negative inputs there: max does not commute with it."""
    content = chain_model(("x", [1, 6, 6, 2]), [
        ("QUANTIZE", [], dict(name="q", shape=[1], dtype=np.int8, quantization=(0.05, -3)), None),
        ("PRELU", [dict(name="alpha", data=np.array([40, -40], np.int8).reshape(1, 1, 2), quantization=(0.01, 0))],
         dict(name="r", shape=[1], dtype=np.int8, quantization=(0.04, 5)), None),
        ("MAX_POOL_2D", [], dict(name="p", shape=[1], dtype=np.int8, quantization=(0.04, 5)), _pool("p", 2, 2)[3]),
        ("DEQUANTIZE", [], ("y", [1]), None)])
    x = (rng.standard_normal((1, 6, 6, 2)) * 3).astype(f32)
    ip, got = _allocated(content, x)
    assert "pool_before_prelu_int" not in ip._runner(0).elided.values()
    assert [n.op_name for _, n, _, _ in ip._runner(0).steps][1:3] == ["PRELU", "MAX_POOL_2D"]
    _, plain = _allocated(content, x, experimental_preserve_all_tensors=True)
    np.testing.assert_array_equal(got, plain)
