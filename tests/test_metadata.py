"""`tinylite metadata` (TFLITE_METADATA + packed labels), read back by `inspect` and used by `run`,
all through the real console script; the official tflite-support parser is the oracle."""
import importlib.resources
import io
import json
import os
import struct
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from support import need
from oracle import run_litert, run_tinylite
from test_cli import tinylite

LABELS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
# The demo CNN takes digits / 16 (8x8, one channel).  The PNGs below hold digits * 15, so the
# metadata's normalization (pixel - 0) / 240 restores exactly the model's input, while the
# default pixel / 255 would not.
PIXEL_SCALE, STD = 15, 240.0


@pytest.fixture(scope="module")
def digits_model(tmp_path_factory):
    import tinylite as lite

    path = importlib.resources.files("tinylite") / "data" / "digits_cnn.h5"
    content = lite.TFLiteConverter.from_keras_model_file(str(path)).convert()
    folder = tmp_path_factory.mktemp("digits")
    model = folder / "digits.tflite"
    model.write_bytes(content)
    (folder / "labels.txt").write_text("\n".join(LABELS) + "\n")
    return model


@pytest.fixture(scope="module")
def digits():
    with importlib.resources.files("tinylite").joinpath("data/digits.npz").open("rb") as f:
        data = np.load(f)
        return data["images"][:16], data["labels"][:16]


@pytest.fixture(scope="module")
def with_metadata(digits_model):
    out = digits_model.parent / "digits_meta.tflite"
    r = tinylite("metadata", digits_model, "-o", out, "--name", "digits", "--description", "8x8 digits CNN",
                 "--model-version", "1.2", "--author", "tinylite tests", "--mean", "0", "--std", STD,
                 "--labels", digits_model.parent / "labels.txt")
    assert f"wrote {out}" in r.stdout and "TFLite Metadata: digits v1.2" in r.stdout
    return out


def _metadata_entries(content):
    from tflite.Model import Model

    m = Model.GetRootAs(content, 0)
    return m, {m.Metadata(i).Name().decode(): m.Metadata(i).Buffer() for i in range(m.MetadataLength())}


def test_inspect_reads_it_back(with_metadata):
    info = json.loads(tinylite("inspect", with_metadata, "--json").stdout)
    meta = info["tflite_metadata"]
    assert meta["name"] == "digits" and meta["description"] == "8x8 digits CNN"
    assert meta["version"] == "1.2" and meta["author"] == "tinylite tests"
    assert meta["min_parser_version"] == "1.0.0"
    (sg,) = meta["subgraphs"]
    (inp,) = sg["inputs"]
    assert inp["content"] == "ImageProperties" and inp["color_space"] == "GRAYSCALE"
    assert inp["normalization"] == {"mean": [0.0], "std": [STD]}
    assert inp["stats"] == {"min": [0.0], "max": [255 / STD]}
    (out,) = sg["outputs"]
    assert out["associated_files"] == [{"name": "labels.txt", "description": "Labels for the output classes.",
                                        "type": "TENSOR_AXIS_LABELS"}]
    assert out["labels"] == LABELS
    assert meta["packed_files"] == ["labels.txt"]
    assert [m["name"] for m in info["metadata"]] == ["min_runtime_version", "TFLITE_METADATA"]

    text = tinylite("inspect", with_metadata).stdout
    assert "TFLite Metadata: digits v1.2 (min parser 1.0.0)" in text
    assert "normalize mean=[0.0] std=[240.0]" in text and "10 labels: zero, one, two" in text


