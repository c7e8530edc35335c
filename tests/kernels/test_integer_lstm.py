"""Differential tests of the integer LSTM (int8 activations and weights, int16
cell state: TFLite's 8x8->16 lstm_eval path) against ai-edge-litert: random
single-op UNIDIRECTIONAL_SEQUENCE_LSTM and LSTM models with their five
intermediate tensors, over several invokes from random initial states, plus a
real int8 LSTM from tflite-micro (tests/data/README.md)."""
import pathlib

import numpy as np
import pytest

import tinylite
from oracle import litert_interpreter, run_litert
from tinylite.flatbuffer.reader import read_model
from tinylite.flatbuffer.schema import tensor_type
from tinylite.flatbuffer.writer import write_model
from tinylite.graph import QuantizationParameters, Tensor
from tinylite.testing import single_op_model

rng = np.random.default_rng(11)
DATA = pathlib.Path(__file__).resolve().parents[1] / "data"


def _q(scale, zp=0):
    return (np.float32(scale), int(zp))


def _int8_weights(name, rows, cols, scale):
    return dict(name=name, data=rng.integers(-127, 128, (rows, cols)).astype(np.int8), dtype=np.int8,
                quantization=_q(scale))


def integer_lstm_model(op="UNIDIRECTIONAL_SEQUENCE_LSTM", n_batch=2, n_time=5, n_input=6, n_cell=8, n_output=None,
                       cifg=False, peephole=False, proj=False, proj_bias=False, layer_norm=False, time_major=False,
                       cell_clip=0.0, proj_clip=0.0, cell_scale=2.0 ** -11, input_zp=7, state_zp=-5, hidden_zp=3,
                       hidden_scale=1 / 128, w_scales=(0.004, 0.012), r_scales=(0.004, 0.012), proj_scale=0.01,
                       ln_values=(5000, 30000), ln_scales=(2e-5, 6e-5)):
    """An int8 LSTM with random weights and realistic scales; the 5 intermediates carry the
    gate scales (used with layer norm) and the hidden state's scale and zero point.
    `w_scales`, `r_scales`: ranges of the input and recurrent weight scales (they set the
    requantization shifts); `proj_scale`: the projection's; `ln_values`, `ln_scales`: ranges of the
    layer norm coefficients and their scales."""
    n_output = n_output or n_cell
    in_scale, h_scale = 0.04, 1 / 128
    w_scale = {g: float(rng.uniform(*w_scales)) for g in "ifco"}
    r_scale = {g: float(rng.uniform(*r_scales)) for g in "ifco"}

    def opt(cond, make):
        return make() if cond else None

    ins = [opt(not cifg, lambda: _int8_weights("wxi", n_cell, n_input, w_scale["i"]))]
    ins += [_int8_weights("wx" + g, n_cell, n_input, w_scale[g]) for g in "fco"]
    ins += [opt(not cifg, lambda: _int8_weights("whi", n_cell, n_output, r_scale["i"]))]
    ins += [_int8_weights("wh" + g, n_cell, n_output, r_scale[g]) for g in "fco"]

    def peep(g):
        return dict(name="p" + g, data=rng.integers(-20000, 20000, n_cell).astype(np.int16), dtype=np.int16,
                    quantization=_q(3e-5))

    ins += [opt(peephole and not cifg, lambda: peep("i")), opt(peephole, lambda: peep("f")),
            opt(peephole, lambda: peep("o"))]

    def bias(g):
        # Without layer norm the bias is in the input product's scale; with it, it is added
        # after normalization (TFLite's converter puts it in the coefficients' scale / 1024).
        hi = 40000 if layer_norm else 600
        return dict(name="b" + g, data=rng.integers(-hi, hi, n_cell).astype(np.int32), dtype=np.int32,
                    quantization=_q(in_scale * w_scale[g]))

    ins += [opt(not cifg, lambda: bias("i"))] + [bias(g) for g in "fco"]
    ins += [opt(proj, lambda: _int8_weights("wp", n_output, n_cell, proj_scale)),
            opt(proj and proj_bias, lambda: dict(name="bp", data=rng.integers(-3000, 3000, n_output).astype(np.int32),
                                                dtype=np.int32, quantization=_q(1e-4)))]
    ins += [dict(name="h", shape=[n_batch, n_output], dtype=np.int8, quantization=_q(h_scale, state_zp),
                 is_variable=True),
            dict(name="c", shape=[n_batch, n_cell], dtype=np.int16, quantization=_q(cell_scale), is_variable=True)]

    def ln(g):
        return dict(name="ln" + g, data=rng.integers(*ln_values, n_cell).astype(np.int16), dtype=np.int16,
                    quantization=_q(float(rng.uniform(*ln_scales))))

    ins += [opt(layer_norm and not cifg, lambda: ln("i"))] + [opt(layer_norm, lambda: ln(g)) for g in "fco"]
    if op == "LSTM":
        x_shape = [n_batch, n_input]
        options = dict(fused_activation_function="TANH", cell_clip=cell_clip, proj_clip=proj_clip)
    else:
        x_shape = [n_time, n_batch, n_input] if time_major else [n_batch, n_time, n_input]
        options = dict(fused_activation_function="TANH", cell_clip=cell_clip, proj_clip=proj_clip,
                       time_major=time_major)
    out_q = _q(h_scale, state_zp) if proj else _q(hidden_scale, hidden_zp)
    content = single_op_model(op, [dict(name="x", shape=x_shape, dtype=np.int8, quantization=_q(in_scale, input_zp))]
                              + ins, [dict(name="y", shape=x_shape[:-1] + [n_output], dtype=np.int8,
                                           quantization=out_q)], options=options)
    # The gate intermediates matter only with layer norm (scales of the pre-norm gates).
    # (LiteRT reads all four with layer norm, the input gate's too under CIFG.)
    inter = [(float(rng.uniform(2e-4, 8e-4)), 0) if layer_norm else None for _ in range(4)]
    inter.append((hidden_scale, hidden_zp))
    return _with_intermediates(content, inter), x_shape


