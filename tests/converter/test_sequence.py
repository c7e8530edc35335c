"""Sequence models (LSTM, GRU, SimpleRNN, Bidirectional, TimeDistributed, Embedding
with masks, Conv1D text and audio models, attention and a transformer encoder
block): each is converted from its .h5 file, its .keras file and the live object,
and run in LiteRT and in tinylite; both must reproduce Keras's own answer."""
import numpy as np
import pytest

from keras_check import check_both, close, missing_kernels  # noqa: I001  (sets KERAS_BACKEND before keras loads)
from oracle import litert_interpreter

from support import keras_oracle  # noqa: E402

keras = keras_oracle()
layers = keras.layers

import tinylite  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning",
                                        "ignore:You are saving your model as an HDF5 file")

RNG = np.random.default_rng(0)
B = 3


def _x(*shape, scale=1.0):
    return (RNG.standard_normal((B,) + shape) * scale).astype(np.float32)


def _ids(steps, vocab, pad=None):
    """Token ids; pad="post"/"pre"/"mixed" zeroes the end, the start, or both (one row each way)."""
    ids = RNG.integers(1, vocab, size=(B, steps)).astype(np.int32)
    if pad in ("post", "mixed"):
        ids[0, steps - 3:] = 0
        ids[1, steps - 1:] = 0
    if pad in ("pre", "mixed"):
        ids[2 if pad == "mixed" else 0, :2] = 0
    return ids


def _seq(input_shape, *ls, dtype="float32"):
    return keras.Sequential([keras.Input(input_shape, dtype=dtype)] + list(ls))


def _model(inputs, outputs):
    return keras.Model(inputs, outputs)


def _randomize_biases(model):
    """Keras initializes biases to zeros; give them values so the bias paths are tested."""
    for w in model.weights:
        if "bias" in w.path:
            w.assign(RNG.normal(0, 0.3, w.shape).astype(np.float32))
    return model


# -- models -------------------------------------------------------------------------------------

def _lstm_return_state():
    x = keras.Input((6, 4))
    out, h, c = layers.LSTM(8, return_state=True)(x)
    return _model(x, [out, h, c]), [_x(6, 4)]


def _encoder_decoder():
    enc_in, dec_in = keras.Input((6, 4)), keras.Input((5, 3))
    _, h, c = layers.LSTM(8, return_state=True)(enc_in)
    y = layers.LSTM(8, return_sequences=True)(dec_in, initial_state=[h, c])
    return _model([enc_in, dec_in], layers.Dense(2)(y)), [_x(6, 4), _x(5, 3)]


def _gru_return_state():
    x = keras.Input((6, 4))
    out, h = layers.GRU(8, return_sequences=True, return_state=True)(x)
    return _model(x, [out, h]), [_x(6, 4)]


def _bidi_return_state():
    x = keras.Input((6, 4))
    outs = layers.Bidirectional(layers.LSTM(5, return_state=True))(x)
    return _model(x, list(outs)), [_x(6, 4)]


def _bidi_merge_none():
    x = keras.Input((6, 4))
    f, b = layers.Bidirectional(layers.GRU(5, return_sequences=True), merge_mode=None)(x)
    return _model(x, [f, b]), [_x(6, 4)]


def _masked_lstm(pad):
    def build():
        ids = keras.Input((8,), dtype="int32")
        h = layers.Embedding(30, 8, mask_zero=True)(ids)
        return _model(ids, layers.LSTM(8)(h)), [_ids(8, 30, pad)]
    return build


def _masked_sequences():
    ids = keras.Input((8,), dtype="int32")
    h = layers.Embedding(30, 8, mask_zero=True)(ids)
    s1 = layers.LSTM(6, return_sequences=True)(h)
    s2 = layers.GRU(5, return_sequences=True, go_backwards=True)(s1)
    out, st = layers.SimpleRNN(4, return_state=True)(s2)
    return _model(ids, [s1, s2, out, st]), [_ids(8, 30, "mixed")]


def _masked_bidi_gru_pool():
    ids = keras.Input((9,), dtype="int32")
    h = layers.Embedding(40, 8, mask_zero=True)(ids)
    h = layers.Bidirectional(layers.GRU(6, return_sequences=True))(h)
    h = layers.GlobalAveragePooling1D()(h)
    return _model(ids, layers.Dense(3, activation="softmax")(h)), [_ids(9, 40, "mixed")]


