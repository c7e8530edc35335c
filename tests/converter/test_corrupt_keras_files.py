"""Corrupt Keras files: bit flips, truncations, zip bombs, JSON that is not a model
config, unknown layers.  Every one gives a ConverterError naming the file (and the
layer, where one is at fault) and saying what to do, or converts; the commands
print one line, no traceback, exit 1 and leave no output or temporary file; no read
hangs (HDF5 is read in a child process with a time limit) or inflates a bomb."""
import io
import json
import os
import random
import signal
import struct
import subprocess
import sys
import time
import zipfile
from importlib import resources
from pathlib import Path

import h5py
import numpy as np
import pytest

import tinylite
from tinylite.errors import ConverterError

ROOT = Path(__file__).resolve().parents[2]
DIGITS_H5 = resources.files("tinylite").joinpath("data/digits_cnn.h5").read_bytes()
# 200 flipped bits of the bundled digits .h5 with this seed make the HDF5 library
# loop forever inside the read of the model_config attribute.
HANGING_SEED = 158


def flipped(data: bytes, seed: int, bits: int = 200) -> bytes:
    rng = random.Random(seed)
    b = bytearray(data)
    for _ in range(bits):
        i = rng.randrange(len(b) * 8)
        b[i // 8] ^= 1 << (i % 8)
    return bytes(b)


@pytest.fixture(scope="module")
def keras_file(tmp_path_factory):
    """A small .keras file written by Keras (the converter's oracle) itself."""
    from support import keras_oracle

    keras = keras_oracle()
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4, activation="relu", name="d1"),
                              keras.layers.Dense(3, name="d2")])
    path = tmp_path_factory.mktemp("keras") / "small.keras"
    model.save(path)
    return path.read_bytes()


def with_sizes(members, declared):
    """A zip of `members` (name -> bytes, deflated) whose headers declare other
    uncompressed sizes (name -> size): a bomb without writing gigabytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    data = bytearray(buf.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        infos = {i.filename: i for i in z.infolist()}
    for name, size in declared.items():
        struct.pack_into("<I", data, infos[name].header_offset + 22, size)          # local header
    pos = 0
    while (pos := data.find(b"PK\x01\x02", pos)) >= 0:                             # central directory
        n = struct.unpack_from("<H", data, pos + 28)[0]
        name = bytes(data[pos + 46:pos + 46 + n]).decode()
        if name in declared:
            struct.pack_into("<I", data, pos + 24, declared[name])
        pos += 46
    return bytes(data)


def h5_with_config(config_text) -> bytes:
    """The digits .h5 with its model_config attribute replaced."""
    buf = io.BytesIO(DIGITS_H5)
    with h5py.File(buf, "r+") as f:
        f.attrs["model_config"] = config_text
    return buf.getvalue()


def keras_zip(config, weights=b"") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "3.5.0"}))
        z.writestr("config.json", config if isinstance(config, str) else json.dumps(config))
        z.writestr("model.weights.h5", weights)
    return buf.getvalue()


def digits_config():
    with h5py.File(io.BytesIO(DIGITS_H5), "r") as f:
        return json.loads(f.attrs["model_config"])


def unknown_layer_h5() -> bytes:
    cfg = digits_config()
    layers = cfg["config"]["layers"]
    k = next(i for i, layer in enumerate(layers) if layer["class_name"] == "Dense")
    layers[k]["class_name"] = "FancyDense"
    return h5_with_config(json.dumps(cfg))


def cases(keras_bytes):
    """(label, file name, bytes, what the message must also say)."""
    out = [(f"h5 flip {s}", "m.h5", flipped(DIGITS_H5, s), None) for s in range(10)]
    out.append(("h5 hang", "m.h5", flipped(DIGITS_H5, HANGING_SEED), "did not finish"))
    out += [(f"h5 truncated {n}", "m.h5", DIGITS_H5[:n], None) for n in (0, 8, 600, 4096, len(DIGITS_H5) // 2,
                                                                        len(DIGITS_H5) - 64)]
    out += [(f"keras flip {s}", "m.keras", flipped(keras_bytes, s, 40), None) for s in range(6)]
    out += [(f"keras truncated {n}", "m.keras", keras_bytes[:n], None) for n in (4, 300, len(keras_bytes) // 2,
                                                                               len(keras_bytes) - 30)]
    big = 2 << 30
    out += [
        ("config.json declares 2 GiB", "m.keras",
         with_sizes({"config.json": b"{}", "model.weights.h5": b""}, {"config.json": big}), "config.json"),
        ("weights declare 2 GiB", "m.keras",
         with_sizes({"config.json": json.dumps(digits_config()), "model.weights.h5": b"\0" * 1000},
                    {"model.weights.h5": big}), "zip bomb"),
        ("config.json inflates past its header", "m.keras",
         with_sizes({"config.json": b" " * (8 << 20), "model.weights.h5": b""}, {"config.json": 100}),
         "not a valid .keras archive"),
        ("config.json is a list", "m.keras", keras_zip([1, 2, 3]), "JSON list"),
        ("config.json is a number", "m.keras", keras_zip("42"), "JSON int"),
        ("config.json is not JSON", "m.keras", keras_zip('{"class_name": "Sequential", '), "not valid JSON"),
        ("model_config is a list", "m.h5", h5_with_config("[]"), "JSON list"),
        ("model_config is corrupt", "m.h5", h5_with_config(json.dumps(digits_config())[:300]), "model_config"),
        ("unknown layer", "m.h5", unknown_layer_h5(), "FancyDense"),
    ]
    return out


def test_every_corrupt_file_is_a_clean_error(tmp_path, keras_file):
    outcomes = []
    for label, name, data, extra in cases(keras_file):
        path = tmp_path / label.replace(" ", "_") / name
        path.parent.mkdir()
        path.write_bytes(data)
        start = time.monotonic()
        try:
            content = tinylite.TFLiteConverter.from_keras_model_file(str(path)).convert()
        except ConverterError as e:
            message = str(e)
            assert str(path) in message, f"{label}: the message does not name the file: {message}"
            assert extra is None or extra in message, f"{label}: expected {extra!r} in: {message}"
            assert any(w in message for w in ("save", "Save", "supported", "instead")), \
                f"{label}: the message does not say what to do: {message}"
            outcomes.append("error")
        else:
            assert extra is None, f"{label} converted"
            tinylite.Interpreter(model_content=content).allocate_tensors()
            outcomes.append("converted")
        # Only the hanging file waits for the reader's time limit.
        assert time.monotonic() - start < (30 if label == "h5 hang" else 10), f"{label} took too long"
    assert outcomes.count("error") >= len(outcomes) - 8


def run_cli(args, cwd, timeout=120):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "tinylite.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.parametrize("label", ["h5 hang", "h5 truncated 4096", "model_config is corrupt",
                                   "config.json is a list", "weights declare 2 GiB", "unknown layer"])
def test_command_prints_one_line_and_leaves_nothing(tmp_path, keras_file, label):
    _, name, data, extra = next(c for c in cases(keras_file) if c[0] == label)
    (tmp_path / name).write_bytes(data)
    r = run_cli(["convert", name, "-o", "out.tflite"], tmp_path)
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert r.stderr.startswith("tinylite convert: error: ") and name in r.stderr, r.stderr
    assert "cannot write" not in r.stderr
    assert sorted(os.listdir(tmp_path)) == [name], "output or temporary files left behind"