def _with_intermediates(content, quants):
    model = read_model(content)
    sg = model.subgraphs[0]
    ids = []
    for k, q in enumerate(quants):
        quant = None if q is None else QuantizationParameters(
            scale=np.array([q[0]], np.float32), zero_point=np.array([q[1]], np.int64))
        dtype = np.float32 if q is None else (np.int8 if k == 4 else np.int16)
        sg.tensors.append(Tensor(name=f"intermediate{k}", shape=np.zeros(0, np.int32), type=tensor_type(dtype),
                                 quantization=quant))
        ids.append(len(sg.tensors) - 1)
    sg.operators[0].intermediates = ids
    return write_model(model)


def _index(details, name):
    return next(d["index"] for d in details if d["name"] == name)


def run_invokes(content, x_shape, n_invokes=3, random_states=True):
    """Invoke LiteRT and tinylite several times on one interpreter each (states carry over),
    starting from random states; every output and state must agree bit for bit."""
    lite = litert_interpreter(content)
    mine = tinylite.Interpreter(model_content=content)
    for it in (lite, mine):
        it.allocate_tensors()
    h_i = _index(lite.get_tensor_details(), "h")
    c_i = _index(lite.get_tensor_details(), "c")
    assert (h_i, c_i) == (_index(mine.get_tensor_details(), "h"), _index(mine.get_tensor_details(), "c"))
    if random_states:
        h0 = rng.integers(-128, 128, lite.get_tensor(h_i).shape).astype(np.int8)
        c0 = rng.integers(-20000, 20000, lite.get_tensor(c_i).shape).astype(np.int16)
        for it in (lite, mine):
            it.set_tensor(h_i, h0)
            it.set_tensor(c_i, c0)
    for k in range(n_invokes):
        x = rng.integers(-128, 128, x_shape).astype(np.int8)
        results = []
        for it in (lite, mine):
            it.set_tensor(it.get_input_details()[0]["index"], x)
            it.invoke()
            results.append([it.get_tensor(it.get_output_details()[0]["index"]), it.get_tensor(h_i),
                            it.get_tensor(c_i)])
        for name, want, got in zip(("output", "output state", "cell state"), *results):
            assert got.dtype == want.dtype and got.shape == want.shape, name
            diff = np.abs(got.astype(np.int64) - want.astype(np.int64))
            assert diff.max() == 0, \
                f"invoke {k}: {name} differs in {(diff > 0).sum()} of {diff.size} (max {diff.max()})"
    return results[0]


CONFIGS = [
    dict(),
    dict(cifg=True),
    dict(peephole=True),
    dict(peephole=True, cifg=True),
    dict(proj=True, n_output=5),
    dict(proj=True, proj_bias=True, n_output=6, proj_clip=0.4),
    dict(cell_clip=1.5),
    dict(layer_norm=True),
    dict(layer_norm=True, cifg=True),
    dict(layer_norm=True, peephole=True, proj=True, proj_bias=True, n_output=4),
    dict(time_major=True, n_batch=3),
    # The peephole stride quirk: with a projection LiteRT applies the peephole products to the
    # first n_output cells of each row (batch-major) or of the flat batch (time-major).
    dict(peephole=True, proj=True, n_output=5),
    dict(peephole=True, proj=True, n_output=5, time_major=True, n_batch=3),
    dict(cell_scale=2.0 ** -15, n_batch=1),
    dict(cell_scale=2.0 ** -9, input_zp=-128, state_zp=0, hidden_zp=-1),
    dict(hidden_scale=1 / 64, hidden_zp=-20),
    dict(n_input=1, n_cell=3, n_time=1, n_batch=4),
]