def _masking_layer():
    x = _x(7, 3)
    x[0, 5:] = 0.0
    x[1, :2] = 0.0
    inp = keras.Input((7, 3))
    h = layers.Masking()(inp)
    return _model(inp, layers.LSTM(6, return_sequences=True)(h)), [x]


def _masking_value():
    x = _x(6, 3)
    x[0, 4:] = -1.0
    inp = keras.Input((6, 3))
    h = layers.Masking(mask_value=-1.0)(inp)
    return _model(inp, [h, layers.GRU(5)(h)]), [x]


def _text_cnn():
    ids = keras.Input((12,), dtype="int32")
    h = layers.Embedding(50, 8)(ids)
    h = layers.Conv1D(8, 3, activation="relu", padding="same")(h)
    h = layers.MaxPooling1D(2)(h)
    h = layers.Conv1D(6, 3, activation="relu")(h)
    h = layers.GlobalMaxPooling1D()(h)
    return _model(ids, layers.Dense(3, activation="softmax")(h)), [_ids(12, 50)]


def _audio_cnn():
    return _seq((32, 1), layers.Conv1D(8, 5, strides=2, activation="relu"), layers.MaxPooling1D(2),
                layers.Conv1D(8, 3, padding="causal", dilation_rate=2, activation="relu"),
                layers.GlobalAveragePooling1D(), layers.Dense(4, activation="softmax")), [_x(32, 1)]


def _transformer_block():
    x = keras.Input((8, 16))
    a = layers.MultiHeadAttention(num_heads=2, key_dim=8)(x, x)
    h = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([x, a]))
    f = layers.Dense(32, activation="gelu")(h)
    f = layers.Dense(16)(f)
    h = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([h, f]))
    h = layers.GlobalAveragePooling1D()(h)
    return _model(x, layers.Dense(4)(h)), [_x(8, 16)]


def _masked_text_transformer():
    ids = keras.Input((8,), dtype="int32")
    e = layers.Embedding(30, 16, mask_zero=True)(ids)
    a = layers.MultiHeadAttention(num_heads=2, key_dim=8)(e, e)
    h = layers.LayerNormalization()(layers.Add()([e, a]))
    h = layers.GlobalAveragePooling1D()(h)
    return _model(ids, layers.Dense(3)(h)), [_ids(8, 30, "post")]


def _mha_cross_causal():
    q, v = keras.Input((5, 8)), keras.Input((7, 6))
    y = layers.MultiHeadAttention(num_heads=3, key_dim=4, value_dim=5, output_shape=10)(q, v, use_causal_mask=True)
    return _model([q, v], y), [_x(5, 8), _x(7, 6)]


def _mha_key_attention_mask():
    q, v, k = keras.Input((5, 8)), keras.Input((6, 8)), keras.Input((6, 8))
    m = keras.Input((5, 6))
    y = layers.MultiHeadAttention(num_heads=2, key_dim=4, use_bias=False)(q, v, key=k, attention_mask=m)
    mask = (RNG.uniform(size=(B, 5, 6)) > 0.3).astype(np.float32)
    mask[:, :, 0] = 1.0                                      # every query attends somewhere
    return _model([q, v, k, m], y), [_x(5, 8), _x(6, 8), _x(6, 8), mask]


def _attention_layers():
    q, v = keras.Input((5, 6)), keras.Input((7, 6))
    a = layers.Attention()([q, v])
    s = layers.Attention(use_scale=True)([q, v, layers.Dense(6)(v)], use_causal_mask=True)
    return _model([q, v], [a, s]), [_x(5, 6), _x(7, 6)]


def _additive_attention():
    q, v = keras.Input((5, 6)), keras.Input((7, 6))
    a = layers.AdditiveAttention()([q, v])
    s = layers.AdditiveAttention(use_scale=False)([q, v, layers.Dense(6)(v)], use_causal_mask=True)
    return _model([q, v], [a, s]), [_x(5, 6), _x(7, 6)]


def _attention_masked():
    ids = keras.Input((7,), dtype="int32")
    e = layers.Embedding(20, 6, mask_zero=True)(ids)
    y = layers.Attention()([e, e])
    return _model(ids, y), [_ids(7, 20, "post")]


