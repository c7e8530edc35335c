"""STABLEHLO_COMPOSITE runs its decomposition subgraph, as LiteRT does."""
import numpy as np
from flatbuffers import flexbuffers

from oracle import assert_same_outputs
from test_control_flow import Graph
from tinylite.flatbuffer.writer import write_model
from tinylite.graph import Model

rng = np.random.default_rng(0)


def composite_model():
    """main: composite "test.mul_add"(x, y) = x * y + x, decomposed in subgraph 1."""
    m = Model()
    main, body = Graph(m), Graph(m)
    main.tensor("x", (2, 3))
    main.tensor("y", (2, 3))
    main.tensor("z", (2, 3))
    main.op("STABLEHLO_COMPOSITE", ["x", "y"], ["z"], decomposition_subgraph_index=1, version=1)
    opts = main.sg.operators[-1].builtin_options_2      # options_2 table: the strings are set after
    opts["name"] = "test.mul_add"
    opts["composite_attributes"] = np.frombuffer(flexbuffers.Dumps({"k": 1}), np.uint8)
    main.io(["x", "y"], ["z"])
    body.tensor("x", (2, 3))
    body.tensor("y", (2, 3))
    body.tensor("p", (2, 3))
    body.tensor("z", (2, 3))
    body.op("MUL", ["x", "y"], ["p"])
    body.op("ADD", ["p", "x"], ["z"])
    body.io(["x", "y"], ["z"])
    return write_model(m)


def test_stablehlo_composite():
    x, y = (rng.standard_normal((2, 3)).astype(np.float32) for _ in range(2))
    got, want = assert_same_outputs(composite_model(), [x, y], rtol=0, atol=0)
    np.testing.assert_array_equal(got[0], x * y + x)
