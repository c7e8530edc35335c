"""SavedModels and a frozen GraphDef from the shared corpus, converted with no TensorFlow:
outputs in tinylite and LiteRT match TensorFlow's own (saved_model_output*, graph_output0)
within 1e-4 relative, signatures equal TensorFlow's conversions', sizes within +1% of them,
and quantized conversions equal those made from the same model's .keras file."""
import os
import shutil
import subprocess
import sys
import types

import numpy as np
import pytest

import tinylite
from oracle import litert_interpreter, run
from tinylite.errors import ConverterError

KERAS_EXPORTS = ["mnist_cnn", "fashion_cnn", "rnet", "mlp5"]


def _relative_close(got, want, what, same_type=False):
    """Within 1e-4 of the largest reference magnitude; with `same_type` (a reference straight from
    TensorFlow), of its type too, and integers equal."""
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    if same_type:
        assert got.dtype == want.dtype, f"{what}: type {got.dtype} where TensorFlow gives {want.dtype}"
    if want.dtype.kind in "iub":
        np.testing.assert_array_equal(got, want, err_msg=what)
        return
    err = float(np.max(np.abs(got.astype(np.float64) - want)))
    bound = 1e-4 * float(np.max(np.abs(want)))
    assert err <= bound, f"{what}: max abs error {err:.3g} > 1e-4 * max|ref| = {bound:.3g}"


def _by_shape(arrays, details):
    pool, out = list(arrays), []
    for d in details:
        k = next(i for i, a in enumerate(pool) if a.shape[1:] == tuple(d["shape"][1:]))
        out.append(pool.pop(k))
    return out


def _check_outputs(content, inputs, refs, per_sample=False):
    """Both runtimes reproduce refs (matched to outputs by shape)."""
    for name, make in (("LiteRT", lambda: litert_interpreter(content)),
                       ("tinylite", lambda: tinylite.Interpreter(model_content=content))):
        ip = make()
        if per_sample:        # a fixed batch of 1 (TF1 frozen graphs)
            rows = [run(ip, [x[i:i + 1] for x in inputs]) for i in range(len(inputs[0]))]
            outs = [np.concatenate([r[k] for r in rows]) for k in range(len(rows[0]))]
        else:
            outs = run(ip, _by_shape(inputs, ip.get_input_details()))
        for k, (got, want) in enumerate(zip(outs, _by_shape(refs, ip.get_output_details()))):
            _relative_close(got, want, f"{name} output {k}")


def _signatures(content):
    return litert_interpreter(content).get_signature_list()


@pytest.mark.parametrize("name", KERAS_EXPORTS + ["tf_rnet"])
def test_corpus_saved_model(corpus, name):
    folder = corpus / name
    content = tinylite.TFLiteConverter.from_saved_model(str(folder / "saved_model")).convert()
    assert "tensorflow" not in sys.modules
    io = np.load(folder / "saved_model_io.npz")
    inputs = [io[k] for k in sorted(io.files) if k.startswith("input")]
    refs = [io[k] for k in sorted(io.files) if k.startswith("saved_model_output")]
    _check_outputs(content, inputs, refs)
    tf = (folder / "tf_saved_model.tflite").read_bytes()
    assert _signatures(content) == _signatures(tf)
    assert len(content) <= 1.01 * len(tf), f"{len(content)} bytes > 1.01 * TensorFlow's {len(tf)}"
    ip = tinylite.Interpreter(model_content=content)
    assert all(d["shape_signature"][0] == -1 for d in ip.get_input_details())


def test_tf_rnet_signature_names(corpus):
    content = tinylite.TFLiteConverter.from_saved_model(str(corpus / "tf_rnet" / "saved_model")).convert()
    runner = tinylite.Interpreter(model_content=content).get_signature_runner("serving_default")
    x = np.load(corpus / "tf_rnet" / "saved_model_io.npz")["input0"][:2]
    out = runner(input=x)
    assert sorted(out) == ["bbox", "prob"]
    assert out["bbox"].shape == (2, 4) and out["prob"].shape == (2, 2)


def test_corpus_frozen_graph(corpus):
    folder = corpus / "tf1_frozen_mlp"
    conv = tinylite.compat.v1.TFLiteConverter.from_frozen_graph(str(folder / "frozen_graph.pb"), ["input"], ["output"])
    content = conv.convert()
    assert "tensorflow" not in sys.modules
    io = np.load(folder / "io.npz")
    _check_outputs(content, [io["input0"]], [io["graph_output0"]], per_sample=True)
    tf = (folder / "tf_frozen.tflite").read_bytes()
    assert _signatures(content) == _signatures(tf) == {}
    assert len(content) <= 1.01 * len(tf)
    d = tinylite.Interpreter(model_content=content).get_input_details()[0]
    assert d["name"] == "input" and list(d["shape"]) == [1, 20]