@pytest.mark.parametrize("kw", CONFIGS, ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()) or "plain")
def test_uni_lstm_int8(kw):
    content, x_shape = integer_lstm_model(**kw)
    out = run_invokes(content, x_shape)
    assert len(np.unique(out[0])) > 3       # the outputs move: not a saturated, constant run


@pytest.mark.parametrize("kw", [dict(), dict(cifg=True, peephole=True), dict(layer_norm=True),
                                dict(proj=True, proj_bias=True, peephole=True, n_output=3, cell_clip=2.0)], ids=str)
def test_lstm_int8(kw):
    content, x_shape = integer_lstm_model(op="LSTM", n_batch=3, **kw)
    run_invokes(content, x_shape, n_invokes=4)


def test_uni_lstm_int8_from_reset_state():
    # No state is set: both runtimes start from their reset values (a zero cell state and an
    # output state at its zero point 0 here).
    content, x_shape = integer_lstm_model(state_zp=0)
    run_invokes(content, x_shape, random_states=False)


def test_int8_variables_start_at_zero_point():
    """LiteRT's ResetVariableTensor starts int8 variables at their zero point, not 0."""
    content, x_shape = integer_lstm_model(state_zp=-5)
    run_invokes(content, x_shape, n_invokes=1, random_states=False)


def _prepare(content):
    tinylite.Interpreter(model_content=content).allocate_tensors()


def test_integer_lstm_rejections():
    from tinylite.errors import UnsupportedOpError
    from tinylite.interpreter.subgraph import PrepareError

    # A cell state scale that is not a power of two.  LiteRT's CheckedLog2 refuses it, but its
    # Prepare ignores the status of PopulateQuantizedLstmParams8x8_16 and runs with zeroed
    # parameters: every output and state comes out 0.
    content, x_shape = integer_lstm_model(cell_scale=3e-4)
    with pytest.raises(PrepareError, match="power of two"):
        _prepare(content)
    assert not run_litert(content, [np.ones(x_shape, np.int8)])[0].any()
    # No intermediates: LiteRT refuses it too.
    model = read_model(integer_lstm_model()[0])
    model.subgraphs[0].operators[0].intermediates = []
    content = write_model(model)
    with pytest.raises(PrepareError, match="5 intermediate"):
        _prepare(content)
    with pytest.raises(RuntimeError):
        litert_interpreter(content).allocate_tensors()
    # Layer norm without the input gate's intermediate scale (CIFG): LiteRT 2.3 reads it anyway
    # and then leaves the outputs unwritten.
    model = read_model(integer_lstm_model(layer_norm=True, cifg=True)[0])
    sg = model.subgraphs[0]
    sg.tensors[sg.operators[0].intermediates[0]].quantization = None
    content = write_model(model)
    with pytest.raises(PrepareError, match="intermediate tensor 0"):
        _prepare(content)
    assert not run_litert(content, [np.ones(x_shape, np.int8)])[0].any()
    # A cell scale whose tanh TFLite cannot take (more than 6 integer bits).
    content, _ = integer_lstm_model(cell_scale=2.0 ** -8)
    with pytest.raises(UnsupportedOpError, match="cell state scale"):
        _prepare(content)
    # The 16x8 variant (int16 activations) is not in LiteRT's UNIDIRECTIONAL_SEQUENCE_LSTM either.
    model = read_model(integer_lstm_model()[0])
    sg = model.subgraphs[0]
    sg.tensors[sg.operators[0].inputs[0]].type = tensor_type(np.int16)
    with pytest.raises(UnsupportedOpError, match="int16"):
        _prepare(write_model(model))


def test_real_int8_lstm_all_tensors():
    """tflite-micro's MNIST LSTM (int8, 28 steps, cell clip): every tensor over three invokes."""
    from ai_edge_litert import interpreter as lite_mod

    content = (DATA / "mnist_lstm_int8.tflite").read_bytes()
    lite = lite_mod.Interpreter(model_content=content, experimental_preserve_all_tensors=True,
                                experimental_op_resolver_type=lite_mod.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    mine = tinylite.Interpreter(model_content=content, experimental_preserve_all_tensors=True)
    for it in (lite, mine):
        it.allocate_tensors()
    (d,) = mine.get_input_details()
    sg = mine.model.subgraphs[0]
    lstm = sg.operators[0]
    watched = list(lstm.inputs[18:20]) + [t for op in sg.operators for t in op.outputs]
    for step in range(3):
        x = rng.integers(-128, 128, d["shape"]).astype(np.int8)
        for it in (lite, mine):
            it.set_tensor(d["index"], x)
            it.invoke()
        for t in watched:
            assert np.array_equal(mine.get_tensor(t), lite.get_tensor(t)), f"invoke {step}, tensor {t} differs"