def _time_distributed():
    x = keras.Input((5, 6, 2))
    h = layers.TimeDistributed(layers.Conv1D(3, 2, activation="relu"))(x)
    h = layers.TimeDistributed(layers.Flatten())(h)
    h = layers.TimeDistributed(layers.Dense(4))(h)
    return _model(x, layers.LSTM(5)(h)), [_x(5, 6, 2)]


def _sequential_masked():
    return _seq((7,), layers.Embedding(25, 6, mask_zero=True), layers.Dense(6, activation="tanh"),
                layers.Dropout(0.1), layers.GRU(5, return_sequences=True), layers.LSTM(4), layers.Dense(2),
                dtype="int32"), [_ids(7, 25, "mixed")]


def _model_rnn_state():
    x = keras.Input((6, 4))
    out, h = layers.RNN(layers.SimpleRNNCell(5, activation="relu"), return_state=True)(x)
    return _model(x, [out, h])


def _conv_lstm(steps=4, **kw):
    def build():
        return _seq((steps, 6, 5, 2), layers.ConvLSTM2D(3, 3, **kw)), [_x(steps, 6, 5, 2)]
    return build


def _conv_lstm_states():
    x = keras.Input((3, 5, 5, 2))
    out, h, c = layers.ConvLSTM2D(2, (3, 2), padding="same", return_state=True, return_sequences=True)(x)
    return _model(x, [out, h, c]), [_x(3, 5, 5, 2)]


CASES = {
    "conv_lstm2d_last": _conv_lstm(),
    "conv_lstm2d_same_sequences": _conv_lstm(padding="same", return_sequences=True),
    "conv_lstm2d_strided_backwards": _conv_lstm(strides=2, go_backwards=True, return_sequences=True,
                                                recurrent_activation="hard_sigmoid"),
    "conv_lstm2d_dilated_relu_nobias": _conv_lstm(dilation_rate=2, activation="relu", use_bias=False),
    "conv_lstm2d_states": _conv_lstm_states,
    "rnn_lstm_cell": lambda: (_seq((6, 4), layers.RNN(layers.LSTMCell(5), return_sequences=True)), [_x(6, 4)]),
    "rnn_gru_cell_backwards": lambda: (_seq((6, 4), layers.RNN(layers.GRUCell(5), go_backwards=True)), [_x(6, 4)]),
    "rnn_simple_cell_state": lambda: (_model_rnn_state(), [_x(6, 4)]),
    "lstm_last": lambda: (_seq((7, 5), layers.LSTM(8)), [_x(7, 5)]),
    "lstm_stacked_sequences": lambda: (_seq((6, 4), layers.LSTM(8, return_sequences=True),
                                            layers.LSTM(6, return_sequences=True), layers.LSTM(4)), [_x(6, 4)]),
    "lstm_go_backwards": lambda: (_seq((6, 4), layers.LSTM(8, go_backwards=True, return_sequences=True)),
                                  [_x(6, 4)]),
    "lstm_relu_no_bias": lambda: (_seq((6, 4), layers.LSTM(6, activation="relu", use_bias=False)), [_x(6, 4)]),
    "lstm_hard_sigmoid_unrolled": lambda: (_seq((6, 4), layers.LSTM(6, recurrent_activation="hard_sigmoid",
                                                                    return_sequences=True)), [_x(6, 4)]),
    "lstm_return_state": _lstm_return_state,
    "lstm_encoder_decoder": _encoder_decoder,
    "gru_last": lambda: (_seq((7, 5), layers.GRU(8)), [_x(7, 5)]),
    "gru_backwards_sequences": lambda: (_seq((6, 4), layers.GRU(6, go_backwards=True, return_sequences=True)),
                                        [_x(6, 4)]),
    "gru_reset_before": lambda: (_seq((6, 4), layers.GRU(6, reset_after=False, return_sequences=True)), [_x(6, 4)]),
    "gru_return_state": _gru_return_state,
    "simple_rnn": lambda: (_seq((6, 4), layers.SimpleRNN(8)), [_x(6, 4)]),
    "simple_rnn_relu_backwards": lambda: (_seq((6, 4), layers.SimpleRNN(5, activation="relu", go_backwards=True,
                                                                        return_sequences=True)), [_x(6, 4)]),
    "bidi_lstm_concat": lambda: (_seq((6, 4), layers.Bidirectional(layers.LSTM(5, return_sequences=True)),
                                      layers.Bidirectional(layers.LSTM(4))), [_x(6, 4)]),
    "bidi_lstm_sum": lambda: (_seq((6, 4), layers.Bidirectional(layers.LSTM(5), merge_mode="sum")), [_x(6, 4)]),
    "bidi_gru_ave": lambda: (_seq((6, 4), layers.Bidirectional(layers.GRU(5, return_sequences=True),
                                                               merge_mode="ave")), [_x(6, 4)]),
    "bidi_rnn_mul_backward_layer": lambda: (_seq((6, 4), layers.Bidirectional(
        layers.SimpleRNN(5, return_sequences=True), merge_mode="mul",
        backward_layer=layers.SimpleRNN(5, return_sequences=True, go_backwards=True, activation="relu"))),
        [_x(6, 4)]),
    "bidi_return_state": _bidi_return_state,
    "bidi_merge_none": _bidi_merge_none,
    "masked_lstm_post_padding": _masked_lstm("post"),
    "masked_lstm_pre_padding": _masked_lstm("pre"),
    "masked_sequences": _masked_sequences,
    "masked_bidi_gru_pool": _masked_bidi_gru_pool,
    "masking_layer": _masking_layer,
    "masking_value": _masking_value,
    "sequential_masked": _sequential_masked,
    "time_distributed": _time_distributed,
    "text_cnn": _text_cnn,
    "audio_cnn": _audio_cnn,
    "transformer_block": _transformer_block,
    "masked_text_transformer": _masked_text_transformer,
    "mha_cross_causal": _mha_cross_causal,
    "mha_key_attention_mask": _mha_key_attention_mask,
    "attention": _attention_layers,
    "attention_masked": _attention_masked,
    "additive_attention": _additive_attention,
}