def test_frozen_graph_input_shapes(corpus):
    conv = tinylite.compat.v1.TFLiteConverter.from_frozen_graph(
        str(corpus / "tf1_frozen_mlp" / "frozen_graph.pb"), ["input"], ["output"], {"input": [4, 20]})
    ip = tinylite.Interpreter(model_content=conv.convert())
    assert list(ip.get_input_details()[0]["shape"]) == [4, 20]
    assert list(ip.get_output_details()[0]["shape"]) == [4, 5]


def test_v1_from_saved_model_and_signature_keys(corpus):
    sm = str(corpus / "mlp5" / "saved_model")
    one = tinylite.compat.v1.TFLiteConverter.from_saved_model(sm, signature_key="serve").convert()
    assert list(_signatures(one)) == ["serve"]
    both = tinylite.TFLiteConverter.from_saved_model(sm, signature_keys=["serve", "serving_default"]).convert()
    assert sorted(_signatures(both)) == ["serve", "serving_default"]
    x = np.load(corpus / "mlp5" / "saved_model_io.npz")["input0"][:3]
    ip = litert_interpreter(both)
    a = ip.get_signature_runner("serve")(input_layer_3=x)["output_0"]
    b = ip.get_signature_runner("serving_default")(input_layer_3=x)["output_0"]
    np.testing.assert_array_equal(a, b)
    def weights(content):
        return sum(len(b.data) for b in tinylite.read_model(content).buffers if b.data is not None)

    assert weights(both) == weights(one)        # the two signatures share their weights


def _quantize(conv, mode, x):
    if mode != "float":
        conv.optimizations = [tinylite.Optimize.DEFAULT]
    if mode == "float16":
        conv.target_spec.supported_types = [np.float16]
    if mode == "int8":
        conv.representative_dataset = lambda: ([x[i:i + 1]] for i in range(64))
    return conv.convert()


@pytest.mark.parametrize("mode", ["dynamic", "float16", "int8"])
@pytest.mark.parametrize("name", KERAS_EXPORTS)
def test_quantized_saved_model_equals_keras(corpus, name, mode):
    folder = corpus / name
    x = np.load(folder / "io.npz")["input0"]
    a = _quantize(tinylite.TFLiteConverter.from_saved_model(str(folder / "saved_model")), mode, x)
    b = _quantize(tinylite.TFLiteConverter.from_keras_model_file(str(folder / "model.keras")), mode, x)
    ma, mb = tinylite.read_model(a), tinylite.read_model(b)
    assert [ma.op_name(o) for o in ma.subgraphs[0].operators] == [mb.op_name(o) for o in mb.subgraphs[0].operators]

    def consts(m):
        return sorted(bytes(np.asarray(t.data)) for t in m.buffers if t.data is not None and len(t.data))

    assert consts(ma) == consts(mb)
    qa = sorted((tuple(t.shape), t.type, None if t.quantization is None else
                 (tuple(np.ravel(t.quantization.scale)), tuple(np.ravel(t.quantization.zero_point))))
                for t in ma.subgraphs[0].tensors)
    qb = sorted((tuple(t.shape), t.type, None if t.quantization is None else
                 (tuple(np.ravel(t.quantization.scale)), tuple(np.ravel(t.quantization.zero_point))))
                for t in mb.subgraphs[0].tensors)
    assert qa == qb
    ia, ib = tinylite.Interpreter(model_content=a), tinylite.Interpreter(model_content=b)
    for k in range(0, 16, 5):
        oa = run(ia, [x[k:k + 1]])
        ob = run(ib, [x[k:k + 1]])
        for p, q in zip(sorted(oa, key=np.shape), sorted(ob, key=np.shape)):
            np.testing.assert_array_equal(p, q)


# -- bad inputs: clear errors, no output file --------------------------------------------------

def _cli(args, tmp_path):
    out = tmp_path / "out.tflite"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in [os.getcwd(), os.environ.get("PYTHONPATH")] if p))
    proc = subprocess.run([sys.executable, "-m", "tinylite.tflite_convert", *args, f"--output_file={out}"],
                          capture_output=True, text=True, env=env)
    return proc, out


def _copy_saved_model(corpus, tmp_path, name="mlp5"):
    dst = tmp_path / "sm"
    shutil.copytree(corpus / name / "saved_model", dst)
    for root, dirs, files in os.walk(dst):
        os.chmod(root, 0o755)
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)
    return dst


