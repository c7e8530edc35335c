"""STRING tensors against LiteRT: the kernels LiteRT runs on strings (among tinylite's ops),
string constants read from (and written to) the file, and what set_tensor / get_tensor
make of numpy bytes, str and object arrays."""
import numpy as np
import pytest

import tinylite
from oracle import litert_interpreter
from tinylite.flatbuffer import strings
from tinylite.flatbuffer.reader import parse
from tinylite.flatbuffer.writer import write_model
from tinylite.testing import single_op_model

rng = np.random.default_rng(7)
S = np.bytes_        # how a STRING tensor's dtype reads in the details


def words(shape):
    """Random strings: empty ones, NULs inside, non-ASCII bytes, various lengths."""
    pool = [b"", b"a", b"bb", b"a\x00b", "é".encode(), b"\xff\xfe", b"hello world", b"x" * 40]
    flat = [pool[k] for k in rng.integers(0, len(pool), int(np.prod(shape, dtype=np.int64)))]
    out = np.empty(len(flat), dtype=object)
    out[:] = flat
    return out.reshape(shape)


def run(ip, feeds):
    ip.allocate_tensors()
    for d, x in zip(ip.get_input_details(), feeds):
        ip.set_tensor(d["index"], x)
    ip.invoke()
    return [ip.get_tensor(d["index"]) for d in ip.get_output_details()]


def assert_same(content, feeds):
    ours = tinylite.Interpreter(model_content=content)
    theirs = litert_interpreter(content)
    got, want = run(ours, feeds), run(theirs, feeds)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape, (g, w)
        assert g.tolist() == w.tolist(), (g, w)
    for a, b in zip(ours.get_input_details() + ours.get_output_details(),
                    theirs.get_input_details() + theirs.get_output_details()):
        assert a["dtype"] == b["dtype"] and a["name"] == b["name"]
    return got


@pytest.mark.parametrize("index_type", [np.int32, np.int64])
def test_gather(index_type):
    idx = np.array([[4, 0], [2, 2], [1, 3]], index_type)
    content = single_op_model("GATHER", [("params", [5], S), ("indices", [3, 2], index_type)],
                              [("out", [3, 2], S)])
    assert_same(content, [words([5]), idx])


def test_string_model_details_match_litert():
    from test_interpreter_api import assert_details_equal

    table = np.array([b"zero", b"one"], dtype=object)
    content = single_op_model("GATHER", [dict(name="table", data=table), ("i", [3], np.int32)], [("o", [3], S)])
    ours, theirs = tinylite.Interpreter(model_content=content), litert_interpreter(content)
    for ip in (ours, theirs):
        ip.allocate_tensors()
    assert_details_equal(ours.get_tensor_details(), theirs.get_tensor_details())
    assert_details_equal(ours.get_output_details(), theirs.get_output_details())


def test_gather_from_string_constant():
    table = np.array([b"zero", b"one", b"", "drei"], dtype=object)
    content = single_op_model("GATHER", [dict(name="table", data=table), ("i", [], np.int32)], [("o", [], S)])
    got = assert_same(content, [np.array(3, np.int32)])
    assert got[0].item() == "drei".encode()


def test_gather_out_of_range_and_multi_d_strings_are_errors():
    content = single_op_model("GATHER", [("p", [3], S), ("i", [1], np.int32)], [("o", [1], S)])
    ip = tinylite.Interpreter(model_content=content)
    ip.allocate_tensors()
    ip.set_tensor(1, np.array([3], np.int32))
    with pytest.raises(RuntimeError, match="out of bounds"):
        ip.invoke()
    content = single_op_model("GATHER", [("p", [2, 2], S), ("i", [1], np.int32)], [("o", [1, 2], S)])
    with pytest.raises(RuntimeError, match="STRING input must be 1-D"):
        tinylite.Interpreter(model_content=content).allocate_tensors()
    with pytest.raises(RuntimeError):
        litert_interpreter(content).allocate_tensors()


def test_reshape_squeeze_expand_dims():
    x = words([2, 1, 3])
    assert_same(single_op_model("RESHAPE", [("x", [2, 1, 3], S), dict(name="s", data=np.array([3, 2], np.int32))],
                                [("y", [3, 2], S)]), [x])
    assert_same(single_op_model("SQUEEZE", [("x", [2, 1, 3], S)], [("y", [2, 3], S)],
                                options=dict(squeeze_dims=[1])), [x])
    assert_same(single_op_model("EXPAND_DIMS", [("x", [2, 1, 3], S), dict(name="a", data=np.array([-1], np.int32))],
                                [("y", [2, 1, 3, 1], S)]), [x])


def test_shape_of_strings():
    assert_same(single_op_model("SHAPE", [("x", [2, 3], S)], [("y", [2], np.int32)], options=dict(out_type=2)),
                [words([2, 3])])