# -- sequences whose length is known only at run time (a WHILE over the steps) ----------------

def _dyn_masked_sequences():
    ids = keras.Input((None,), dtype="int32")
    h = layers.Embedding(30, 8, mask_zero=True)(ids)
    s1 = layers.LSTM(6, return_sequences=True)(h)
    s2 = layers.GRU(5, return_sequences=True, go_backwards=True)(s1)
    out, st = layers.SimpleRNN(4, return_state=True)(s2)
    return _model(ids, [s1, s2, out, st]), lambda steps: [_ids(steps, 30, "mixed")]


def _dyn_masked_bidi_gru_pool():
    ids = keras.Input((None,), dtype="int32")
    h = layers.Embedding(40, 8, mask_zero=True)(ids)
    h = layers.Bidirectional(layers.GRU(6, return_sequences=True))(h)
    h = layers.GlobalAveragePooling1D()(h)
    return _model(ids, layers.Dense(3, activation="softmax")(h)), lambda steps: [_ids(steps, 40, "mixed")]


def _dyn_bidi_last_state():
    ids = keras.Input((None,), dtype="int32")
    h = layers.Embedding(40, 8, mask_zero=True)(ids)
    outs = layers.Bidirectional(layers.LSTM(5, return_state=True))(h)
    return _model(ids, list(outs)), lambda steps: [_ids(steps, 40, "post")]


def _dyn_encoder_decoder():
    enc_in, dec_in = keras.Input((None, 4)), keras.Input((None, 3))
    _, h, c = layers.LSTM(8, return_state=True)(enc_in)
    y = layers.LSTM(8, return_sequences=True)(dec_in, initial_state=[h, c])
    return _model([enc_in, dec_in], layers.Dense(2)(y)), lambda steps: [_x(steps, 4), _x(steps - 2, 3)]


def _dyn_masking_layer():
    inp = keras.Input((None, 3))
    h = layers.Masking()(inp)

    def feeds(steps):
        x = _x(steps, 3)
        x[0, steps - 2:] = 0.0
        x[1, :2] = 0.0
        return [x]
    return _model(inp, layers.GRU(6, return_sequences=True, reset_after=False)(h)), feeds


def _model_masked_rnn_cell():
    ids = keras.Input((None,), dtype="int32")
    h = layers.Embedding(30, 8, mask_zero=True)(ids)
    return _model(ids, layers.RNN(layers.LSTMCell(5))(h))


def _dyn_seq(*ls):
    return lambda: (_seq((None, 4), *ls), lambda steps: [_x(steps, 4)])


