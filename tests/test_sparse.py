"""Sparse constants (SparsityParameters): the reader densifies them as LiteRT's
DENSIFY does, on files built in code (CSR and block formats) and on TensorFlow's
EXPERIMENTAL_SPARSITY conversions of a pruned model in the shared corpus."""
import numpy as np
import pytest

from oracle import assert_same_outputs, run_litert, run_tinylite
from tinylite.flatbuffer.schema import tensor_type
from tinylite.graph import Model, Operator, Subgraph, SignatureDef, Tensor, TensorMap
from tinylite.flatbuffer.writer import write_model
from tinylite.flatbuffer.schema import OP_CODES
from tinylite.sparsity import SparsityError, densify

INT32_VECTOR = 1   # SparseIndexVector.Int32Vector


def encode(dense, block=None):
    """`dense` (2-D) as kept values + SparsityParameters: rows dense, columns (or
    column blocks) CSR; with `block` = (bh, bw), blocks of that size are kept whole."""
    rows, cols = dense.shape
    if block is None:
        segments, indices, values = [0], [], []
        for r in range(rows):
            nz = np.flatnonzero(dense[r])
            indices += nz.tolist()
            values += dense[r, nz].tolist()
            segments.append(len(indices))
        dims = [dict(format=0, dense_size=rows, array_segments=None, array_indices=None),
                dict(format=1, dense_size=0, array_segments=(INT32_VECTOR, np.array(segments, np.int32)),
                     array_indices=(INT32_VECTOR, np.array(indices, np.int32)))]
        return np.array(values, dense.dtype), dict(traversal_order=[0, 1], block_map=None, dim_metadata=dims)
    bh, bw = block
    blocks = dense.reshape(rows // bh, bh, cols // bw, bw).transpose(0, 2, 1, 3)
    segments, indices, values = [0], [], []
    for r in range(rows // bh):
        for c in range(cols // bw):
            if blocks[r, c].any():
                indices.append(c)
                values.append(blocks[r, c].ravel())
        segments.append(len(indices))
    dims = [dict(format=0, dense_size=rows // bh, array_segments=None, array_indices=None),
            dict(format=1, dense_size=0, array_segments=(INT32_VECTOR, np.array(segments, np.int32)),
                 array_indices=(INT32_VECTOR, np.array(indices, np.int32))),
            dict(format=0, dense_size=bh, array_segments=None, array_indices=None),
            dict(format=0, dense_size=bw, array_segments=None, array_indices=None)]
    return (np.concatenate(values).astype(dense.dtype),
            dict(traversal_order=[0, 1, 2, 3], block_map=[0, 1], dim_metadata=dims))


def pruned(shape, seed, dtype=np.float32):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(shape).astype(dtype)
    w[rng.random(shape) < 0.7] = 0
    return w


def sparse_fc_model(weights, block=None):
    """DENSIFY(sparse weights) -> FULLY_CONNECTED(x, dense weights)."""
    values, sparsity = encode(weights, block)
    model, sg = Model(), Subgraph()
    model.subgraphs.append(sg)
    units, depth = weights.shape
    sg.tensors = [
        Tensor("x", np.array([2, depth], np.int32), tensor_type(np.float32), 0),
        Tensor("w_sparse", np.array(weights.shape, np.int32), tensor_type(np.float32), model.add_buffer(values),
               sparsity=sparsity),
        Tensor("w", np.array(weights.shape, np.int32), tensor_type(np.float32), 0),
        Tensor("y", np.array([2, units], np.int32), tensor_type(np.float32), 0),
    ]
    sg.inputs, sg.outputs = [0], [3]
    sg.operators = [Operator(model.opcode_index(OP_CODES["DENSIFY"], 1), [1], [2]),
                    Operator(model.opcode_index(OP_CODES["FULLY_CONNECTED"], 1), [0, 2, -1], [3])]
    model.signature_defs.append(SignatureDef([TensorMap("x", 0)], [TensorMap("y", 3)], "serving_default", 0))
    return write_model(model)


@pytest.mark.parametrize("block", [None, (2, 2), (1, 4)])
def test_densify_then_fully_connected_matches_litert(block):
    w = pruned((8, 12), seed=3)
    if block is not None:   # keep whole blocks only, as block-sparse encoders do
        bh, bw = block
        keep = np.random.default_rng(4).random((8 // bh, 12 // bw)) < 0.5
        w = w * np.repeat(np.repeat(keep, bh, 0), bw, 1)
    x = np.random.default_rng(5).standard_normal((2, 12)).astype(np.float32)
    assert_same_outputs(sparse_fc_model(w, block), [x])
    np.testing.assert_allclose(run_tinylite(sparse_fc_model(w, block), [x])[0], x @ w.T, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("block", [None, (2, 3)])
def test_densify_round_trips(block):
    w = pruned((6, 9), seed=1)
    if block is not None:
        w[:2, 3:6] = 0
    values, sparsity = encode(w, block)
    np.testing.assert_array_equal(densify(values, w.shape, sparsity), w)


def test_inconsistent_metadata_is_a_clear_error():
    values, sparsity = encode(pruned((4, 4), seed=2))
    sparsity["dim_metadata"][1]["array_indices"] = (INT32_VECTOR, np.array([9] * values.size, np.int32))
    with pytest.raises(SparsityError, match="out of range"):
        densify(values, (4, 4), sparsity)
    with pytest.raises(SparsityError, match="keeps"):
        densify(values[:1], (4, 4), encode(pruned((4, 4), seed=2))[1])


# TensorFlow's EXPERIMENTAL_SPARSITY conversions hold sparse float weights
# (bit-for-bit the float model's results) and sparse int8 weights (hybrid
# kernels, compared with the same bound as the corpus's other dynamic files).
@pytest.mark.parametrize("variant,rtol", [("float", 1e-5), ("sparse", 1e-5), ("sparse_dynamic", 1e-3)])
def test_pruned_corpus_matches_litert(corpus, variant, rtol):
    folder = corpus / "mnist_cnn_pruned80"
    content = (folder / f"tf_{variant}.tflite").read_bytes()
    want = np.load(folder / f"tf_{variant}.litert.npz")["output0"]
    xs = np.load(folder / "io.npz")["input0"]
    got = np.concatenate([run_tinylite(content, [x[None]])[0] for x in xs])
    assert np.abs(got - want).max() <= rtol * np.abs(want).max()
    if variant != "sparse_dynamic":
        np.testing.assert_allclose(got, np.load(folder / "io.npz")["keras_output0"], rtol=0, atol=1e-5)