def test_slice_and_strided_slice():
    x = words([3, 4])
    assert_same(single_op_model("SLICE", [("x", [3, 4], S), dict(name="b", data=np.array([1, 1], np.int32)),
                                          dict(name="n", data=np.array([-1, 2], np.int32))],
                                [("y", [2, 2], S)]), [x])
    assert_same(single_op_model(
        "STRIDED_SLICE", [("x", [3, 4], S), dict(name="b", data=np.array([0, 3], np.int32)),
                          dict(name="e", data=np.array([3, 0], np.int32)),
                          dict(name="s", data=np.array([2, -1], np.int32))],
        [("y", [2, 3], S)]), [x])


def test_tile_and_fill():
    assert_same(single_op_model("TILE", [("x", [2, 1], S), dict(name="m", data=np.array([2, 3], np.int32))],
                                [("y", [4, 3], S)]), [words([2, 1])])
    # The value as a 0-d bytes array: of a 0-d object array, LiteRT stores the object's address.
    assert_same(single_op_model("FILL", [dict(name="d", data=np.array([2, 3], np.int32)), ("v", [], S)],
                                [("y", [2, 3], S)]), [np.array(b"fill\x00me")])


@pytest.mark.parametrize("op", ["EQUAL", "NOT_EQUAL"])
def test_equal_and_not_equal_broadcast(op):
    x = words([3, 4])
    y = x[1:2].copy()
    content = single_op_model(op, [("x", [3, 4], S), ("y", [1, 4], S)], [("z", [3, 4], np.bool_)])
    got = assert_same(content, [x, y])
    assert got[0].dtype == np.bool_ and got[0][1].all() == (op == "EQUAL")


def test_ops_litert_does_not_run_on_strings_are_refused():
    content = single_op_model("LESS", [("x", [2], S), ("y", [2], S)], [("z", [2], np.bool_)])
    with pytest.raises(tinylite.UnsupportedOpError, match="LESS"):
        tinylite.Interpreter(model_content=content).allocate_tensors()
    with pytest.raises(RuntimeError):
        litert_interpreter(content).allocate_tensors()


def test_string_constants_fold_and_round_trip_through_the_writer():
    table = words([6])
    content = single_op_model("RESHAPE", [dict(name="t", data=table), dict(name="s", data=np.array([2, 3], np.int32))],
                              [("y", [2, 3], S)])
    model = parse(content)
    assert strings.decode(model.buffers[model.subgraphs[0].tensors[0].buffer].data, [6]).tolist() == table.tolist()
    again = write_model(parse(write_model(model)))
    for c in (content, again):
        ip = tinylite.Interpreter(model_content=c)
        ip.allocate_tensors()
        ip.invoke()
        assert ip.get_tensor(ip.get_output_details()[0]["index"]).tolist() == table.reshape(2, 3).tolist()
    theirs = litert_interpreter(again)
    theirs.allocate_tensors()
    theirs.invoke()
    assert theirs.get_tensor(theirs.get_output_details()[0]["index"]).tolist() == table.reshape(2, 3).tolist()


def _identity_model(shape):
    return single_op_model("RESHAPE", [("x", shape, S), dict(name="s", data=np.array(shape, np.int32))],
                           [("y", shape, S)])


@pytest.mark.parametrize("value", [
    np.array([b"a\x00\x00", b"b\x00c", b"", b"d"]),                      # S: trailing NULs dropped
    np.array(["a", "é", "", "\x00x"]),                                    # U: UTF-8
    np.array([b"a\x00", "é", b"", b"\xff"], dtype=object),               # object: taken as they are
])
def test_set_and_get_tensor_like_litert(value):
    content = _identity_model([4])
    ours, theirs = tinylite.Interpreter(model_content=content), litert_interpreter(content)
    for ip in (ours, theirs):
        ip.allocate_tensors()
        ip.set_tensor(0, value)
    a, b = ours.get_tensor(0), theirs.get_tensor(0)
    assert a.dtype == b.dtype == object and a.tolist() == b.tolist()
    ours.invoke()
    theirs.invoke()
    assert ours.get_tensor(1).tolist() == theirs.get_tensor(1).tolist()


def test_zero_d_bytes_are_taken_whole_as_litert_takes_them():
    content = _identity_model([])
    data = np.array(b"abcd" + bytes(16))
    ours, theirs = tinylite.Interpreter(model_content=content), litert_interpreter(content)
    for ip in (ours, theirs):
        ip.allocate_tensors()
        ip.set_tensor(0, data)
    assert ours.get_tensor(0).item() == theirs.get_tensor(0).item() == b"abcd" + bytes(16)


