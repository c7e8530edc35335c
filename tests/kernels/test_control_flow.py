"""Differential tests of the control-flow ops (WHILE, IF, CALL_ONCE) and the
resource-variable ops (VAR_HANDLE, READ_VARIABLE, ASSIGN_VARIABLE) against
ai-edge-litert, on multi-subgraph models built here."""
import numpy as np
import pytest

import tinylite
from oracle import assert_same_outputs, litert_interpreter
from tinylite.converter.options import set_options
import tinylite.testing
from tinylite.flatbuffer.schema import OP_CODES, TENSOR_TYPES, numpy_dtype, tensor_type
from tinylite.flatbuffer.writer import write_model
from tinylite.graph import Model, Operator, Subgraph, Tensor

rng = np.random.default_rng(3)


class Graph:
    """A subgraph under construction: tensors by name, ops appended in order."""

    def __init__(self, model):
        self.model = model
        self.sg = Subgraph()
        self.index = len(model.subgraphs)
        model.subgraphs.append(self.sg)
        self.names = {}

    def tensor(self, name, shape=(), dtype=np.float32, data=None, signature=None):
        buffer = 0
        if data is not None:
            data = np.asarray(data, dtype)
            shape = data.shape
            buffer = self.model.add_buffer(data)
        type_code = TENSOR_TYPES["RESOURCE"] if dtype == "resource" else tensor_type(dtype)
        self.sg.tensors.append(Tensor(name=name, shape=np.array(shape, np.int32).reshape(-1), type=type_code,
                                      buffer=buffer,
                                      shape_signature=None if signature is None else np.array(signature, np.int32)))
        self.names[name] = len(self.sg.tensors) - 1
        return self.names[name]

    def const(self, name, value, dtype=np.float32):
        return self.tensor(name, dtype=dtype, data=value)

    def op(self, op_name, inputs, outputs, **options):
        idx = lambda n: -1 if n is None else self.names[n]   # noqa: E731
        op = Operator(self.model.opcode_index(OP_CODES[op_name], 1), [idx(n) for n in inputs],
                      [idx(n) for n in outputs])
        tinylite.testing.record_op(op_name, tuple("-" if n is None else self.type_name(n) for n in inputs))
        # String options (VAR_HANDLE's names) go in as they are: encode_options reads strings as enum names.
        strings = {k: v for k, v in options.items() if isinstance(v, str)}
        set_options(op, op_name, {k: v for k, v in options.items() if k not in strings} or None)
        if strings:
            op.builtin_options.update(strings)
        self.sg.operators.append(op)

    def type_name(self, name):
        code = self.sg.tensors[self.names[name]].type
        if code == TENSOR_TYPES["RESOURCE"]:
            return "resource"
        dtype = np.dtype(numpy_dtype(code))
        return "bytes" if dtype == object else dtype.name

    def io(self, inputs, outputs):
        self.sg.inputs = [self.names[n] for n in inputs]
        self.sg.outputs = [self.names[n] for n in outputs]


def counting_loop(n_steps, shape=(2, 3), dynamic_concat=False):
    """main: (i, x) -> WHILE(i < n) {i + 1, x * 0.5 + 1} (or x concatenated with itself)."""
    m = Model()
    main, cond, body = Graph(m), Graph(m), Graph(m)
    xshape = list(shape)
    main.tensor("i", (), np.int32)
    main.tensor("x", xshape, signature=[-1] + xshape[1:])
    main.tensor("i_out", (), np.int32)
    main.tensor("x_out", xshape)
    main.tensor("y", xshape)
    main.op("WHILE", ["i", "x"], ["i_out", "x_out"], cond_subgraph_index=1, body_subgraph_index=2)
    main.const("two", np.float32(2))
    main.op("MUL", ["x_out", "two"], ["y"])
    main.io(["i", "x"], ["i_out", "y"])

    cond.tensor("i", (), np.int32)
    cond.tensor("x", xshape)
    cond.const("n", np.int32(n_steps), np.int32)
    # i < n as CAST(max(n - i, 0)) -> bool (tinylite has no comparison kernels yet).
    cond.const("zero", np.int32(0), np.int32)
    cond.tensor("d", (), np.int32)
    cond.tensor("dpos", (), np.int32)
    cond.tensor("keep", (), np.bool_)
    cond.op("SUB", ["n", "i"], ["d"])
    cond.op("MAXIMUM", ["d", "zero"], ["dpos"])
    cond.op("CAST", ["dpos"], ["keep"])
    cond.io(["i", "x"], ["keep"])

    body.tensor("i", (), np.int32)
    body.tensor("x", xshape)
    body.const("one", np.int32(1), np.int32)
    body.tensor("i1", (), np.int32)
    body.op("ADD", ["i", "one"], ["i1"])
    body.tensor("x1", xshape)
    if dynamic_concat:
        body.op("CONCATENATION", ["x", "x"], ["x1"], axis=0)
    else:
        body.const("half", np.float32(0.5))
        body.const("onef", np.float32(1))
        body.tensor("xh", xshape)
        body.op("MUL", ["x", "half"], ["xh"])
        body.op("ADD", ["xh", "onef"], ["x1"])
    body.io(["i", "x"], ["i1", "x1"])
    return write_model(m)


