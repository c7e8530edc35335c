"""SKIP_GRAM and LSH_PROJECTION against LiteRT on single-op models."""
import numpy as np
import pytest

import tinylite
from oracle import assert_same_outputs, litert_interpreter
from tinylite.testing import single_op_model

rng = np.random.default_rng(5)
S = np.bytes_

SENTENCES = [b"the quick brown fox jumps over the lazy dog", b"a b", b"", b"one",
             b" leading space drops the first word", b"tabs\tand\nnewlines  double  spaces ",
             b"x y z w v u t s r q"]


def run(ip, x):
    ip.allocate_tensors()
    ip.set_tensor(ip.get_input_details()[0]["index"], x)
    ip.invoke()
    return ip.get_tensor(ip.get_output_details()[0]["index"])


@pytest.mark.parametrize("ngram,skip,include_all", [(1, 0, False), (2, 0, False), (2, 1, False), (3, 2, False),
                                                    (3, 1, True), (4, 0, True), (2, 3, True)])
@pytest.mark.parametrize("sentence", SENTENCES)
def test_skip_gram(ngram, skip, include_all, sentence):
    content = single_op_model("SKIP_GRAM", [("x", [1], S)], [("y", [1], S)],
                              options=dict(ngram_size=ngram, max_skip_size=skip, include_all_ngrams=include_all))
    x = np.array([sentence], dtype=object)
    got, want = run(tinylite.Interpreter(model_content=content), x), run(litert_interpreter(content), x)
    assert got.dtype == want.dtype and got.tolist() == want.tolist()


@pytest.mark.parametrize("kind", ["SPARSE", "DENSE"])
@pytest.mark.parametrize("dtype,row", [(np.int32, [1]), (np.int32, [3]), (np.float32, [2]), (np.int8, [5]),
                                       (np.uint8, [17]), (np.int64, [5]), (np.float32, [9]), (np.int16, [40]),
                                       (np.int32, [2, 3])])
@pytest.mark.parametrize("weighted", [False, True])
def test_lsh_projection(kind, dtype, row, weighted):
    # Row sizes give keys (4 seed bytes + the row) of 5 to 84 bytes: every length branch of the hash.
    n, num_hash, num_bits = 4, 3, 5
    seeds = rng.standard_normal((num_hash, num_bits)).astype(np.float32)
    inputs = [dict(name="hash", data=seeds), ("x", [n] + row, dtype)]
    if weighted:
        inputs.append(("w", [n], np.float32))
    content = single_op_model("LSH_PROJECTION", inputs, [("y", [1], np.int32)],
                              options=dict(type={"SPARSE": 1, "DENSE": 2}[kind]))
    if np.dtype(dtype).kind == "f":
        x = rng.standard_normal([n] + row).astype(dtype)
    else:
        x = rng.integers(-100, 100, [n] + row).astype(dtype)
    feeds = [x] + ([rng.standard_normal(n).astype(np.float32)] if weighted else [])
    assert_same_outputs(content, feeds, rtol=0, atol=0)


@pytest.mark.parametrize("kind", ["SPARSE", "DENSE"])
@pytest.mark.parametrize("shape", [[1], [3], [4], [5, 2], [2, 3, 1]])
@pytest.mark.parametrize("weighted", [False, True])
def test_lsh_projection_string(kind, shape, weighted):
    # LiteRT hashes the STRING tensor's packed buffer (header and offsets included) cut into
    # len // rows bytes per row: strings of uneven lengths move the cuts and leave a remainder.
    num_hash, num_bits = 4, 6
    n = shape[0]
    seeds = rng.standard_normal((num_hash, num_bits)).astype(np.float32)
    inputs = [dict(name="hash", data=seeds), ("x", shape, S)]
    if weighted:
        inputs.append(("w", [n], np.float32))
    content = single_op_model("LSH_PROJECTION", inputs, [("y", [1], np.int32)],
                              options=dict(type={"SPARSE": 1, "DENSE": 2}[kind]))
    words = [b"", b"a", b"hello", b"world!!", b"tinylite", b"x" * 37, "caf\u00e9".encode()]
    x = np.array([words[k] for k in rng.integers(0, len(words), int(np.prod(shape)))], dtype=object).reshape(shape)
    feeds = [x] + ([rng.standard_normal(n).astype(np.float32)] if weighted else [])
    assert_same_outputs(content, feeds, rtol=0, atol=0)