def _dyn_conv_lstm():
    x = keras.Input((None, 6, 5, 2))
    y = layers.ConvLSTM2D(3, 3, padding="same", return_sequences=True)(x)
    return _model(x, layers.ConvLSTM2D(2, 2, strides=2)(y)), lambda steps: [_x(steps, 6, 5, 2)]


DYNAMIC_CASES = {
    "conv_lstm2d": _dyn_conv_lstm,
    "rnn_gru_cell": _dyn_seq(layers.RNN(layers.GRUCell(6), return_sequences=True)),
    "gru_last": _dyn_seq(layers.GRU(8)),
    "gru_backwards_sequences": _dyn_seq(layers.GRU(6, go_backwards=True, return_sequences=True)),
    "gru_reset_before": _dyn_seq(layers.GRU(6, reset_after=False, return_sequences=True)),
    "simple_rnn_relu_backwards": _dyn_seq(layers.SimpleRNN(5, activation="relu", go_backwards=True,
                                                           return_sequences=True)),
    "lstm_hard_sigmoid": _dyn_seq(layers.LSTM(6, recurrent_activation="hard_sigmoid", return_sequences=True)),
    "bidi_gru_concat": _dyn_seq(layers.Bidirectional(layers.GRU(5, return_sequences=True)),
                                layers.Bidirectional(layers.SimpleRNN(4))),
    "encoder_decoder": _dyn_encoder_decoder,
    "masked_sequences": _dyn_masked_sequences,
    "masked_bidi_gru_pool": _dyn_masked_bidi_gru_pool,
    "masked_bidi_last_state": _dyn_bidi_last_state,
    "masking_layer": _dyn_masking_layer,
    "masked_rnn_cell": lambda: (_model_masked_rnn_cell(), lambda steps: [_ids(steps, 30, "post")]),
}


@pytest.mark.parametrize("fmt", ["h5", "keras", "live"])
@pytest.mark.parametrize("case", sorted(DYNAMIC_CASES))
def test_dynamic_length_loop(case, fmt, tmp_path):
    """Layers the fused LSTM cannot express, over sequences of any length: one file runs every
    length in LiteRT and tinylite, each matching Keras."""
    keras.utils.set_random_seed(15)
    model, feeds_of = DYNAMIC_CASES[case]()
    _randomize_biases(model)
    content = convert(model, fmt, tmp_path)
    m = tinylite.read_model(content)
    assert "WHILE" in ops_of(content) and len(m.subgraphs) > 1
    for steps in (5, 9):
        feeds = feeds_of(steps)
        check(content, feeds, reference(model, feeds))


def check(content, feeds, refs, tol_scale=1.0):
    """LiteRT and tinylite both match Keras."""
    check_both(content, feeds, refs, tol_scale)


def reference(model, feeds):
    out = model(feeds if len(feeds) > 1 else feeds[0])
    outs = out if isinstance(out, (list, tuple)) else [out]
    return [keras.ops.convert_to_numpy(o) for o in outs]


def convert(model, fmt, tmp_path):
    if fmt == "live":
        return tinylite.TFLiteConverter.from_keras_model(model).convert()
    path = tmp_path / f"model.{fmt}"
    model.save(path)
    return tinylite.TFLiteConverter.from_keras_model_file(str(path)).convert()


def ops_of(content):
    m = tinylite.read_model(content)
    return [m.op_name(op) for op in m.subgraphs[0].operators]


