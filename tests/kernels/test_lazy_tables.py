"""Tables filled at their first use and shared by key (kernels/_lazy.py): the 8-bit
unary tables of HARD_SWISH, LEAKY_RELU and RELU-like ops (_quantization._lut_or_direct),
their by-byte copies (optimized/_unary_table) and MEAN's sum tables (optimized/mean).

allocate_tensors leaves them empty, the first invoke fills them, nodes with equal
parameters share one, an interpreter loaded again finds them filled; the results are
the eagerly computed reference's and LiteRT's, bit for bit (issue #14, fast load)."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import tinylite
from tinylite.kernels import _quantization, hard_swish
from tinylite.kernels._lazy import LazyTable
from tinylite.kernels.optimized import _unary_table, mean as opt_mean
from tinylite.testing import graph_model

from oracle import litert_interpreter, run


@pytest.fixture
def empty_caches(monkeypatch):
    """Fresh table caches: what a first load in a process finds."""
    monkeypatch.setattr(_quantization, "_TABLES", OrderedDict())
    monkeypatch.setattr(_unary_table, "_BY_BYTE", OrderedDict())
    monkeypatch.setattr(opt_mean, "_tables", OrderedDict())


def _q(name, shape, scale, zp, dtype=np.int8):
    return dict(name=name, shape=list(shape), dtype=dtype, quantization=(float(scale), int(zp)))


def _unary_model(op, dtype, options=None):
    """x -> op -> a, x -> op -> b (a and b quantized alike: the two nodes' tables are equal),
    x -> op -> c (another output scale: another table)."""
    zp = -3 if dtype == np.int8 else 125
    tensors = [_q("x", [1, 256], 0.05, zp, dtype), _q("a", [1, 256], 0.04, zp + 2, dtype),
               _q("b", [1, 256], 0.04, zp + 2, dtype), _q("c", [1, 256], 0.09, zp - 1, dtype)]
    ops = [(op, ["x"], [name], options) for name in "abc"]
    return graph_model(tensors, ops, ["a", "b", "c"])


def _every_value(dtype):
    info = np.iinfo(dtype)
    return np.arange(info.min, info.max + 1).astype(dtype).reshape(1, 256)


def _invoke(ip, x):
    """Set the one input, invoke (no allocate_tensors: the plan stays the one under test), the outputs."""
    ip.set_tensor(ip.get_input_details()[0]["index"], x)
    ip.invoke()
    return [ip.get_tensor(d["index"]) for d in ip.get_output_details()]


def _nodes(ip, op):
    return [n for n in ip._runner(0).nodes if n.op_name == op]


def _fill_calls(ip):
    return [c for c in ip._runner(0).tape.calls if getattr(c, "__name__", "") == "fill"]


@pytest.mark.parametrize("op, options", [("HARD_SWISH", None), ("LEAKY_RELU", dict(alpha=-0.3)),
                                         ("RELU6", None), ("RELU", None)])
@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
@pytest.mark.parametrize("resolver", ["builtin", "ref"])
def test_unary_tables_fill_at_first_invoke_and_are_shared(empty_caches, op, options, dtype, resolver):
    content = _unary_model(op, dtype, options)
    x = _every_value(dtype)
    kind = tinylite.OpResolverType.BUILTIN_REF if resolver == "ref" else tinylite.OpResolverType.BUILTIN
    ip = tinylite.Interpreter(model_content=content, experimental_op_resolver_type=kind)
    ip.allocate_tensors()
    tables = [n.data.q_lut for n in _nodes(ip, op)]
    assert all(isinstance(t, LazyTable) for t in tables)
    assert not any(t.filled for t in tables), "allocate_tensors computed a table"
    assert tables[0].key == tables[1].key != tables[2].key
    # The tables the plan reads: the reference's (BUILTIN_REF), else their by-byte copies, each
    # filled by a call the plan makes first.
    used = tables if resolver == "ref" else [c.__self__ for c in _fill_calls(ip)]
    assert len(used) == 3 and not any(t.filled for t in used)
    got = _invoke(ip, x)
    assert all(t.filled for t in used)
    assert np.array_equal(used[0].values(), used[1].values())
    want = run(litert_interpreter(content, resolver), [x])
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and np.array_equal(g, w)

    # The same model again: its tables come from the cache at allocate, and its plan has no fill call.
    again = tinylite.Interpreter(model_content=content, experimental_op_resolver_type=kind)
    again.allocate_tensors()
    assert all(n.data.q_lut.filled for n in _nodes(again, op))
    assert not _fill_calls(again)
    for g, w in zip(_invoke(again, x), want):
        assert np.array_equal(g, w)


def test_hard_swish_lazy_table_is_the_eager_reference(empty_caches):
    """The table filled at invoke holds what the reference's arithmetic gives for every value
    (computed here directly), and the first invoke's fills leave the plan's lookups the same."""
    content = _unary_model("HARD_SWISH", np.int8)
    ip = tinylite.Interpreter(model_content=content)
    ip.allocate_tensors()
    assert len(_fill_calls(ip)) == 3         # one per node: the by-byte tables (each fills its reference table)
    node = _nodes(ip, "HARD_SWISH")[0]
    eager = hard_swish._hard_swish(node, np.arange(-128, 128, dtype=np.int64)).astype(np.int8)
    x = _every_value(np.int8)
    first = _invoke(ip, x)
    assert np.array_equal(node.data.q_lut.values(), eager)
    assert np.array_equal(first[0].reshape(-1), eager)
    assert np.array_equal(_invoke(ip, x)[0], first[0])


def _mean_model(dtype, hw, channels):
    """Two spatial MEANs (keep_dims) quantized alike and one with another output scale."""
    zp = -5 if dtype == np.int8 else 130
    tensors = [_q("x", [1, hw, hw, channels], 0.02, zp, dtype), dict(name="axes", data=np.array([1, 2], np.int32)),
               _q("a", [1, 1, 1, channels], 0.015, zp + 1, dtype), _q("b", [1, 1, 1, channels], 0.015, zp + 1, dtype),
               _q("c", [1, 1, 1, channels], 0.03, zp - 2, dtype)]
    ops = [("MEAN", ["x", "axes"], [name], dict(keep_dims=True)) for name in "abc"]
    return graph_model(tensors, ops, ["a", "b", "c"])


@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
def test_mean_tables_fill_at_first_invoke_and_are_shared(empty_caches, dtype):
    # 20 channels: 16 in LiteRT's SIMD block, 4 in its tail (two tables a node).
    content = _mean_model(dtype, 6, 20)
    info = np.iinfo(dtype)
    rng = np.random.default_rng(3)
    xs = [rng.integers(info.min, info.max + 1, (1, 6, 6, 20)).astype(dtype) for _ in range(3)]
    xs[0][...] = info.min              # the tables' ends
    xs[1][...] = info.max
    ip = tinylite.Interpreter(model_content=content)
    ip.allocate_tensors()
    nodes = _nodes(ip, "MEAN")
    tables = [t for n in nodes for t in n.data.opt_tables]
    assert len(tables) == 6 and all(isinstance(t, LazyTable) for t in tables)
    assert not any(t.filled for t in tables)
    assert [t.key for t in tables[:2]] == [t.key for t in tables[2:4]] != [t.key for t in tables[4:]]
    for x in xs:
        got = _invoke(ip, x)
        want = run(litert_interpreter(content), [x])
        for g, w in zip(got, want):
            assert g.dtype == w.dtype and np.array_equal(g, w)
    assert all(t.filled for t in tables)
    again = tinylite.Interpreter(model_content=content)
    again.allocate_tensors()
    assert all(t.filled for n in _nodes(again, "MEAN") for t in n.data.opt_tables)
    assert not _fill_calls(again)
    for x in xs:
        assert all(np.array_equal(g, w) for g, w in zip(_invoke(again, x), run(litert_interpreter(content), [x])))


def test_lazy_table_cache_keeps_its_newest():
    cache = OrderedDict()
    tables = [LazyTable(("k", i), np.int8, lambda a, i=i: a.fill(i), cache, 2, entries=3) for i in range(3)]
    for t in tables:
        t.fill()
    assert list(cache) == [("k", 1), ("k", 2)]
    assert tables[0].values().tolist() == [0, 0, 0] and not tables[0].values().flags.writeable
    late = LazyTable(("k", 0), np.int8, lambda a: a.fill(0), cache, 2, entries=3)
    assert not late.filled            # evicted: filled again at its first use
    assert late.values().tolist() == [0, 0, 0]