def test_missing_variables(corpus, tmp_path):
    sm = _copy_saved_model(corpus, tmp_path)
    shutil.rmtree(sm / "variables")
    with pytest.raises(ConverterError, match="variables"):
        tinylite.TFLiteConverter.from_saved_model(str(sm)).convert()
    proc, out = _cli([f"--saved_model_dir={sm}"], tmp_path)
    assert proc.returncode == 1 and "variables" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, 0.999])
def test_truncated_saved_model(corpus, tmp_path, keep):
    sm = _copy_saved_model(corpus, tmp_path)
    data = (sm / "saved_model.pb").read_bytes()
    (sm / "saved_model.pb").write_bytes(data[:int(len(data) * keep)])
    with pytest.raises(ConverterError, match="saved_model.pb|truncated|SavedModel"):
        tinylite.TFLiteConverter.from_saved_model(str(sm)).convert()
    proc, out = _cli([f"--saved_model_dir={sm}"], tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr and "error:" in proc.stderr
    assert not out.exists()


def test_truncated_variables_data(corpus, tmp_path):
    sm = _copy_saved_model(corpus, tmp_path, "fashion_cnn")
    shard = sm / "variables" / "variables.data-00000-of-00001"
    shard.write_bytes(shard.read_bytes()[:1000])
    with pytest.raises(ConverterError, match="past the end"):
        tinylite.TFLiteConverter.from_saved_model(str(sm)).convert()


@pytest.mark.parametrize("content", [b"", b"\x00" * 64, b"not a graph at all \xff\xff\xff", "tflite"])
def test_pb_that_is_not_a_graphdef(corpus, tmp_path, content):
    if content == "tflite":
        content = (corpus / "mlp5" / "tf_float.tflite").read_bytes()
    pb = tmp_path / "model.pb"
    pb.write_bytes(content)
    with pytest.raises(ConverterError, match="GraphDef"):
        tinylite.compat.v1.TFLiteConverter.from_frozen_graph(str(pb), ["input"], ["output"]).convert()
    proc, out = _cli([f"--graph_def_file={pb}", "--input_arrays=input", "--output_arrays=output"], tmp_path)
    assert proc.returncode == 1 and "GraphDef" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


def test_saved_model_pb_as_frozen_graph(corpus, tmp_path):
    with pytest.raises(ConverterError, match="GraphDef"):
        tinylite.compat.v1.TFLiteConverter.from_frozen_graph(
            str(corpus / "mlp5" / "saved_model" / "saved_model.pb"), ["input"], ["output"]).convert()


def test_unknown_signature_key(corpus, tmp_path):
    sm = str(corpus / "mnist_cnn" / "saved_model")
    with pytest.raises(ConverterError, match=r"'nope'.*serving_default"):
        tinylite.TFLiteConverter.from_saved_model(sm, signature_keys=["nope"]).convert()
    proc, out = _cli([f"--saved_model_dir={sm}", "--saved_model_signature_key=nope"], tmp_path)
    assert proc.returncode == 1 and "nope" in proc.stderr and "serving_default" in proc.stderr
    assert not out.exists()


def test_unknown_tags_and_arrays(corpus):
    with pytest.raises(ConverterError, match="tags"):
        tinylite.TFLiteConverter.from_saved_model(str(corpus / "mlp5" / "saved_model"), tags=["train"]).convert()
    pb = str(corpus / "tf1_frozen_mlp" / "frozen_graph.pb")
    with pytest.raises(ConverterError, match="'inp'.*input"):
        tinylite.compat.v1.TFLiteConverter.from_frozen_graph(pb, ["inp"], ["output"]).convert()
    with pytest.raises(ConverterError, match="'out'"):
        tinylite.compat.v1.TFLiteConverter.from_frozen_graph(pb, ["input"], ["out"]).convert()


def test_not_a_directory(tmp_path):
    with pytest.raises(ConverterError, match="SavedModel"):
        tinylite.TFLiteConverter.from_saved_model(str(tmp_path / "nothing")).convert()
    with pytest.raises(ConverterError, match="saved_model.pb"):
        tinylite.TFLiteConverter.from_saved_model(str(tmp_path)).convert()


def test_from_concrete_functions_without_tensorflow():
    with pytest.raises(ConverterError, match="TensorFlow"):
        tinylite.TFLiteConverter.from_concrete_functions([lambda x: x])


# -- the command line --------------------------------------------------------------------------

def test_cli_saved_model_and_graph_def(corpus, tmp_path):
    proc, out = _cli([f"--saved_model_dir={corpus / 'tf_rnet' / 'saved_model'}", "--saved_model_signature_key="
                      "serving_default", "--saved_model_tag_set=serve"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert sorted(_signatures(out.read_bytes())["serving_default"]["outputs"]) == ["bbox", "prob"]
    proc, out = _cli([f"--graph_def_file={corpus / 'tf1_frozen_mlp' / 'frozen_graph.pb'}", "--input_arrays=input",
                      "--output_arrays=output", "--input_shapes=2,20"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert list(tinylite.Interpreter(model_path=str(out)).get_input_details()[0]["shape"]) == [2, 20]


def test_tinylite_convert_dir_and_pb(corpus, tmp_path):
    from tinylite.cli import main

    out = tmp_path / "sm.tflite"
    assert main(["convert", str(corpus / "mlp5" / "saved_model"), "-o", str(out), "--quantize", "dynamic"]) == 0
    assert tinylite.Interpreter(model_path=str(out)).get_signature_list()["serving_default"]["outputs"] == ["output_0"]
    out2 = tmp_path / "pb.tflite"
    assert main(["convert", str(corpus / "tf1_frozen_mlp" / "frozen_graph.pb"), "--input_arrays", "input",
                 "--output_arrays", "output", "-o", str(out2)]) == 0
    assert out2.stat().st_size > 0
    assert main(["convert", str(corpus / "tf1_frozen_mlp" / "frozen_graph.pb"), "-o", str(tmp_path / "x.tflite")]) == 1
    assert not (tmp_path / "x.tflite").exists()


# -- SavedModels of models the corpus does not have (tests/data/saved_models, made by
# -- scripts/make_tf_fixtures.py with TensorFlow at fixture time) ------------------------------

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "saved_models")
FIXTURE_MODELS = ["mobilenet_like", "attention", "two_inputs", "unet", "text_cnn", "lstm", "lstm_seq", "lstm_varlen", "gru", "tf_module", "op_zoo",
                  "op_zoo2", "int_dtypes", "dynamic_sequence", "runtime_loops", "runtime_shapes", "segments_scatter", "spectra", "resamplers", "channels_first", "volume", "gru_varlen",
                  "masked_lstm_varlen"]


@pytest.mark.parametrize("name", FIXTURE_MODELS)
def test_fixture_saved_model(name):
    folder = os.path.join(FIXTURES, name)
    content = tinylite.TFLiteConverter.from_saved_model(os.path.join(folder, "saved_model")).convert()
    assert "tensorflow" not in sys.modules
    io = np.load(os.path.join(folder, "io.npz"))
    feeds = {k[3:]: io[k] for k in io.files if k.startswith("in_")}
    refs = {k[4:]: io[k] for k in io.files if k.startswith("out_")}
    for runtime, ip in (("LiteRT", litert_interpreter(content)), ("tinylite", tinylite.Interpreter(model_content=content))):
        sig = ip.get_signature_list()["serving_default"]
        assert sorted(sig["inputs"]) == sorted(feeds) and sorted(sig["outputs"]) == sorted(refs)
        got = ip.get_signature_runner("serving_default")(**feeds)
        for k, want in refs.items():
            _relative_close(got[k], want, f"{runtime} {name} {k}", same_type=True)


@pytest.mark.parametrize("name,fused", [("lstm", True), ("lstm_seq", True), ("lstm_varlen", True), ("gru", False)])
def test_keras_rnn_loops(name, fused):
    """A Keras LSTM's While loop becomes UNIDIRECTIONAL_SEQUENCE_LSTM (as the Keras frontend
    lowers the layer); a GRU's is unrolled over its fixed number of steps."""
    content = tinylite.TFLiteConverter.from_saved_model(os.path.join(FIXTURES, name, "saved_model")).convert()
    model = tinylite.read_model(content)
    ops = {model.op_name(o) for o in model.subgraphs[0].operators}
    assert ("UNIDIRECTIONAL_SEQUENCE_LSTM" in ops) == fused
    assert not ops & {"WHILE", "SPLIT"} if fused else "SPLIT" in ops


def test_runtime_loops_run_any_count():
    """tf.while_loop with a run-time trip count is a WHILE over cond and body subgraphs (a nested
    loop's inside its parent's body): one file runs any count and any batch, LiteRT and tinylite
    giving the same numbers (the counts, and the grown tensor's shape, exactly)."""
    content = tinylite.TFLiteConverter.from_saved_model(os.path.join(FIXTURES, "runtime_loops", "saved_model")).convert()
    model = tinylite.read_model(content)
    names = [model.op_name(o) for o in model.subgraphs[0].operators]
    assert names.count("WHILE") == 4 and len(model.subgraphs) == 11, names
    rng = np.random.default_rng(3)
    for n, batch in ((0, 1), (1, 5), (7, 2)):
        feeds = {"x": rng.normal(size=(batch, 4)).astype(np.float32), "n": np.int32(n)}
        lite = litert_interpreter(content).get_signature_runner("serving_default")(**feeds)
        mine = tinylite.Interpreter(model_content=content).get_signature_runner("serving_default")(**feeds)
        assert mine["grown"].shape == (n + 1, 4) and int(mine["nested"]) == sum(j * j for i in range(n) for j in range(i))
        for k, want in lite.items():
            assert mine[k].dtype == want.dtype and mine[k].shape == want.shape, k
            _relative_close(mine[k], want, f"n={n} batch={batch} {k}", same_type=True)


def test_mixed_float16_model():
    """A Keras mixed_float16 model computes in float32 (TFLite's float kernels), its float16 output
    cast back: within float16's own rounding (2**-10 relative) of TensorFlow's float16 compute,
    from the SavedModel and from the .keras file alike, in LiteRT and tinylite."""
    folder = os.path.join(FIXTURES, "mixed_float16")
    io = np.load(os.path.join(folder, "io.npz"))
    want = io["out_output_0"].astype(np.float64)
    for source in ("saved_model", "model.keras"):
        path = os.path.join(folder, source)
        conv = (tinylite.TFLiteConverter.from_saved_model(path) if source == "saved_model"
                else tinylite.TFLiteConverter.from_keras_model_file(path))
        content = conv.convert()
        for ip in (litert_interpreter(content), tinylite.Interpreter(model_content=content)):
            got = ip.get_signature_runner("serving_default")(image=io["in_image"])["output_0"]
            if source == "saved_model":
                assert got.dtype == np.float16              # the signature's type
            err = float(np.max(np.abs(got.astype(np.float64) - want)))
            assert err <= 2.0**-9 * float(np.max(np.abs(want))), f"{source} {type(ip).__module__}: {err}"


def test_channels_first_keeps_nhwc_between_ops():
    """NCHW ops run as their NHWC lowerings between TRANSPOSEs, the transposes between two such ops
    cancelling: the image moves to NHWC once for its three convolutions, the bias folds into its
    convolution, and the pooling after the depthwise convolution reads it in NHWC.  (An op with no
    layout between them, the RELU, still reads NCHW.)  The values: test_fixture_saved_model."""
    content = tinylite.TFLiteConverter.from_saved_model(os.path.join(FIXTURES, "channels_first", "saved_model")).convert()
    m = tinylite.read_model(content)
    sg = m.subgraphs[0]
    names = [m.op_name(o) for o in sg.operators]
    moved = [o for o in sg.operators if m.op_name(o) == "TRANSPOSE" and o.inputs[0] == sg.inputs[0]]
    assert len(moved) == 1 and names.count("TRANSPOSE") == 6, names
    assert not any("BiasAdd" in sg.tensors[o.outputs[0]].name for o in sg.operators), names
    k = names.index("DEPTHWISE_CONV_2D")
    assert names[k + 1] == "AVERAGE_POOL_2D", names


def test_runtime_sizes_and_slice_bounds():
    """A resize to a size computed at run time and slices at a run-time index: one file serves
    every image size and index, LiteRT and tinylite agreeing (the slices exactly numpy's)."""
    content = tinylite.TFLiteConverter.from_saved_model(os.path.join(FIXTURES, "runtime_shapes", "saved_model")).convert()
    table = np.arange(20, dtype=np.float32).reshape(4, 5)
    rng = np.random.default_rng(6)
    for i, (h, w) in ((0, (3, 4)), (2, (6, 2)), (3, (1, 1))):
        feeds = {"image": rng.normal(size=(1, h, w, 3)).astype(np.float32), "table": table, "i": np.int32(i)}
        lite = litert_interpreter(content).get_signature_runner("serving_default")(**feeds)
        mine = tinylite.Interpreter(model_content=content).get_signature_runner("serving_default")(**feeds)
        assert mine["up"].shape == (1, 2 * h, 2 * w, 4) and mine["nearest"].shape == (1, 2 * h + 1, 2 * w + 1, 4)
        for k, want in (("row", table[i]), ("cols", table[:, i:i + 2]), ("from_end", table[-i - 1, 1:]),
                        ("strided", table[i::2])):
            np.testing.assert_array_equal(mine[k], want, err_msg=k)
        for k, want in lite.items():
            _relative_close(mine[k], want, f"i={i} {h}x{w} {k}", same_type=True)


@pytest.mark.parametrize("mode", ["dynamic", "float16", "int8", "int16x8"])
def test_runtime_loops_quantized(mode):
    """In every mode the loops convert and run (their bodies in float in the integer modes,
    between DEQUANTIZE and QUANTIZE), LiteRT and tinylite agreeing and the counts exact;
    calibration feeds a model with a scalar input (the count) one sample at a time."""
    from tinylite.testing import configure_quantization

    folder = os.path.join(FIXTURES, "runtime_loops")
    io = np.load(os.path.join(folder, "io.npz"))
    feeds = {k[3:]: io[k] for k in io.files if k.startswith("in_")}
    rng = np.random.default_rng(4)
    samples = [{"x": rng.normal(size=(3, 4)).astype(np.float32), "n": np.int32(k % 6)} for k in range(8)]
    c = tinylite.TFLiteConverter.from_saved_model(os.path.join(folder, "saved_model"))
    configure_quantization(c, mode, lambda: iter(samples))
    content = c.convert()
    lite = litert_interpreter(content).get_signature_runner("serving_default")(**feeds)
    mine = tinylite.Interpreter(model_content=content).get_signature_runner("serving_default")(**feeds)
    for k, want in lite.items():
        _relative_close(mine[k], want, f"{mode} {k}", same_type=True)
    for k in ("nested", "steps"):
        np.testing.assert_array_equal(mine[k], io["out_" + k])


class _FakeShape:
    def __init__(self, dims):
        self.rank = len(dims)
        self._dims = dims

    def as_list(self):
        return list(self._dims)


class _FakeTensor:
    """Just what from_concrete_functions reads of a tf.Tensor."""

    def __init__(self, name, dims=None):
        self.name = name
        self.op = types.SimpleNamespace(name=name.split(":")[0])
        self.shape = _FakeShape(dims or [])
        self.dtype = types.SimpleNamespace(as_datatype_enum=1)


def test_from_concrete_functions_reads_the_function_graph(corpus):
    """The ConcreteFunction API surface (graph.as_graph_def(), inputs, outputs, captures) as
    TensorFlow hands it over, here over the corpus's frozen graph (no TensorFlow needed)."""
    pb = (corpus / "tf1_frozen_mlp" / "frozen_graph.pb").read_bytes()
    graph = types.SimpleNamespace(as_graph_def=lambda: types.SimpleNamespace(SerializeToString=lambda: pb),
                                  internal_captures=[], external_captures=[], variables=[])
    fn = types.SimpleNamespace(graph=graph, name="f", inputs=[_FakeTensor("input:0", [None, 20])],
                               outputs=[_FakeTensor("output:0")])
    content = tinylite.TFLiteConverter.from_concrete_functions([fn]).convert()
    assert _signatures(content) == {"serving_default": {"inputs": ["input"], "outputs": ["output_0"]}}
    io = np.load(corpus / "tf1_frozen_mlp" / "io.npz")
    _check_outputs(content, [io["input0"]], [io["graph_output0"]])


def test_unsupported_op_names_op_node_and_function(corpus, tmp_path):
    sm = _copy_saved_model(corpus, tmp_path, "mnist_cnn")
    pb = sm / "saved_model.pb"
    # Renaming every "Relu" keeps the protobuf valid: an op TensorFlow does not have.
    pb.write_bytes(pb.read_bytes().replace(b"Relu", b"Relq"))
    with pytest.raises(ConverterError) as e:
        tinylite.TFLiteConverter.from_saved_model(str(sm)).convert()
    msg = str(e.value)
    assert "TensorFlow op Relq (node 'sequential_1/" in msg and "/Relq'" in msg
    assert "in function '__inference___call___" in msg


def test_wire_decoder_and_snappy():
    from tinylite.frontends.tf import bundle, wire

    # NodeDef {name: "a", op: "Const", input: ["x", "^y"], attr {"k": {i: -2}}}
    attr = b"\x0a\x01k" + b"\x12\x0b" + b"\x18" + b"\xfe\xff\xff\xff\xff\xff\xff\xff\xff\x01"
    msg = b"\x0a\x01a\x12\x05Const\x1a\x01x\x1a\x02^y" + b"\x2a" + bytes([len(attr)]) + attr
    node = wire.decode(msg, wire.NODE)
    assert node == {"name": "a", "op": "Const", "input": ["x", "^y"], "attr": {"k": {"i": -2}}}
    # packed and unpacked repeated floats mix
    t = wire.decode(b"\x2a\x08" + np.array([1, 2], "<f4").tobytes() + b"\x2d" + np.array([3], "<f4").tobytes(),
                    wire.TENSOR)
    assert t["float_val"] == [1.0, 2.0, 3.0]
    for bad in (b"\x0a\x05ab", b"\x0a", b"\x0f\x00", b"\x12\x02\x08"):
        with pytest.raises(wire.WireError):
            wire.decode(bad, wire.NODE)
    # snappy: a literal "abcd" then a 1-byte-offset copy of 8 bytes at offset 4
    data = bytes([12, 3 << 2]) + b"abcd" + bytes([((8 - 4) << 2) | 1, 4])
    assert bundle.snappy_decompress(data) == b"abcdabcdabcd"
    with pytest.raises(ConverterError):
        bundle.snappy_decompress(bytes([12, 3 << 2]) + b"abcd" + bytes([((8 - 4) << 2) | 1, 9]))


def test_quantized_multi_signature(corpus):
    """Each signature is quantized on its own samples ((signature_key, dict) pairs, as
    TensorFlow's representative datasets give them) and the subgraphs agree."""
    x = np.load(corpus / "mlp5" / "io.npz")["input0"]
    conv = tinylite.TFLiteConverter.from_saved_model(str(corpus / "mlp5" / "saved_model"),
                                                     signature_keys=["serve", "serving_default"])
    conv.optimizations = [tinylite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ((k, {"input_layer_3": x[i:i + 1]}) for i in range(64)
                                           for k in ("serve", "serving_default"))
    content = conv.convert()
    model = tinylite.read_model(content)
    assert len(model.subgraphs) == 2
    for sg in model.subgraphs:
        assert [model.op_name(o) for o in sg.operators][0] == "QUANTIZE"
    ip = litert_interpreter(content)
    a = ip.get_signature_runner("serve")(input_layer_3=x[:4])["output_0"]
    b = ip.get_signature_runner("serving_default")(input_layer_3=x[:4])["output_0"]
    np.testing.assert_array_equal(a, b)
    single = tinylite.TFLiteConverter.from_saved_model(str(corpus / "mlp5" / "saved_model"))
    single.optimizations = [tinylite.Optimize.DEFAULT]
    single.representative_dataset = lambda: ([x[i:i + 1]] for i in range(64))
    np.testing.assert_array_equal(litert_interpreter(single.convert()).get_signature_runner("serving_default")(
        input_layer_3=x[:4])["output_0"], a)


@pytest.mark.parametrize("mode", ["float", "dynamic", "float16", "int8"])
@pytest.mark.parametrize("name", ["mobilenet_like", "text_cnn", "lstm", "lstm_seq", "lstm_varlen", "two_inputs", "volume"])
def test_fixture_saved_model_equals_keras_file(name, mode):
    """The SavedModel and the same model's .keras file give the same operators and constants
    (the TensorFlow frontend lands on the Keras frontend's neutral graph), float or quantized."""
    folder = os.path.join(FIXTURES, name)
    io = np.load(os.path.join(folder, "io.npz"))
    names = sorted(k[3:] for k in io.files if k.startswith("in_"))

    def make(conv):
        if mode != "float":
            conv.optimizations = [tinylite.Optimize.DEFAULT]
        if mode == "float16":
            conv.target_spec.supported_types = [np.float16]
        if mode == "int8":
            conv.representative_dataset = lambda: ({n: io["in_" + n][i:i + 1] for n in names} for i in range(4))
        return conv.convert()

    a = make(tinylite.TFLiteConverter.from_saved_model(os.path.join(folder, "saved_model")))
    b = make(tinylite.TFLiteConverter.from_keras_model_file(os.path.join(folder, "model.keras")))
    ma, mb = tinylite.read_model(a), tinylite.read_model(b)

    def ops(m):
        """(op, output shape, constant inputs) in a canonical order."""
        sg = m.subgraphs[0]
        out = []
        for o in sg.operators:
            consts = []
            for i in o.inputs:
                t = sg.tensors[i] if i >= 0 else None
                if t is not None and t.buffer and m.buffers[t.buffer].data is not None and len(m.buffers[t.buffer].data):
                    consts.append((t.type, bytes(np.asarray(m.buffers[t.buffer].data))))
            out.append((m.op_name(o), tuple(sg.tensors[o.outputs[0]].shape), consts))
        return sorted(out, key=lambda e: (e[0], e[1], [c[1] for c in e[2]]))

    oa, ob = ops(ma), ops(mb)
    assert [(n, s) for n, s, _ in oa] == [(n, s) for n, s, _ in ob]
    for (name_a, _, ca), (_, _, cb) in zip(oa, ob):
        assert len(ca) == len(cb), name_a
        for (ta, da), (tb, db) in zip(ca, cb):
            assert ta == tb and len(da) == len(db), name_a
            if da != db:
                # Folded arithmetic (BatchNormalization's scale and shift) may round in another
                # order than the Keras frontend's: float32 constants agree to float precision.
                assert ta == 0, f"{name_a}: integer constants differ"
                np.testing.assert_allclose(np.frombuffer(da, np.float32), np.frombuffer(db, np.float32),
                                           rtol=1e-5, atol=1e-6)
    feeds = {n: io["in_" + n] for n in names}
    ra = tinylite.Interpreter(model_content=a).get_signature_runner("serving_default")(**feeds)
    rb = tinylite.Interpreter(model_content=b).get_signature_runner("serving_default")(**feeds)
    for ka, kb in zip(sorted(ra, key=lambda k: ra[k].shape), sorted(rb, key=lambda k: rb[k].shape)):
        _relative_close(ra[ka], rb[kb].astype(np.float64), f"{name} {mode} {ka}")


@pytest.mark.parametrize("steps", [1, 3, 9])
def test_lstm_of_run_time_length(steps):
    """An LSTM over sequences of any length (keras.Input((None, f))): the loop's bound is the
    sequence's own run-time length, and the fused op runs any number of steps."""
    folder = os.path.join(FIXTURES, "lstm_varlen")
    a = tinylite.TFLiteConverter.from_saved_model(os.path.join(folder, "saved_model")).convert()
    b = tinylite.TFLiteConverter.from_keras_model_file(os.path.join(folder, "model.keras")).convert()
    x = np.random.default_rng(steps).normal(size=(2, steps, 3)).astype(np.float32)
    (want,) = litert_interpreter(b).get_signature_runner("serving_default")(seq=x).values()
    for ip in (litert_interpreter(a), tinylite.Interpreter(model_content=a)):
        _relative_close(ip.get_signature_runner("serving_default")(seq=x)["output_0"], want.astype(np.float64),
                        f"{steps} steps")


@pytest.mark.parametrize("name", ["gru_varlen", "masked_lstm_varlen"])
def test_rnn_loops_of_run_time_length(name):
    """Keras RNNs over `None` steps that the fused LSTM cannot express (GRU, a Bidirectional
    SimpleRNN, a masked LSTM): the SavedModel's While loops over TensorLists become WHILEs, as
    does the Keras frontend's lowering of the same model.keras.  Both files match TensorFlow
    at the fixture's length and agree with each other at any length, in LiteRT and tinylite."""
    folder = os.path.join(FIXTURES, name)
    a = tinylite.TFLiteConverter.from_saved_model(os.path.join(folder, "saved_model")).convert()
    b = tinylite.TFLiteConverter.from_keras_model_file(os.path.join(folder, "model.keras")).convert()
    for content in (a, b):
        m = tinylite.read_model(content)
        assert "WHILE" in {m.op_name(o) for o in m.subgraphs[0].operators} and len(m.subgraphs) > 2
    io = np.load(os.path.join(folder, "io.npz"))
    (key,) = [k[3:] for k in io.files if k.startswith("in_")]
    rng = np.random.default_rng(5)
    for steps in (None, 1, 4, 9):
        x = io["in_" + key] if steps is None else (
            rng.integers(0, 50, (3, steps)).astype(np.int32) if key == "tokens"
            else rng.normal(size=(3, steps, 4)).astype(np.float32))
        want = io["out_output_0"] if steps is None else \
            litert_interpreter(a).get_signature_runner("serving_default")(**{key: x})["output_0"]
        for content in (a, b):
            for ip in (litert_interpreter(content), tinylite.Interpreter(model_content=content)):
                got = ip.get_signature_runner("serving_default")(**{key: x})["output_0"]
                _relative_close(got, want.astype(np.float64), f"{name} {steps} steps {type(ip).__module__}")


def test_a_file_the_runtime_cannot_prepare_is_refused():
    """The TF frontend maps ops without knowing every kernel's types; as TensorFlow's converter, a
    conversion whose file no runtime can prepare (SQUARE on int32) fails instead of writing it."""
    from tinylite.converter.api import _check_runs
    from tinylite.errors import ConverterError
    from tinylite.testing import single_op_model

    dynamic = dict(shape=[1, 3], shape_signature=[-1, 3], dtype=np.float32)
    _check_runs(single_op_model("SQUARE", [dict(name="x", **dynamic)], [dict(name="y", **dynamic)]))
    with pytest.raises(ConverterError, match=r"cannot run: .*SQUARE.*int32"):
        _check_runs(single_op_model("SQUARE", [("x", [4], np.int32)], [("y", [4], np.int32)]))
