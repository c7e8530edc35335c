"""The shared corpus's quantized TensorFlow files (dynamic-range, int8, int8 I/O,
16x8) reproduce LiteRT's stored outputs, one sample per invoke as they were made."""
import numpy as np
import pytest

import tinylite

MODELS = ["mnist_cnn", "fashion_cnn", "rnet", "mlp5"]
VARIANTS = ["dynamic", "int8", "int8io", "int16x8"]
# TensorFlow could not convert rnet to 16x8, so the corpus has no such file.
CASES = [(m, v) for m in MODELS for v in VARIANTS if (m, v) != ("rnet", "int16x8")]


def quantize_input(x, detail):
    """The corpus README's rule for int8 inputs: clip(round(x / scale + zero_point))."""
    scale, zero_point = detail["quantization"]
    info = np.iinfo(detail["dtype"])
    return np.clip(np.round(x / scale + zero_point), info.min, info.max).astype(detail["dtype"])


def run_samples(path, inputs):
    ip = tinylite.Interpreter(model_path=str(path))
    ip.allocate_tensors()
    in_details, out_details = ip.get_input_details(), ip.get_output_details()
    by_shape = {tuple(x.shape[1:]): x for x in inputs}
    feeds = [by_shape[tuple(d["shape"][1:])] for d in in_details]
    outs = [[] for _ in out_details]
    for k in range(len(feeds[0])):
        for d, x in zip(in_details, feeds):
            v = x[k:k + 1]
            ip.set_tensor(d["index"], v if d["dtype"] == np.float32 else quantize_input(v, d))
        ip.invoke()
        for j, d in enumerate(out_details):
            outs[j].append(ip.get_tensor(d["index"]))
    return [np.concatenate(o) for o in outs]


@pytest.mark.parametrize("model,variant", CASES)
def test_matches_litert(corpus, model, variant):
    folder = corpus / model
    path = folder / f"tf_{variant}.tflite"
    io = np.load(folder / "io.npz")
    ref = np.load(folder / f"tf_{variant}.litert.npz")
    inputs = [io[k] for k in sorted(io.files) if k.startswith("input")]
    got = run_samples(path, inputs)
    assert len(got) == len([k for k in ref.files if k.startswith("output")])
    for j, g in enumerate(got):
        want = ref[f"output{j}"]
        assert g.shape == want.shape and g.dtype == want.dtype
        if want.dtype.kind == "f":
            err = np.abs(g - want).max()
            assert err <= 1e-3 * np.abs(want).max(), f"output {j}: max abs error {err}"
        else:
            lsb = np.abs(g.astype(np.int64) - want.astype(np.int64))
            # Bit-exact, as the README claims (integer kernels follow LiteRT's arithmetic).
            assert lsb.max() == 0, f"output {j}: {np.count_nonzero(lsb)} values off by up to {lsb.max()} LSB"