def test_file_layout_flatbuffer_and_zip(digits_model, with_metadata):
    content = with_metadata.read_bytes()
    # Still a TFLite FlatBuffer: the model is unchanged apart from one more buffer and metadata entry.
    assert content[4:8] == b"TFL3"
    model, entries = _metadata_entries(content)
    assert set(entries) == {"min_runtime_version", "TFLITE_METADATA"}
    buf = model.Buffers(entries["TFLITE_METADATA"]).DataAsNumpy().tobytes()
    assert buf[4:8] == b"M001"
    assert struct.unpack_from("<I", buf, 0)[0] < len(buf)
    original, _ = _metadata_entries(digits_model.read_bytes())
    assert model.BuffersLength() == original.BuffersLength() + 1
    # ... and a zip whose one member is the labels file, uncompressed (the C++ extractor requires it).
    assert zipfile.is_zipfile(io.BytesIO(content))
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        (info,) = zf.infolist()
        assert info.filename == "labels.txt" and info.compress_type == zipfile.ZIP_STORED
        assert zf.read(info).decode().split() == LABELS
        assert zf.testzip() is None
    # The zip sits after the FlatBuffer: the data before it is the model as tinylite writes it.
    assert content.index(b"PK\x03\x04") > len(digits_model.read_bytes()) - 64


def test_model_still_runs_identically(digits_model, with_metadata, digits):
    images, _ = digits
    x = (images.astype(np.float32) / 16)[..., None]
    before, after = digits_model.read_bytes(), with_metadata.read_bytes()
    want = run_litert(before, [x])[0]
    np.testing.assert_array_equal(run_litert(after, [x])[0], want)
    np.testing.assert_array_equal(run_tinylite(after, [x])[0], run_tinylite(before, [x])[0])
    np.testing.assert_allclose(run_tinylite(after, [x])[0], want, rtol=1e-5, atol=1e-6)


def _tflite_support_path():
    """Where tflite-support's metadata package can be imported from (see the module docstring)."""
    target = os.environ.get("TINYLITE_TFLITE_SUPPORT")
    if target and os.path.isdir(os.path.join(target, "tensorflow_lite_support")):
        return target
    probe = subprocess.run([sys.executable, "-c", "import tensorflow_lite_support.metadata.python.metadata"],
                           capture_output=True)
    return "" if probe.returncode == 0 else None


ORACLE = r"""
import json, sys
from tensorflow_lite_support.metadata.python import metadata as md
from tensorflow_lite_support.metadata import metadata_schema_py_generated as fb
from tensorflow_lite_support.metadata.cc.python import _pywrap_metadata_version

model = open(sys.argv[1], "rb").read()
plain = open(sys.argv[2], "rb").read()
shown = md.MetadataDisplayer.with_model_buffer(model)
buf = shown.get_metadata_buffer()
# The official populator validates the buffer against the model (tensor counts, identifier).
populator = md.MetadataPopulator.with_model_buffer(plain)
populator.load_metadata_buffer(buf)
print(json.dumps({
    "json": json.loads(shown.get_metadata_json()),
    "packed": shown.get_packed_associated_file_list(),
    "labels": shown.get_associated_file_buffer("labels.txt").decode(),
    "min_version": _pywrap_metadata_version.GetMinimumMetadataParserVersion(bytes(buf)),
}))
"""


def test_official_support_library_reads_it(digits_model, with_metadata):
    path = _tflite_support_path()
    need(path is not None,
         "tflite-support (the official metadata parser) is not importable; install it beside the project "
         "without its pinned protobuf<4: pip install --no-deps --target DIR tflite-support==0.4.4 and set "
         "TINYLITE_TFLITE_SUPPORT=DIR")
    env = dict(os.environ)
    if path:
        env["PYTHONPATH"] = path + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-c", ORACLE, str(with_metadata), str(digits_model)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    meta = got["json"]
    assert meta["name"] == "digits" and meta["description"] == "8x8 digits CNN" and meta["version"] == "1.2"
    assert meta["min_parser_version"] == got["min_version"] == "1.0.0"
    (sg,) = meta["subgraph_metadata"]
    (inp,) = sg["input_tensor_metadata"]
    assert inp["content"] == {"content_properties_type": "ImageProperties",
                              "content_properties": {"color_space": "GRAYSCALE"}}
    assert inp["process_units"] == [{"options_type": "NormalizationOptions",
                                     "options": {"mean": [0.0], "std": [STD]}}]
    (out,) = sg["output_tensor_metadata"]
    assert out["associated_files"] == [{"name": "labels.txt", "description": "Labels for the output classes.",
                                        "type": "TENSOR_AXIS_LABELS"}]
    assert got["packed"] == ["labels.txt"]
    assert got["labels"].split() == LABELS


