"""The table-driven quantized kernels (LOG, RSQRT, EXP, ELU, GELU, TANH, LOGISTIC, HARD_SWISH,
SQRT, ABS, LEAKY_RELU) over every int8 and every int16 input value, on random input and output
grids, bit-exact with LiteRT's builtin kernels.  A table entry one step off shows only on the
inputs that fall near it: the int16 LOG table built with numpy's float32 log (not always
correctly rounded, unlike the C library's logf LiteRT calls) differed on 132 of 65536 inputs."""
import numpy as np
import pytest

from oracle import litert_interpreter, run_tinylite
from tinylite.testing import single_op_model

# op -> (typical input scale, output scale / input scale)
OPS = {"LOG": (0.02, 6), "RSQRT": (0.01, 4), "EXP": (0.01, 3), "ELU": (0.03, 2), "GELU": (0.03, 2), "TANH": (0.03, 2),
       "LOGISTIC": (0.05, 2), "HARD_SWISH": (0.03, 2), "SQRT": (0.02, 3), "ABS": (0.02, 2), "LEAKY_RELU": (0.03, 2)}
FIXED = {"TANH": {np.int8: (1 / 128, 0), np.int16: (1 / 32768, 0)},
         "LOGISTIC": {np.int8: (1 / 256, -128), np.int16: (1 / 32768, 0)}}
# LiteRT has no int16 kernel for these.
INT8_ONLY = {"ELU", "SQRT", "HARD_SWISH"}
# LiteRT fails the invoke on a negative input (zero too for RSQRT): every input above the zero point.
POSITIVE = {"RSQRT": 1, "SQRT": 0}
CASES = [(op, dt, seed) for op in OPS for dt in (np.int8, np.int16) for seed in range(3)
         if not (dt == np.int16 and op in INT8_ONLY)]


def _model(op, dt, rng):
    base, spread = OPS[op]
    narrow = 1 if dt == np.int8 else 1 / 256
    xs = float(base * np.exp(rng.uniform(-1, 1)) * narrow)
    os_ = float(base * np.exp(rng.uniform(-1, 1)) * spread * narrow)
    xz = int(rng.integers(-20, 20)) if dt == np.int8 else 0
    oz = int(rng.integers(-20, 20)) if dt == np.int8 else 0
    os_, oz = FIXED.get(op, {}).get(dt, (os_, oz))
    options = {"alpha": 0.2} if op == "LEAKY_RELU" else {"approximate": bool(rng.integers(2))} if op == "GELU" else None
    low = np.iinfo(dt).min if op not in POSITIVE else xz + POSITIVE[op]
    x = np.arange(low, np.iinfo(dt).max + 1).astype(dt)
    return x, single_op_model(op, [dict(name="x", shape=[x.size], dtype=dt, quantization=(xs, xz))],
                              [dict(name="y", shape=[x.size], dtype=dt, quantization=(os_, oz))], options)


@pytest.mark.parametrize("op,dt,seed", CASES, ids=[f"{o}-{np.dtype(d).name}-{s}" for o, d, s in CASES])
def test_every_input(op, dt, seed):
    x, content = _model(op, dt, np.random.default_rng(seed))
    ip = litert_interpreter(content, "builtin")
    ip.allocate_tensors()
    ip.set_tensor(ip.get_input_details()[0]["index"], x)
    ip.invoke()
    want = ip.get_tensor(ip.get_output_details()[0]["index"])
    got = run_tinylite(content, [x])[0]
    np.testing.assert_array_equal(got, want)


def test_int16_log_table_rounds_like_logf():
    """The grid on which numpy's float32 log moved 132 entries."""
    content = single_op_model("LOG", [dict(name="x", shape=[65536], dtype=np.int16, quantization=(0.0001390964413088942, 0))],
                              [dict(name="y", shape=[65536], dtype=np.int16, quantization=(0.0003162266602913242, 0))])
    x = np.arange(-32768, 32768).astype(np.int16)
    ip = litert_interpreter(content, "builtin")
    ip.allocate_tensors()
    ip.set_tensor(ip.get_input_details()[0]["index"], x)
    ip.invoke()
    np.testing.assert_array_equal(run_tinylite(content, [x])[0], ip.get_tensor(ip.get_output_details()[0]["index"]))
