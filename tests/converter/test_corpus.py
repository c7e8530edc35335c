"""Every shared-corpus model converted from model.h5 and model.keras runs in LiteRT
and in tinylite and reproduces Keras's stored outputs; the file stays within 1% of
TensorFlow's own conversion, with TensorFlow's op versions and metadata."""
import numpy as np
import pytest

import tinylite
from tinylite.flatbuffer.schema import OP_NAMES
from keras_check import check_both

MODELS = ["mnist_cnn", "fashion_cnn", "rnet", "mlp5"]
RUNTIME = {"mnist_cnn": "1.5.0", "fashion_cnn": "1.5.0", "rnet": "1.8.0", "mlp5": "1.14.0"}


def _match(feeds_or_refs, details):
    """Corpus rule: multi-input/output models are matched by shape."""
    out, pool = [], list(feeds_or_refs)
    for d in details:
        shape = tuple(d["shape"][1:])
        k = next(i for i, a in enumerate(pool) if a.shape[1:] == shape)
        out.append(pool.pop(k))
    return out


@pytest.mark.parametrize("ext", ["h5", "keras"])
@pytest.mark.parametrize("name", MODELS)
def test_corpus_model(corpus, name, ext):
    folder = corpus / name
    content = tinylite.TFLiteConverter.from_keras_model_file(str(folder / f"model.{ext}")).convert()
    io = np.load(folder / "io.npz")
    # 64 samples as one batch: exercises the -1 batch dimension and keeps the test quick.
    inputs = [io[k][:64] for k in sorted(io.files) if k.startswith("input")]
    refs = [io[k][:64] for k in sorted(io.files) if k.startswith("keras_output")]
    ip = tinylite.Interpreter(model_content=content)
    feeds = _match(inputs, ip.get_input_details())
    check_both(content, feeds, _match(refs, ip.get_output_details()))

    tf_size = (folder / "tf_float.tflite").stat().st_size
    assert len(content) <= 1.01 * tf_size, f"{len(content)} bytes > 1.01 * TensorFlow's {tf_size}"

    model, tf = tinylite.read_model(content), tinylite.read_model(str(folder / "tf_float.tflite"))
    assert content[4:8] == b"TFL3" and model.version == 3
    versions = {OP_NAMES[c.builtin_code]: c.version for c in model.operator_codes}
    tf_versions = {OP_NAMES[c.builtin_code]: c.version for c in tf.operator_codes}
    for op, v in versions.items():
        if op in tf_versions:
            assert v == tf_versions[op], f"{op} version {v}, TensorFlow writes {tf_versions[op]}"
    # TensorFlow's table of first runtime releases, applied to the ops we emit (no
    # SHAPE/STRIDED_SLICE/PACK chain for Flatten, so earlier than TF's 1.11.0 there).
    assert model.metadata_bytes("min_runtime_version") == RUNTIME[name].encode().ljust(16, b"\0")
    sig = model.signature_defs[0]
    assert sig.signature_key == "serving_default"
    details = ip.get_input_details()
    assert all(d["shape_signature"][0] == -1 for d in details)


def test_signature_keys_match_tensorflow(corpus):
    """Inputs keyed by the Keras input's name; outputs output_0, output_1, ... in the
    model's output order, as TensorFlow keys them (its tf_float.tflite beside the model)."""
    content = tinylite.TFLiteConverter.from_keras_model_file(str(corpus / "rnet" / "model.h5")).convert()
    model = tinylite.read_model(content)
    sig = model.signature_defs[0]
    tf_sig = tinylite.read_model(str(corpus / "rnet" / "tf_float.tflite")).signature_defs[0]
    assert [t.name for t in sig.outputs] == sorted(t.name for t in tf_sig.outputs) == ["output_0", "output_1"]
    assert [t.name for t in sig.inputs] == ["input_layer_2"]
    # the output tensors keep their layer names
    names = [model.subgraphs[0].tensors[t.tensor_index].name for t in sig.outputs]
    assert names[0].startswith("conv5-2") and names[1].startswith("softmax"), names
    runner = tinylite.Interpreter(model_content=content).get_signature_runner()
    out = runner(input_layer_2=np.zeros((2, 24, 24, 3), np.float32))
    assert out["output_0"].shape == (2, 4) and out["output_1"].shape == (2, 2)


def test_mnist_accuracy(corpus):
    """The converted mnist_cnn classifies the held-out set like Keras does."""
    folder = corpus / "mnist_cnn"
    content = tinylite.TFLiteConverter.from_keras_model_file(str(folder / "model.keras")).convert()
    ev = np.load(folder / "eval.npz")
    ip = tinylite.Interpreter(model_content=content)
    d = ip.get_input_details()[0]
    ip.resize_tensor_input(d["index"], ev["x"].shape)
    ip.allocate_tensors()
    ip.set_tensor(d["index"], ev["x"].astype(np.float32))
    ip.invoke()
    pred = ip.get_tensor(ip.get_output_details()[0]["index"]).argmax(-1)
    assert (pred == ev["y"]).mean() > 0.8
