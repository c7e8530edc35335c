"""Whole-process conversion time and peak memory for the shared corpus models.

Each conversion runs in a fresh subprocess, exactly as a user runs it:

    tflite_convert --keras_model_file=<model> --output_file=<tmp>.tflite
    tflite_convert --saved_model_dir=<model>/saved_model --output_file=<tmp>.tflite

(the installed console script, else `python -m tinylite.tflite_convert`).  Wall
time is measured around the process; peak RSS is the child's own ru_maxrss from
os.wait4.  Prints the best and median of --repeat runs per model and format.

    python benchmarks/convert.py [--corpus ../shared/corpus] [--repeat 5]

Reference (the issue): TensorFlow 2.21's converter takes about 5 s and 650 MiB
for mnist_cnn; the target here is <= 0.25 s and <= 130 MiB for mnist_cnn.h5.
For the SavedModel rows TensorFlow takes 4.9 s and 678 MiB (whole process,
mnist_cnn); the targets are <= 1.6x a Python that only imports the modules the
SavedModel reader needs (printed as "reader floor") and <= 150 MiB.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODELS = ["mnist_cnn", "fashion_cnn", "rnet", "mlp5"]


def command() -> list[str]:
    exe = shutil.which("tflite_convert")
    return [exe] if exe else [sys.executable, "-m", "tinylite.tflite_convert"]


# TensorFlow 2.21's own whole-process figures for the SavedModel rows (from the issue).
TF_SAVED_MODEL = {"mnist_cnn": (4.9, 678)}


def run_once(cmd, model_file, out_file, env=None):
    start = time.perf_counter()
    flag = "--saved_model_dir" if os.path.isdir(model_file) else "--keras_model_file"
    proc = subprocess.Popen(cmd + [f"{flag}={model_file}", f"--output_file={out_file}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"conversion of {model_file} failed: {proc.stderr.read().decode()}")
    peak_kib = usage.ru_maxrss if sys.platform != "darwin" else usage.ru_maxrss // 1024
    return wall, peak_kib / 1024


def _floor(env, cmd, repeat=5) -> float:
    """Best of `repeat` runs of a bare Python doing only `cmd`'s imports."""
    subprocess.run(cmd, check=True, env=env)
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, env=env)
        best = min(best, time.perf_counter() - start)
    return best


def main(argv=None) -> int:
    here = Path(__file__).resolve()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default=os.environ.get("TINYLITE_CORPUS", here.parents[2] / "shared" / "corpus"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--formats", default="h5,keras,saved_model")
    parser.add_argument("--no-bytecode-cache", action="store_true",
                        help="keep PYTHONDONTWRITEBYTECODE as set (every run recompiles tinylite's sources)")
    args = parser.parse_args(argv)
    corpus = Path(args.corpus)
    cmd = command()
    print(f"command: {' '.join(cmd)} --keras_model_file=... --output_file=...   (repeat {args.repeat})")
    env = os.environ.copy()
    cache = tempfile.TemporaryDirectory()
    if not args.no_bytecode_cache:
        # An installed package has its .pyc files; an editable checkout run with
        # PYTHONDONTWRITEBYTECODE=1 would recompile every module on each run.  Cache
        # bytecode outside the source tree (the first, warm-up run writes it).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = cache.name
        print("bytecode cached in a temporary PYTHONPYCACHEPREFIX (as an installed package has it)")
    floor_cmd = [sys.executable, "-c", "import numpy, tinylite.frontends.tf.savedmodel"]
    print("vs floor: best conversion / best `python -c 'import numpy, tinylite.frontends.tf.savedmodel'` "
          "(the modules the SavedModel reader needs), run in turns")
    print(f"{'model':<12} {'file':<11} {'best s':>7} {'median s':>9} {'peak MiB':>9} {'out bytes':>10} {'TF bytes':>10}"
          f"  {'vs floor':>8}  TensorFlow")
    with tempfile.TemporaryDirectory() as tmp:
        for name in MODELS:
            for fmt in args.formats.split(","):
                src = corpus / name / ("saved_model" if fmt == "saved_model" else f"model.{fmt}")
                if not src.exists():
                    continue
                out = Path(tmp) / f"{name}.tflite"
                run_once(cmd, src, out, env)          # warm the OS file cache (and bytecode)
                runs, floors = [], []
                for _ in range(args.repeat):
                    # Conversion and floor take turns, so a busy spell of the machine slows both.
                    runs.append(run_once(cmd, src, out, env))
                    if fmt == "saved_model":
                        floors.append(_floor(env, floor_cmd, repeat=1))
                times = [t for t, _ in runs]
                peak = max(m for _, m in runs)
                tf = corpus / name / ("tf_saved_model.tflite" if fmt == "saved_model" else "tf_float.tflite")
                tf_size = tf.stat().st_size if tf.exists() else 0
                extra = ""
                if fmt == "saved_model":
                    ref = TF_SAVED_MODEL.get(name)
                    extra = f"  {min(times) / min(floors):>7.2f}x" + (f"  {ref[0]} s / {ref[1]} MiB" if ref else "")
                print(f"{name:<12} {fmt:<11} {min(times):>7.3f} {statistics.median(times):>9.3f} {peak:>9.1f} "
                      f"{out.stat().st_size:>10} {tf_size:>10}{extra}")
    print(f"(for scale: `python -c 'import numpy, h5py'` alone takes "
          f"{_floor(env, [sys.executable, '-c', 'import numpy, h5py']):.3f} s here)")
    cache.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