def _png(path, image):
    from PIL import Image

    Image.fromarray(image.astype(np.uint8), mode="L").save(path)


def test_run_png_uses_metadata_normalization_and_labels(tmp_path, digits_model, with_metadata, digits):
    images, labels = digits
    png = tmp_path / "digit.png"
    _png(png, images[3] * PIXEL_SCALE)
    out = tinylite("run", with_metadata, "--input", png, "--top-k", "3", "-o", tmp_path / "out.npz").stdout
    scores = np.load(tmp_path / "out.npz")["output0"]
    x = (images[3:4].astype(np.float32) * PIXEL_SCALE / STD)[..., None]
    np.testing.assert_allclose(scores, run_litert(with_metadata.read_bytes(), [x])[0], rtol=1e-5, atol=1e-6)
    best = int(np.argmax(scores))
    assert best == labels[3]
    assert f"sample 0: {LABELS[best]} {scores[0, best]:.4f}" in out
    # Without metadata the same PNG is read as pixel / 255: a different input, so different scores.
    tinylite("run", digits_model, "--input", png, "-o", tmp_path / "plain.npz")
    plain = np.load(tmp_path / "plain.npz")["output0"]
    np.testing.assert_allclose(plain, run_litert(digits_model.read_bytes(), [x * STD / 255])[0], rtol=1e-5,
                               atol=1e-6)
    assert not np.allclose(plain, scores, rtol=0.05, atol=0)


def test_run_labels_flag_overrides_metadata(tmp_path, with_metadata, digits):
    images, _ = digits
    np.save(tmp_path / "x.npy", (images[:2].astype(np.float32) / 16)[..., None])
    (tmp_path / "other.txt").write_text("\n".join(f"class{i}" for i in range(10)))
    out = tinylite("run", with_metadata, "--input", tmp_path / "x.npy", "--labels", tmp_path / "other.txt",
                   "--top-k", "1").stdout
    assert "sample 0: class" in out and "zero" not in out
    out = tinylite("run", with_metadata, "--input", tmp_path / "x.npy", "--top-k", "1").stdout
    assert "sample 1: " in out and any(f"sample 0: {name} " in out for name in LABELS)


def test_rewrite_replaces_metadata(tmp_path, with_metadata):
    again = tmp_path / "again.tflite"
    r = tinylite("metadata", with_metadata, "-o", again, "--name", "renamed")
    assert "TFLite Metadata: renamed" in r.stdout
    content = again.read_bytes()
    _, entries = _metadata_entries(content)
    assert list(entries) == ["min_runtime_version", "TFLITE_METADATA"]
    meta = json.loads(tinylite("inspect", again, "--json").stdout)["tflite_metadata"]
    assert meta["name"] == "renamed" and "description" not in meta
    assert "normalization" not in meta["subgraphs"][0]["inputs"][0]
    # The old labels are not referenced any more, so they are not packed again.
    assert meta["packed_files"] == [] and not zipfile.is_zipfile(io.BytesIO(content))
    # In place (-o the input file) works too.
    tinylite("metadata", again, "-o", again, "--name", "in place", "--mean", "127.5", "--std", "127.5")
    meta = json.loads(tinylite("inspect", again, "--json").stdout)["tflite_metadata"]
    assert meta["name"] == "in place" and meta["subgraphs"][0]["inputs"][0]["stats"] == {"min": [-1.0],
                                                                                          "max": [1.0]}


def test_feature_input_and_per_channel_values(tmp_path):
    from tinylite.testing import single_op_model

    w = np.eye(3, 4, dtype=np.float32)
    model = tmp_path / "fc.tflite"
    model.write_bytes(single_op_model(
        "FULLY_CONNECTED", [("x", [1, 4]), dict(name="w", data=w), dict(name="b", data=np.zeros(3, np.float32))],
        [("scores", [1, 3])]))
    out = tmp_path / "fc_meta.tflite"
    tinylite("metadata", model, "-o", out, "--mean", "1", "2", "3", "4", "--std", "2", "2", "2", "2")
    inp = json.loads(tinylite("inspect", out, "--json").stdout)["tflite_metadata"]["subgraphs"][0]["inputs"][0]
    assert inp["content"] == "FeatureProperties" and "stats" not in inp
    assert inp["normalization"] == {"mean": [1.0, 2.0, 3.0, 4.0], "std": [2.0, 2.0, 2.0, 2.0]}