@pytest.mark.parametrize("start", [0, 3, 7])
def test_while_static(start):
    content = counting_loop(5)
    x = rng.standard_normal((2, 3)).astype(np.float32)
    assert_same_outputs(content, [np.int32(start), x])


def test_while_batch_resize():
    content = counting_loop(4)
    assert_same_outputs(content, [np.int32(1), rng.standard_normal((5, 3)).astype(np.float32)])


@pytest.mark.parametrize("start", [0, 2, 4])
def test_while_growing_shape(start):
    # The body doubles x along axis 0: the output shape is only known after the loop.
    content = counting_loop(4, shape=(1, 2), dynamic_concat=True)
    assert_same_outputs(content, [np.int32(start), rng.standard_normal((1, 2)).astype(np.float32)])


def branch_model(same_shapes=True):
    """main: IF(c) then x * y else x - y (or, with different shapes, else the concatenation [x, y])."""
    m = Model()
    main, then, other = Graph(m), Graph(m), Graph(m)
    main.tensor("c", (), np.bool_)
    main.tensor("x", (2, 2))
    main.tensor("y", (2, 2))
    main.tensor("z", (2, 2))
    main.op("IF", ["c", "x", "y"], ["z"], then_subgraph_index=1, else_subgraph_index=2)
    main.io(["c", "x", "y"], ["z"])
    for g in (then, other):
        g.tensor("x", (2, 2))
        g.tensor("y", (2, 2))
        g.tensor("z", (2, 2))
        g.io(["x", "y"], ["z"])
    then.op("MUL", ["x", "y"], ["z"])
    if same_shapes:
        other.op("SUB", ["x", "y"], ["z"])
    else:
        other.sg.tensors[other.names["z"]].shape = np.array([4, 2], np.int32)
        other.op("CONCATENATION", ["x", "y"], ["z"], axis=0)
    return write_model(m)


@pytest.mark.parametrize("cond", [True, False])
@pytest.mark.parametrize("same_shapes", [True, False])
def test_if(cond, same_shapes):
    content = branch_model(same_shapes)
    feeds = [np.array(cond), rng.standard_normal((2, 2)).astype(np.float32),
             rng.standard_normal((2, 2)).astype(np.float32)]
    assert_same_outputs(content, feeds)


def test_if_both_branches_on_one_interpreter():
    content = branch_model(True)
    lite, mine = litert_interpreter(content), tinylite.Interpreter(model_content=content)
    for it in (lite, mine):
        it.allocate_tensors()
    for cond in (True, False, True):
        x, y = rng.standard_normal((2, 2)).astype(np.float32), rng.standard_normal((2, 2)).astype(np.float32)
        outs = []
        for it in (lite, mine):
            for d, v in zip(it.get_input_details(), (np.array(cond), x, y)):
                it.set_tensor(d["index"], v)
            it.invoke()
            outs.append(it.get_tensor(it.get_output_details()[0]["index"]))
        np.testing.assert_allclose(outs[1], outs[0], rtol=1e-6)


def stateful_model():
    """A counter in a resource variable: CALL_ONCE initializes it to `init`, each
    invoke adds the input and returns the new total (the pattern of TF's stateful
    models converted with resource variables)."""
    m = Model()
    main, init = Graph(m), Graph(m)
    main.tensor("x", (3,))
    main.tensor("h", (), "resource")
    main.tensor("v", (3,))
    main.tensor("total", (3,))
    main.op("CALL_ONCE", [], [], init_subgraph_index=1)
    main.op("VAR_HANDLE", [], ["h"], shared_name="acc")
    main.op("READ_VARIABLE", ["h"], ["v"])
    main.op("ADD", ["v", "x"], ["total"])
    main.op("ASSIGN_VARIABLE", ["h", "total"], [])
    main.io(["x"], ["total"])
    init.tensor("h", (), "resource")
    init.const("init", np.array([1.0, -2.0, 0.5], np.float32))
    init.op("VAR_HANDLE", [], ["h"], shared_name="acc")
    init.op("ASSIGN_VARIABLE", ["h", "init"], [])
    init.io([], [])
    return write_model(m)


