"""Start-up costs: `import tinylite` (fresh interpreter process) and loading
the largest corpus model (parse + allocate_tensors).

    python benchmarks/load.py [--corpus ../shared/corpus]
"""
import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def import_time(module, runs=7, then=""):
    code = f"import time; t = time.perf_counter(); import {module}; {then or 'pass'}; print(time.perf_counter() - t)"
    times = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
             for _ in range(runs)]
    return sorted(times)[runs // 2]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--corpus", default=os.environ.get("TINYLITE_CORPUS", DEFAULT_CORPUS), type=Path)
    args = ap.parse_args()
    print(f"import numpy:    {import_time('numpy') * 1e3:7.1f} ms (median of 7 fresh processes)")
    print(f"import tinylite: {import_time('tinylite') * 1e3:7.1f} ms (submodules load lazily)")
    print(f"import tinylite + tinylite.Interpreter (numpy, schema bindings): "
          f"{import_time('tinylite', then='tinylite.Interpreter') * 1e3:7.1f} ms")
    import tinylite

    models = sorted(args.corpus.glob("*/tf_*.tflite"), key=lambda p: p.stat().st_size, reverse=True)
    if not models:
        print(f"no corpus models under {args.corpus}")
        return
    tinylite.Interpreter(model_path=str(models[-1]))   # first use loads the schema bindings
    for path in models[:2]:
        content = path.read_bytes()
        loads, allocs = [], []
        for _ in range(20):
            t0 = time.perf_counter()
            ip = tinylite.Interpreter(model_content=content)
            t1 = time.perf_counter()
            ip.allocate_tensors()
            t2 = time.perf_counter()
            loads.append(t1 - t0)
            allocs.append(t2 - t1)
        loads.sort()
        allocs.sort()
        print(f"{path.parent.name}/{path.name} ({len(content) / 1e6:.1f} MB): parse {loads[10] * 1e3:.1f} ms, "
              f"allocate_tensors {allocs[10] * 1e3:.1f} ms (medians of 20)")


if __name__ == "__main__":
    main()
