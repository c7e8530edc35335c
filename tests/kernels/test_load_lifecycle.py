"""What loading leaves behind: the garbage collector's state, reference cycles, and the
float64 weight copies only the reference kernels need (issue #14, fast load)."""
from __future__ import annotations

import contextlib
import gc
import threading

import numpy as np
import pytest

import tinylite
from tinylite.errors import TinyliteError
from tinylite.interpreter import gc_pause
from tinylite.testing import single_op_model

from test_optimized import transpose_conv_int8_case


@contextlib.contextmanager
def _collector_off():
    """The cyclic collector off (after a collection) for the block: a cycle the block leaves is then
    still there for its gc.collect() to count; the caller's setting is restored."""
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _add_model():
    q = (0.05, 3)
    return single_op_model("ADD", [dict(name="x", shape=[1, 4], dtype=np.int8, quantization=q),
                                   dict(name="y", shape=[1, 4], dtype=np.int8, quantization=(0.03, -2))],
                           [dict(name="z", shape=[1, 4], dtype=np.int8, quantization=(0.07, 1))])


@pytest.mark.parametrize("enabled", [True, False])
def test_load_restores_the_collectors_state(enabled):
    """Parsing and allocate_tensors pause the cyclic collector and give back the caller's setting."""
    was = gc.isenabled()
    seen = []
    real_allocate = tinylite.interpreter.subgraph.SubgraphRunner.allocate

    def spy(self):
        seen.append(gc.isenabled())
        return real_allocate(self)

    try:
        (gc.enable if enabled else gc.disable)()
        tinylite.interpreter.subgraph.SubgraphRunner.allocate = spy
        ip = tinylite.Interpreter(model_content=_add_model())
        assert gc.isenabled() is enabled
        ip.allocate_tensors()
        assert seen == [False], "the collector runs during allocate_tensors"
        assert gc.isenabled() is enabled
    finally:
        tinylite.interpreter.subgraph.SubgraphRunner.allocate = real_allocate
        (gc.enable if was else gc.disable)()


def test_failed_load_restores_the_collector():
    """A file that fails to parse, or to allocate, leaves the collector as it found it."""
    assert gc.isenabled()
    with pytest.raises(ValueError):
        tinylite.Interpreter(model_content=b"not a flatbuffer at all, clearly")
    assert gc.isenabled()
    bad = single_op_model("ADD", [dict(name="x", shape=[1, 4]), dict(name="y", shape=[1, 3])],
                          [dict(name="z", shape=[1, 4])])
    ip = tinylite.Interpreter(model_content=bad)
    with pytest.raises(TinyliteError):
        ip.allocate_tensors()
    assert gc.isenabled()


def test_nested_and_concurrent_pauses_restore_once():
    """The last of overlapping pauses (threads, a subgraph planned inside its parent's) restores."""
    assert gc.isenabled()
    inside, release = threading.Event(), threading.Event()

    def other():
        with gc_pause.gc_paused():
            inside.set()
            release.wait(10)

    t = threading.Thread(target=other)
    t.start()
    inside.wait(10)
    with gc_pause.gc_paused():
        with gc_pause.gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert not gc.isenabled(), "restored while another thread's load was still paused"
    release.set()
    t.join(10)
    assert gc.isenabled()


def _run(content, xs, **kw):
    ip = tinylite.Interpreter(model_content=content, **kw)
    ip.allocate_tensors()
    for d, x in zip(ip.get_input_details(), xs):
        ip.set_tensor(d["index"], x)
    ip.invoke()
    return ip


@pytest.mark.parametrize("case", ["add_int8", "transpose_conv_int8"])
def test_dropped_interpreter_leaves_no_cycles(case):
    """A dropped interpreter (after allocate and invoke) is freed by reference counting: its
    arrays do not wait for a full collection of the cyclic garbage collector."""
    if case == "add_int8":
        content = _add_model()
        xs = [np.arange(4, dtype=np.int8).reshape(1, 4), np.arange(4, dtype=np.int8).reshape(1, 4)]
    else:
        content, xs = transpose_conv_int8_case(0, 3, 2, "SAME", 10, "RELU", True)
    with _collector_off():
        ip = _run(content, xs)
        ip.get_tensor(ip.get_output_details()[0]["index"])
        del ip
        assert gc.collect() == 0


def _hard_swish_model():
    return single_op_model("HARD_SWISH", [dict(name="x", shape=[1, 8], dtype=np.int8, quantization=(0.05, 3))],
                           [dict(name="y", shape=[1, 8], dtype=np.int8, quantization=(0.04, -2))])


@pytest.mark.parametrize("make", [_add_model, _hard_swish_model])
@pytest.mark.parametrize("invoke", [False, True])
def test_replanned_interpreter_leaves_no_cycles(make, invoke):
    """allocate_tensors again drops the previous plan's nodes without leaving cycles (a lazy
    table's fill refers back to its node until it has run), invoked or not."""
    content = make()
    with _collector_off():
        ip = tinylite.Interpreter(model_content=content)
        ip.allocate_tensors()
        if invoke:
            ip.invoke()
        ip.allocate_tensors()
        ip.invoke()
        del ip
        assert gc.collect() == 0


def test_load_leaves_no_young_objects_to_walk():
    """After a load the objects it made are in the oldest generation: no young collection walks
    them again as the load ends (~1 ms for a 200-op model)."""
    assert gc.isenabled()
    gc.collect()
    seen = []

    def record(phase, info):
        if phase == "start":
            seen.append(info["generation"])

    gc.callbacks.append(record)
    try:
        ip = tinylite.Interpreter(model_content=_hard_swish_model())
        ip.allocate_tensors()
    finally:
        gc.callbacks.remove(record)
    assert seen == []
    assert gc.get_count()[0] < 50
    assert gc.isenabled()


def test_load_keeps_the_process_frozen_objects_frozen():
    """Where the process froze objects itself (gc.freeze before a fork), a load leaves them frozen."""
    gc.collect()
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        ip = tinylite.Interpreter(model_content=_hard_swish_model())
        ip.allocate_tensors()
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


def _transpose_node(ip):
    return next(n for n in ip._runner(0).nodes if n.op_name == "TRANSPOSE_CONV")


def test_reference_weight_copy_is_made_only_when_the_reference_runs():
    """The reference int8 TRANSPOSE_CONV's float64 weight matrix is made at its first run, and
    never where the optimized kernel runs instead."""
    content, xs = transpose_conv_int8_case(1, 3, 2, "SAME", 10, "NONE", True)
    fast = _run(content, xs)
    assert "q_wmat" not in _transpose_node(fast).cache
    ref = tinylite.Interpreter(model_content=content, experimental_op_resolver_type=tinylite.OpResolverType.BUILTIN_REF)
    ref.allocate_tensors()
    assert "q_wmat" not in _transpose_node(ref).cache
    for d, x in zip(ref.get_input_details(), xs):
        ref.set_tensor(d["index"], x)
    ref.invoke()
    wm = _transpose_node(ref).cache["q_wmat"]
    assert wm.dtype == np.float64
    first = ref.get_tensor(ref.get_output_details()[0]["index"]).copy()
    ref.invoke()
    assert _transpose_node(ref).cache["q_wmat"] is wm          # made once
    np.testing.assert_array_equal(ref.get_tensor(ref.get_output_details()[0]["index"]), first)
    np.testing.assert_array_equal(fast.get_tensor(fast.get_output_details()[0]["index"]), first)
