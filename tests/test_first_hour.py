"""What a new user meets first: hints that work under the command that printed them,
no argparse abbreviations, `tinylite run` on real values for an integer model, a clear
message for a directory given as model_path, `tinylite --version`, help on every flag."""
import os
import re
import shlex
import subprocess
import sys
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

import tinylite

ROOT = Path(__file__).resolve().parents[1]


def run(module, *args, cwd):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", module, *[str(a) for a in args]], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """The bundled digits .h5 and 32 calibration inputs, in a fresh folder."""
    from tinylite.demo import load_digits

    d = tmp_path_factory.mktemp("digits")
    (d / "digits.h5").write_bytes(resources.files("tinylite").joinpath("data/digits_cnn.h5").read_bytes())
    np.save(d / "data.npy", load_digits()[0][:32])
    np.savez(d / "data.npz", x=load_digits()[0][:32])
    return d


@pytest.mark.parametrize("command", [("tinylite.tflite_convert", []), ("tinylite.cli", ["convert"])],
                         ids=["tflite_convert", "tinylite convert"])
def test_quantized_uint8_hint_works_in_the_same_command(digits, command):
    module, prefix = command
    args = [*prefix, "--keras_model_file=digits.h5", "--output_file=u8.tflite", "--inference_type=QUANTIZED_UINT8"]
    r = run(module, *args, cwd=digits)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    hint = re.search(r"uint8 input and output use (.*?) \(data\.npz", r.stderr).group(1)
    fixed = [a for a in args if not a.startswith("--inference_type")] + shlex.split(hint)
    r = run(module, *fixed, cwd=digits)
    assert r.returncode == 0, (hint, r.stderr)
    ip = tinylite.Interpreter(model_path=str(digits / "u8.tflite"))
    assert ip.get_input_details()[0]["dtype"] == np.uint8
    assert ip.get_output_details()[0]["dtype"] == np.uint8


@pytest.mark.parametrize("command", [("tinylite.tflite_convert", []), ("tinylite.cli", ["convert"])],
                         ids=["tflite_convert", "tinylite convert"])
def test_no_abbreviated_flags(digits, command):
    """--quantize=int8 used to be taken by tflite_convert as --quantize_to_float16."""
    module, prefix = command
    r = run(module, *prefix, "--keras_model_file=digits.h5", "--output_file=q.tflite", "--quantize_to",
            cwd=digits)
    assert r.returncode == 2 and "unrecognized arguments: --quantize_to" in r.stderr, r.stderr
    if module == "tinylite.tflite_convert":
        r = run(module, "--keras_model_file=digits.h5", "--output_file=q.tflite", "--quantize=int8", cwd=digits)
        assert r.returncode == 2 and "unrecognized arguments: --quantize=int8" in r.stderr, r.stderr
    assert not (digits / "q.tflite").exists()
    r = run("tinylite.cli", "bench", "x.tflite", "--run", "3", cwd=digits)
    assert r.returncode == 2 and "unrecognized arguments: --run" in r.stderr, r.stderr


def test_run_quantizes_real_values_for_an_integer_input(digits):
    r = run("tinylite.cli", "convert", "digits.h5", "-o", "io8.tflite", "--quantize", "int8", "--io-type", "int8",
            "--calibration", "data.npz", cwd=digits)
    assert r.returncode == 0, r.stderr
    x = np.load(digits / "data.npy")[:4]
    x[0, 0, 0, 0] = 50.0                     # far outside the calibrated range: clipped, and said
    np.save(digits / "x_real.npy", x)
    r = run("tinylite.cli", "run", "io8.tflite", "--input", "x_real.npy", "-o", "out.npz", cwd=digits)
    assert r.returncode == 0, r.stderr
    assert "float32 values quantized to int8" in r.stderr and "1 values outside" in r.stderr, r.stderr
    ip = tinylite.Interpreter(model_path=str(digits / "io8.tflite"))
    d = ip.get_input_details()[0]
    from tinylite.interpreter.tensor_values import quantize

    ip.resize_tensor_input(d["index"], x.shape)
    ip.allocate_tensors()
    ip.set_tensor(d["index"], quantize(x, d))
    ip.invoke()
    want = ip.get_tensor(ip.get_output_details()[0]["index"])
    np.testing.assert_array_equal(np.load(digits / "out.npz")["output0"], want)


def test_directory_as_model_path(tmp_path):
    with pytest.raises(ValueError, match="is a directory, not a .tflite file"):
        tinylite.Interpreter(model_path=str(tmp_path))


def test_version(tmp_path):
    r = run("tinylite.cli", "--version", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.strip() == f"tinylite {tinylite.__version__}"
    import tomllib

    with open(ROOT / "pyproject.toml", "rb") as f:
        assert tomllib.load(f)["project"]["version"] == tinylite.__version__


def test_every_flag_has_help():
    from tinylite.cli import _parser

    parser = _parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    missing = [f"{name} {'/'.join(a.option_strings) or a.dest}" for name, p in sub.choices.items()
               for a in p._actions if not a.help and a.dest != "help"
               and name in ("bench", "run", "inspect", "export-c", "report", "metadata", "demo")]
    assert not missing, missing
