"""`tinylite inspect` reads and reports the tensor encodings the schema gained:
BFLOAT16, FLOAT8 (E4M3FN, E5M2), INT2, UINT4 and INT4 tensors, blockwise
quantization details and sparse tensors (traversal order, block map, dense
and CSR dimensions)."""
import numpy as np

from tinylite.flatbuffer.reader import parse
from tinylite.flatbuffer.writer import write_model
from tinylite.graph import Buffer, QuantizationParameters, Tensor
from tinylite.testing import single_op_model
from tinylite.tools.inspect import analyze, render


def model_with_encodings():
    content = single_op_model("ADD", [("a", [2]), ("b", [2])], [("y", [2])])
    m = parse(content)
    sg = m.subgraphs[0]
    for name, code, nbytes in [("bf16", 18, 8), ("f8a", 21, 4), ("f8b", 22, 4), ("i2", 19, 1), ("u4", 20, 2),
                               ("i4", 17, 2)]:
        m.buffers.append(Buffer(data=np.arange(nbytes, dtype=np.uint8)))
        sg.tensors.append(Tensor(name=name, shape=np.array([4], np.int32), type=code, buffer=len(m.buffers) - 1))
    i4 = sg.tensors[-1]
    i4.quantization = QuantizationParameters(details_type=2, details=dict(scales=3, zero_points=-1, block_size=2))
    sg.tensors.append(Tensor(name="sp", shape=np.array([2, 3], np.int32), type=0, sparsity=dict(
        traversal_order=np.array([0, 1], np.int32), block_map=np.zeros(0, np.int32),
        dim_metadata=[dict(format=0, dense_size=2, array_segments=None, array_indices=None),
                      dict(format=1, dense_size=0, array_segments=(1, np.array([0, 1, 2], np.int32)),
                           array_indices=(1, np.array([0, 2], np.int32)))])))
    return write_model(m)


def test_inspect_reports_new_types_blockwise_and_sparsity():
    content = model_with_encodings()
    text = render(analyze(parse(content), content=content))
    for name, kind in [("bf16", "BFLOAT16"), ("f8a", "FLOAT8_E4M3FN"), ("f8b", "FLOAT8_E5M2"), ("i2", "INT2"),
                       ("u4", "UINT4"), ("i4", "INT4")]:
        line = next(l for l in text.splitlines() if f" {name} " in l)
        assert kind in line, line
    assert "q(blockwise, block 2, scales T#3)" in text
    assert "sparse(traversal [0, 1], block map [], dims dense(2) csr(3 segments, 2 indices))" in text


def test_interpreter_loads_models_carrying_the_new_types():
    import tinylite

    ip = tinylite.Interpreter(model_content=model_with_encodings())
    ip.allocate_tensors()
    ip.set_tensor(0, np.ones(2, np.float32))
    ip.set_tensor(1, np.full(2, 2, np.float32))
    ip.invoke()
    np.testing.assert_array_equal(ip.get_tensor(ip.get_output_details()[0]["index"]), [3, 3])


def test_packed_sub_byte_values():
    from tinylite.graph import _unpack_bits

    raw = np.array([0b11100100, 0b00011011], np.uint8)
    np.testing.assert_array_equal(_unpack_bits(raw, 8, 2, signed=True), [0, 1, -2, -1, -1, -2, 1, 0])
    np.testing.assert_array_equal(_unpack_bits(raw, 3, 4, signed=False), [4, 14, 11])
