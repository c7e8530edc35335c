"""Whole-process conversion time and peak memory for the shared corpus models.

Each conversion runs in a fresh subprocess, exactly as a user runs it:

    tflite_convert --keras_model_file=<model> --output_file=<tmp>.tflite

(the installed console script, else `python -m tinylite.tflite_convert`).  Wall
time is measured around the process; peak RSS is the child's own ru_maxrss from
os.wait4.  Prints the best and median of --repeat runs per model and format.

    python benchmarks/convert.py [--corpus ../shared/corpus] [--repeat 5]

Reference (the issue): TensorFlow 2.21's converter takes about 5 s and 650 MiB
for mnist_cnn; the target here is <= 0.25 s and <= 130 MiB for mnist_cnn.h5.
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


def run_once(cmd, model_file, out_file, env=None):
    start = time.perf_counter()
    proc = subprocess.Popen(cmd + [f"--keras_model_file={model_file}", f"--output_file={out_file}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"conversion of {model_file} failed: {proc.stderr.read().decode()}")
    peak_kib = usage.ru_maxrss if sys.platform != "darwin" else usage.ru_maxrss // 1024
    return wall, peak_kib / 1024


def main(argv=None) -> int:
    here = Path(__file__).resolve()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default=os.environ.get("TINYLITE_CORPUS", here.parents[2] / "shared" / "corpus"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--formats", default="h5,keras")
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
    print(f"{'model':<12} {'file':<6} {'best s':>7} {'median s':>9} {'peak MiB':>9} {'out bytes':>10} {'TF bytes':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in MODELS:
            for fmt in args.formats.split(","):
                src = corpus / name / f"model.{fmt}"
                if not src.exists():
                    continue
                out = Path(tmp) / f"{name}.tflite"
                run_once(cmd, src, out, env)          # warm the OS file cache (and bytecode)
                runs = [run_once(cmd, src, out, env) for _ in range(args.repeat)]
                times = [t for t, _ in runs]
                peak = max(m for _, m in runs)
                tf = corpus / name / "tf_float.tflite"
                tf_size = tf.stat().st_size if tf.exists() else 0
                print(f"{name:<12} {fmt:<6} {min(times):>7.3f} {statistics.median(times):>9.3f} {peak:>9.1f} "
                      f"{out.stat().st_size:>10} {tf_size:>10}")
    base = [sys.executable, "-c", "import numpy, h5py"]
    floor = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run(base, check=True, env=env)
        floor.append(time.perf_counter() - start)
    print(f"(for scale: `python -c 'import numpy, h5py'` alone takes {min(floor):.3f} s here)")
    cache.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
