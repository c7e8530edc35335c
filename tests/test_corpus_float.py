"""The shared corpus's float and float16 TensorFlow files reproduce LiteRT's stored outputs."""
import numpy as np
import pytest

import tinylite

MODELS = ["mnist_cnn", "fashion_cnn", "rnet", "mlp5"]


def run_samples(path, inputs):
    ip = tinylite.Interpreter(model_path=str(path))
    ip.allocate_tensors()
    in_details, out_details = ip.get_input_details(), ip.get_output_details()
    # Match inputs by shape (the corpus README's rule).
    outs = [[] for _ in out_details]
    n = len(inputs[0])
    for k in range(n):
        for d, x in zip(in_details, inputs):
            ip.set_tensor(d["index"], x[k:k + 1])
        ip.invoke()
        for j, d in enumerate(out_details):
            outs[j].append(ip.get_tensor(d["index"]))
    return [np.concatenate(o) for o in outs]


@pytest.mark.parametrize("variant", ["float", "float16"])
@pytest.mark.parametrize("model", MODELS)
def test_matches_litert(corpus, model, variant):
    folder = corpus / model
    io = np.load(folder / "io.npz")
    ref = np.load(folder / f"tf_{variant}.litert.npz")
    inputs = [io[k] for k in sorted(io.files) if k.startswith("input")]
    got = run_samples(folder / f"tf_{variant}.tflite", inputs)
    for j, g in enumerate(got):
        want = ref[f"output{j}"]
        assert g.shape == want.shape
        err = np.abs(g - want).max()
        assert err <= 1e-4 * np.abs(want).max() + 1e-5, f"output {j}: max abs error {err}"


@pytest.mark.parametrize("model", MODELS)
def test_batched_resize_matches_per_sample(corpus, model):
    """A batch dimension of -1 resizes and re-plans; a batch gives the per-sample answers."""
    folder = corpus / model
    io = np.load(folder / "io.npz")
    ref = np.load(folder / "tf_float.litert.npz")
    x = io["input0"][:32]
    ip = tinylite.Interpreter(model_path=str(folder / "tf_float.tflite"))
    d = ip.get_input_details()[0]
    assert d["shape_signature"][0] == -1
    ip.resize_tensor_input(d["index"], x.shape, strict=True)
    ip.allocate_tensors()
    ip.set_tensor(d["index"], x)
    ip.invoke()
    for j, od in enumerate(ip.get_output_details()):
        want = ref[f"output{j}"][:32]
        got = ip.get_tensor(od["index"])
        assert np.abs(got - want).max() <= 1e-4 * np.abs(want).max() + 1e-5