def test_resource_variables_with_call_once():
    content = stateful_model()
    lite, mine = litert_interpreter(content), tinylite.Interpreter(model_content=content)
    for it in (lite, mine):
        it.allocate_tensors()
    for step in range(4):
        x = rng.standard_normal(3).astype(np.float32)
        outs = []
        for it in (lite, mine):
            it.set_tensor(it.get_input_details()[0]["index"], x)
            it.invoke()
            outs.append(it.get_tensor(it.get_output_details()[0]["index"]))
        np.testing.assert_allclose(outs[1], outs[0], rtol=1e-6, err_msg=f"invoke {step}")
    # Resource variables survive reset_all_variables in LiteRT: so they do here.
    for it in (lite, mine):
        it.reset_all_variables()
    x = np.ones(3, np.float32)
    outs = []
    for it in (lite, mine):
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
        outs.append(it.get_tensor(it.get_output_details()[0]["index"]))
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-6)


def constant_growing_loop(n_steps):
    """main: WHILE over constant loop values whose body doubles x along axis 0;
    with n_steps < 0 the condition never turns false."""
    m = Model()
    main, cond, body = Graph(m), Graph(m), Graph(m)
    main.const("i", np.int32(0), np.int32)
    main.const("x", np.arange(2, dtype=np.float32).reshape(1, 2))
    main.tensor("i_out", (), np.int32)
    main.tensor("x_out", (1, 2))
    main.tensor("y", (1, 2))
    main.op("WHILE", ["i", "x"], ["i_out", "x_out"], cond_subgraph_index=1, body_subgraph_index=2)
    main.const("two", np.float32(2))
    main.op("MUL", ["x_out", "two"], ["y"])
    main.io([], ["i_out", "y"])
    cond.tensor("i", (), np.int32)
    cond.tensor("x", (1, 2))
    cond.const("n", np.int32(max(n_steps, 0)), np.int32)
    cond.const("forever", np.int32(1 if n_steps < 0 else 0), np.int32)
    cond.const("zero", np.int32(0), np.int32)
    cond.tensor("d", (), np.int32)
    cond.tensor("d1", (), np.int32)
    cond.tensor("dpos", (), np.int32)
    cond.tensor("keep", (), np.bool_)
    cond.op("SUB", ["n", "i"], ["d"])
    cond.op("ADD", ["d", "forever"], ["d1"])   # never below 1 when forever; i stays 0 below
    cond.op("MAXIMUM", ["d1", "zero"], ["dpos"])
    cond.op("CAST", ["dpos"], ["keep"])
    cond.io(["i", "x"], ["keep"])
    body.tensor("i", (), np.int32)
    body.tensor("x", (1, 2))
    body.const("step", np.int32(0 if n_steps < 0 else 1), np.int32)
    body.tensor("i1", (), np.int32)
    body.op("ADD", ["i", "step"], ["i1"])
    body.tensor("x1", (1, 2))
    body.op("CONCATENATION", ["x", "x"], ["x1"], axis=0)
    body.io(["i", "x"], ["i1", "x1"])
    return write_model(m)


def test_while_growing_shape_over_constants_runs_at_invoke():
    assert_same_outputs(constant_growing_loop(3), [])


def test_endless_while_over_constants_does_not_hang_allocate():
    # LiteRT runs such a loop at invoke too; allocate_tensors must come back.
    import subprocess
    import sys

    code = ("import sys, tinylite; ip = tinylite.Interpreter(model_content=sys.stdin.buffer.read()); "
            "ip.allocate_tensors(); print('allocated')")
    done = subprocess.run([sys.executable, "-c", code], input=constant_growing_loop(-1), capture_output=True,
                          timeout=120)
    assert done.stdout.strip() == b"allocated", done.stderr.decode()[-2000:]


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int64, np.int8, np.bool_])
@pytest.mark.parametrize("cond", [True, False])
def test_if_single_op(dtype, cond):
    """IF as a single op whose branches are one-op subgraphs (maximum / minimum of the operands)."""
    from tinylite.testing import single_op_model

    branches = [(op, [("a", [2, 3], dtype), ("b", [2, 3], dtype)], [("c", [2, 3], dtype)], None)
                for op in (("LOGICAL_OR", "LOGICAL_AND") if dtype == np.bool_ else ("MAXIMUM", "MINIMUM"))]
    content = single_op_model("IF", [("cond", [], np.bool_), ("x", [2, 3], dtype), ("y", [2, 3], dtype)],
                              [("z", [2, 3], dtype)], options=dict(then_subgraph_index=1, else_subgraph_index=2),
                              bodies=branches)
    if dtype == np.bool_:
        x, y = rng.random((2, 3)) < 0.5, rng.random((2, 3)) < 0.5
    else:
        x, y = (rng.integers(-50, 50, (2, 3)).astype(dtype) for _ in range(2))
    assert_same_outputs(content, [np.array(cond), x, y], rtol=0, atol=0)