def test_set_tensor_errors():
    content = _identity_model([2])
    ours, theirs = tinylite.Interpreter(model_content=content), litert_interpreter(content)
    for ip in (ours, theirs):
        ip.allocate_tensors()
        with pytest.raises(ValueError, match="Got value of type INT64 but expected type STRING"):
            ip.set_tensor(0, np.array([1, 2]))
        with pytest.raises(ValueError, match="Dimension mismatch"):
            ip.set_tensor(0, np.array([b"a", b"b", b"c"]))
    with pytest.raises(ValueError, match="holds bytes or str values, got int"):
        ours.set_tensor(0, np.array([b"a", 3], dtype=object))
    # Unwritten string tensors read as empty strings (LiteRT's crash here is not copied).
    assert tinylite.Interpreter(model_content=content).get_input_details()[0]["dtype"] is np.bytes_


def test_corrupt_string_buffers_are_invalid_models():
    for raw, why in [(b"\x01\x00", "fewer than the 4-byte"), (b"\x05\x00\x00\x00" + bytes(8), "claims 5 strings"),
                     (np.array([1, 12, 99], "<i4").tobytes(), "out of order or point past")]:
        with pytest.raises(tinylite.InvalidModelError, match=why):
            strings.decode(np.frombuffer(raw, np.uint8), [1])
    with pytest.raises(tinylite.InvalidModelError, match="holds 1 strings but its shape \\[2\\]"):
        strings.decode(strings.encode(np.array([b"a"], object)), [2])


def _gather_graph(g, src, idx_name, idx, out, shape=(2,)):
    g.const(idx_name, np.array(idx, np.int32), np.int32)
    g.tensor(out, shape, S)
    g.op("GATHER", [src, idx_name], [out], axis=0)


@pytest.mark.parametrize("cond", [True, False])
def test_if_passes_strings_between_subgraphs(cond):
    from test_control_flow import Graph

    from tinylite.graph import Model

    m = Model()
    main, then, other = Graph(m), Graph(m), Graph(m)
    main.tensor("c", (), np.bool_)
    main.tensor("s", (2,), S)
    main.tensor("z", (2,), S)
    main.op("IF", ["c", "s"], ["z"], then_subgraph_index=1, else_subgraph_index=2)
    main.io(["c", "s"], ["z"])
    for g, idx in ((then, [0, 0]), (other, [1, 0])):
        g.tensor("s", (2,), S)
        _gather_graph(g, "s", "i", idx, "z")
        g.io(["s"], ["z"])
    assert_same(write_model(m), [np.array(cond), np.array([b"first", b"second"], dtype=object)])


@pytest.mark.parametrize("start", [0, 3, 6])
def test_while_carries_strings(start):
    from test_control_flow import Graph

    from tinylite.graph import Model

    m = Model()
    main, cond, body = Graph(m), Graph(m), Graph(m)
    for g in (main, cond, body):
        g.tensor("i", (), np.int32)
        g.tensor("s", (3,), S)
    main.tensor("i_out", (), np.int32)
    main.tensor("s_out", (3,), S)
    main.op("WHILE", ["i", "s"], ["i_out", "s_out"], cond_subgraph_index=1, body_subgraph_index=2)
    main.io(["i", "s"], ["i_out", "s_out"])
    cond.const("n", np.int32(5), np.int32)
    cond.tensor("keep", (), np.bool_)
    cond.op("LESS", ["i", "n"], ["keep"])
    cond.io(["i", "s"], ["keep"])
    body.const("one", np.int32(1), np.int32)
    body.tensor("i1", (), np.int32)
    body.op("ADD", ["i", "one"], ["i1"])
    _gather_graph(body, "s", "rot", [1, 2, 0], "s1", (3,))     # rotate by one each step
    body.io(["i", "s"], ["i1", "s1"])
    got = assert_same(write_model(m), [np.int32(start), np.array([b"a", b"bb", "\u00e9"], dtype=object)])
    assert got[1].tolist() == np.roll(np.array([b"a", b"bb", "\u00e9".encode()], object), -max(5 - start, 0)).tolist()


def test_tinylite_run_takes_string_npy_inputs(tmp_path):
    from tinylite.tools.run import run_model

    content = single_op_model("GATHER", [("p", [3], S), ("i", [2], np.int64)], [("o", [2], S)])
    (tmp_path / "m.tflite").write_bytes(content)
    np.save(tmp_path / "p.npy", np.array(["a", "bb", "\u00e9"]))
    np.save(tmp_path / "i.npy", np.array([2, 0]))
    _, outs = run_model(str(tmp_path / "m.tflite"), [str(tmp_path / "p.npy"), str(tmp_path / "i.npy")])
    assert outs[0].tolist() == ["\u00e9".encode(), b"a"]