@pytest.mark.parametrize("fmt", ["h5", "keras", "live"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_sequence_model(case, fmt, tmp_path):
    keras.utils.set_random_seed(11)
    model, feeds = CASES[case]()
    _randomize_biases(model)
    refs = reference(model, feeds)
    # LiteRT's GELU uses a fast approximation: 1e-3 relative instead of 1e-4.
    check(convert(model, fmt, tmp_path), feeds, refs, tol_scale=10.0 if case == "transformer_block" else 1.0)


# -- what the files hold ------------------------------------------------------------------------

def test_lstm_is_the_fused_op():
    model = _seq((7, 5), layers.LSTM(8))
    content = tinylite.TFLiteConverter.from_keras_model(model).convert()
    ops = ops_of(content)
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in ops and "FULLY_CONNECTED" not in ops, ops
    m = tinylite.read_model(content)
    sg = m.subgraphs[0]
    lstm = next(op for op in sg.operators if m.op_name(op) == "UNIDIRECTIONAL_SEQUENCE_LSTM")
    assert len(lstm.inputs) == 24
    assert [sg.tensors[lstm.inputs[i]].is_variable for i in (18, 19)] == [True, True]
    assert not lstm.builtin_options["time_major"]


def test_gru_and_masks_use_builtin_ops_only():
    model, _ = _masked_sequences()
    ops = set(ops_of(tinylite.TFLiteConverter.from_keras_model(model).convert()))
    assert not any("SEQUENCE" in op or op in ("WHILE", "CUSTOM", "FLEX") for op in ops), ops


def test_stateless_lstm_does_not_leak_between_invokes():
    """The fused op writes its final state into its state tensors: a stateless layer
    must start from zeros on every invoke (LiteRT and tinylite alike)."""
    keras.utils.set_random_seed(12)
    model = _randomize_biases(_seq((6, 4), layers.LSTM(8, return_sequences=True)))
    x = _x(6, 4)
    ref = reference(model, [x])[0]
    content = tinylite.TFLiteConverter.from_keras_model(model).convert()

    def twice(it):
        d = it.get_input_details()[0]
        it.resize_tensor_input(d["index"], x.shape)
        it.allocate_tensors()
        for k in range(2):
            it.set_tensor(d["index"], x)
            it.invoke()
            close(it.get_tensor(it.get_output_details()[0]["index"]), ref, f"{type(it).__module__} invoke {k}")

    twice(litert_interpreter(content))
    assert not missing_kernels(content)
    twice(tinylite.Interpreter(model_content=content))


@pytest.mark.parametrize("fmt", ["keras", "live"])
def test_stateful_lstm_carries_state(tmp_path, fmt):
    keras.utils.set_random_seed(13)
    x = keras.Input(batch_shape=(2, 4, 3))
    model = _randomize_biases(_model(x, layers.LSTM(6, stateful=True, return_sequences=True)(x)))
    chunks = [RNG.standard_normal((2, 4, 3)).astype(np.float32) for _ in range(3)]
    content = convert(model, fmt, tmp_path)
    for lay in model.layers:
        if hasattr(lay, "reset_state"):
            lay.reset_state()
    refs = [reference(model, [c])[0] for c in chunks]
    interpreters = [litert_interpreter(content)]
    missing = missing_kernels(content)
    if not missing:
        interpreters.append(tinylite.Interpreter(model_content=content))
    for it in interpreters:
        it.allocate_tensors()
        d = it.get_input_details()[0]
        for k, (c, r) in enumerate(zip(chunks, refs)):
            it.set_tensor(d["index"], c)
            it.invoke()
            close(it.get_tensor(it.get_output_details()[0]["index"]), r, f"{type(it).__module__} chunk {k}")
        it.reset_all_variables()
        it.set_tensor(d["index"], chunks[0])
        it.invoke()
        close(it.get_tensor(it.get_output_details()[0]["index"]), refs[0], "after reset_all_variables")
    assert not missing


def test_dynamic_length_lstm():
    """A fused LSTM runs on sequences whose length is known only at run time."""
    keras.utils.set_random_seed(14)
    model = _randomize_biases(_seq((None, 3), layers.LSTM(5, go_backwards=True)))
    content = tinylite.TFLiteConverter.from_keras_model(model).convert()
    for steps in (4, 9):
        x = _x(steps, 3)
        check(content, [x], reference(model, [x]))


# -- clear errors -------------------------------------------------------------------------------

def _error(model, match):
    with pytest.raises(tinylite.ConverterError, match=match):
        tinylite.TFLiteConverter.from_keras_model(model).convert()


def test_stateful_gru_explains():
    x = keras.Input(batch_shape=(2, 4, 3))
    _error(_model(x, layers.GRU(4, stateful=True)(x)), "stateful=True is only supported for an LSTM")


def test_attention_concat_score_explains():
    q, v = keras.Input((4, 3)), keras.Input((5, 3))
    _error(_model([q, v], layers.Attention(score_mode="concat")([q, v])), "score_mode='concat'")


def test_mask_into_unsupported_layer_explains():
    ids = keras.Input((6,), dtype="int32")
    h = layers.Embedding(10, 4, mask_zero=True)(ids)
    _error(_model(ids, layers.Softmax()(h)), "masks are not supported by this layer")