def _fails(tmp_path, *args, expect):
    out = tmp_path / "out.tflite"
    r = tinylite("metadata", *args, "-o", out, check=False)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and r.stderr.startswith("tinylite metadata: error: ")
    assert len(r.stderr.strip().splitlines()) == 1 and len(r.stderr) < 400, r.stderr
    assert expect in r.stderr, r.stderr
    assert not out.exists() and not [p for p in os.listdir(tmp_path) if p.startswith(".tmp-") or ".tinylite-tmp-" in p]


def test_bad_input(tmp_path, digits_model):
    labels = digits_model.parent / "labels.txt"
    _fails(tmp_path, digits_model, "--labels", tmp_path / "missing.txt",
           expect="Could not open labels file")
    notamodel = tmp_path / "notamodel.tflite"
    notamodel.write_bytes(b"this is not a flatbuffer at all")
    _fails(tmp_path, notamodel, "--name", "x", expect="not a TFLite model")
    _fails(tmp_path, tmp_path / "nope.tflite", expect="Could not open model")
    _fails(tmp_path, digits_model, "--mean", "1", "2", "--std", "1", "2",
           expect="--mean has 2 values but the input [1, 8, 8, 1] has 1 channel(s)")
    _fails(tmp_path, digits_model, "--mean", "127.5", expect="give both --mean and --std")
    _fails(tmp_path, digits_model, "--mean", "0", "--std", "0", expect="--std must be finite and non-zero")
    short = tmp_path / "short.txt"
    short.write_text("a\nb\n")
    _fails(tmp_path, digits_model, "--labels", short, expect="has 2 labels but the first output [1, 10] has 10")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00bad")
    _fails(tmp_path, digits_model, "--labels", binary, expect="is not UTF-8 text")
    assert labels.exists()


def test_corrupt_metadata_is_reported_not_fatal(tmp_path, digits_model, digits):
    from tinylite.flatbuffer import read_model, write_model
    from tinylite.graph import Metadata

    model = read_model(digits_model)
    model.metadata.append(Metadata("TFLITE_METADATA", model.add_buffer(b"garbage, not M001 metadata")))
    bad = tmp_path / "bad_meta.tflite"
    bad.write_bytes(write_model(model))
    info = json.loads(tinylite("inspect", bad, "--json").stdout)
    assert "expected b'M001'" in info["tflite_metadata"]["error"]
    assert "TFLite Metadata: unreadable" in tinylite("inspect", bad).stdout
    images, _ = digits
    _png(tmp_path / "d.png", images[0] * PIXEL_SCALE)
    r = tinylite("run", bad, "--input", tmp_path / "d.png", "--top-k", "1")
    assert "warning: ignoring the model's metadata" in r.stderr and "sample 0:" in r.stdout


def test_run_bad_image(tmp_path, with_metadata):
    (tmp_path / "broken.png").write_bytes(b"not a png")
    r = tinylite("run", with_metadata, "--input", tmp_path / "broken.png", check=False)
    assert r.returncode == 1 and "could not read image" in r.stderr and "Traceback" not in r.stderr


def test_missing_pillow_is_a_clear_error(tmp_path, with_metadata):
    (tmp_path / "d.png").write_bytes(b"\x89PNG")
    # Pillow is a test dependency, so hide it from the command's process to see the message.
    code = ("import sys; sys.modules['PIL'] = None; from tinylite.cli import main; "
            f"sys.exit(main(['run', {str(with_metadata)!r}, '--input', {str(tmp_path / 'd.png')!r}]))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "reading images needs Pillow: pip install 'tinylite[images]'" in r.stderr


def test_help_shows_example():
    out = tinylite("metadata", "--help").stdout
    assert "example: tinylite metadata model.tflite -o" in out and "--labels" in out and "--mean" in out
