"""Bad input gets a clear error: never a crash from deep inside, never a hang."""
import signal

import numpy as np
import pytest

import tinylite
from tinylite.errors import InvalidModelError, UnsupportedOpError
from tinylite.flatbuffer import read_model, write_model
from tinylite.testing import single_op_model


def small_model():
    rng = np.random.default_rng(0)
    return single_op_model(
        "CONV_2D", [dict(name="x", shape=[1, 5, 5, 2]), dict(name="w", data=rng.standard_normal((3, 3, 3, 2)).astype(np.float32)),
                    dict(name="b", data=np.zeros(3, np.float32))],
        [("y", [1, 5, 5, 3])], options=dict(padding="SAME", stride_h=1, stride_w=1))


def load_and_run(content, max_arena=None):
    ip = tinylite.Interpreter(model_content=content)
    ip.allocate_tensors()
    if max_arena is not None and ip.arena_bytes > max_arena:
        return  # a mutation that made a tensor huge is a valid (slow) model, not a bad one
    for d in ip.get_input_details():
        ip.set_tensor(d["index"], np.zeros(d["shape"], d["dtype"]))
    ip.invoke()


@pytest.fixture
def deadline():
    """Fail (instead of hanging) if the test body runs for more than 60 s."""
    def on_alarm(*_):
        raise TimeoutError("tinylite hung on a malformed model")
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def test_empty_and_tiny():
    for data in (b"", b"TFL3", b"\x00" * 7):
        with pytest.raises(InvalidModelError, match="too short"):
            tinylite.Interpreter(model_content=data)


def test_wrong_identifier_says_what_it_is():
    content = bytearray(small_model())
    content[4:8] = b"HDF5"
    with pytest.raises(InvalidModelError, match=r"file identifier is b'HDF5', expected b'TFL3'.*convert"):
        tinylite.Interpreter(model_content=bytes(content))


def test_h5_file_is_rejected_clearly(tmp_path):
    path = tmp_path / "model.h5"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 100)
    with pytest.raises(InvalidModelError, match="not a TFLite model"):
        tinylite.Interpreter(model_path=str(path))


def test_truncated_files(deadline):
    content = small_model()
    for cut in range(8, len(content), max(1, len(content) // 200)):
        with pytest.raises((InvalidModelError, RuntimeError, ValueError)):
            load_and_run(content[:cut])


def test_random_byte_flips_never_crash(deadline):
    content = small_model()
    rng = np.random.default_rng(1)
    outcomes = {"ok": 0, "error": 0}
    for _ in range(400):
        mutated = bytearray(content)
        for pos in rng.integers(8, len(content), size=rng.integers(1, 4)):
            mutated[pos] = rng.integers(0, 256)
        try:
            load_and_run(bytes(mutated), max_arena=1 << 20)
            outcomes["ok"] += 1
        except (ValueError, RuntimeError) as e:   # InvalidModelError, UnsupportedOpError are ValueErrors
            assert str(e), "errors must carry a message"
            outcomes["error"] += 1
    assert outcomes["error"] > 0 and outcomes["ok"] > 0


def test_out_of_range_indices_are_named():
    m = read_model(small_model())
    m.subgraphs[0].tensors[1].buffer = 99
    with pytest.raises(InvalidModelError, match="uses buffer 99, but there are"):
        read_model(write_model(m))
    m = read_model(small_model())
    m.subgraphs[0].operators[0].inputs[0] = 42
    with pytest.raises(InvalidModelError, match=r"operator 0 \(CONV_2D\) reads tensor 42, out of range"):
        read_model(write_model(m))
    m = read_model(small_model())
    m.subgraphs[0].operators[0].opcode_index = 7
    with pytest.raises(InvalidModelError, match="opcode index 7"):
        read_model(write_model(m))
    m = read_model(small_model())
    m.subgraphs[0].outputs = [10]
    with pytest.raises(InvalidModelError, match="output tensor index 10 is out of range"):
        read_model(write_model(m))


def test_buffer_too_small_for_shape():
    m = read_model(small_model())
    m.subgraphs[0].tensors[1].shape = np.array([30, 3, 3, 2], np.int32)
    with pytest.raises(InvalidModelError, match="holds 216 bytes but shape"):
        tinylite.Interpreter(model_content=write_model(m)).allocate_tensors()


def test_unsupported_op_names_op_and_lists_supported():
    content = single_op_model("STABLEHLO_COSINE", [("x", [2])], [("y", [2])])
    ip = tinylite.Interpreter(model_content=content)
    with pytest.raises(UnsupportedOpError, match=r"Node number 0 \(STABLEHLO_COSINE\).*not supported.*CONV_2D"):
        ip.allocate_tensors()


def test_custom_op_is_named():
    content = single_op_model("MyCustomOp", [("x", [2])], [("y", [2])])
    with pytest.raises(UnsupportedOpError, match="MyCustomOp"):
        tinylite.Interpreter(model_content=content).allocate_tensors()


def test_invalid_option_value_is_a_prepare_error():
    content = single_op_model("CONV_2D", [("x", [1, 5, 5, 2]), dict(name="w", data=np.ones((3, 3, 3, 2), np.float32)),
                                          dict(name="b", data=np.zeros(3, np.float32))], [("y", [1])],
                              options=dict(padding="SAME", stride_h=0, stride_w=1))
    with pytest.raises(RuntimeError, match=r"Node number 0 \(CONV_2D\) failed to prepare: .*strides"):
        tinylite.Interpreter(model_content=content).allocate_tensors()


def test_not_bytes():
    with pytest.raises(TypeError, match="expected bytes"):
        tinylite.Interpreter(model_content=12345)
