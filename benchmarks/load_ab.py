"""Load + allocate_tensors time of two tinylite trees, measured in pairs.

On a shared machine the load column of benchmarks/zoo.py moves by 2x between
runs minutes apart, so two trees timed one after the other cannot be compared.
Here one worker process per tree loads the same file in turns (A B, B A, ...),
each timing its own CPU time (user + system) of Interpreter(model_content) +
allocate_tensors; the ratio of each pair sees the same moment of the machine.
Prints the medians and the median of the paired ratios (B / A).

    python benchmarks/load_ab.py A_TREE B_TREE [--loads N] [--cold] FILE_SUBSTRING ...

`--cold` empties, before every load, the caches tinylite keeps across
interpreters (requantization constants, the lazily filled tables: 8-bit pair
and unary tables, int16 tables, MEAN's; compiled plan code, ADD/SUB rescale
tables), as a first load of a file in a process finds them.
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path

ZOO = (Path(os.environ["TINYLITE_CORPUS"]).parent / "zoo" if os.environ.get("TINYLITE_CORPUS")
       else Path(__file__).resolve().parents[2] / "shared" / "zoo")


def _clear_caches():
    from tinylite.interpreter import tape
    from tinylite.kernels import _binary, _quantization
    from tinylite.kernels.optimized import _int16_table, _pair_table, _requantize, _unary_table, mean

    for fn in (getattr(tape, "_plan_code", None), getattr(_binary, "_rescale_table", None)):
        if fn is not None:
            fn.cache_clear()
    _requantize._CONSTANTS.clear()
    # The lazily filled tables (kernels/_lazy.py; a tree may predate some of them).
    for cache in (_pair_table._tables, getattr(_int16_table, "_tables", None), getattr(_quantization, "_TABLES", None),
                  getattr(_unary_table, "_BY_BYTE", None), getattr(mean, "_tables", None)):
        if cache is not None:
            cache.clear()


def worker():
    """Read `path cold|warm` lines; load each file and print its CPU milliseconds."""
    import tinylite

    contents, ip = {}, None
    for line in sys.stdin:
        path, mode = line.rsplit(" ", 1)
        if path not in contents:
            contents[path] = Path(path).read_bytes()
            tinylite.Interpreter(model_content=contents[path], num_threads=1).allocate_tensors()
        if mode.strip() == "cold":
            _clear_caches()
        ip = None       # the previous load is freed before timing (dropping an interpreter is not loading one)
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        ip = tinylite.Interpreter(model_content=contents[path], num_threads=1)
        ip.allocate_tensors()
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        print((r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) * 1e3, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("only", nargs="+", help="substrings of zoo file names")
    ap.add_argument("--loads", type=int, default=9)
    ap.add_argument("--cold", action="store_true")
    args = ap.parse_args()
    files = sorted(f for f in ZOO.glob("*.tflite") if any(s in f.name for s in args.only))

    def start(tree):
        env = dict(os.environ, PYTHONPATH=str(Path(tree).resolve()), OPENBLAS_NUM_THREADS="1")
        return subprocess.Popen([sys.executable, __file__, "--worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                text=True, env=env)

    procs = [start(args.a), start(args.b)]
    mode = "cold" if args.cold else "warm"
    print(f"A = {args.a}, B = {args.b}; {args.loads} paired loads each, {mode}; CPU ms (user + system)")
    for f in files:
        times = ([], [])
        for i in range(args.loads):
            for k in ((0, 1) if i % 2 == 0 else (1, 0)):
                procs[k].stdin.write(f"{f} {mode}\n")
                procs[k].stdin.flush()
                times[k].append(float(procs[k].stdout.readline()))
        ratio = statistics.median(b / a for a, b in zip(*times))
        print(f"{f.stem[:46]:46s} A median {statistics.median(times[0]):6.1f}  B median {statistics.median(times[1]):6.1f}"
              f"  B/A {ratio:.2f}")
    for p in procs:
        p.stdin.close()
        p.wait()


if __name__ == "__main__":
    if sys.argv[1:] == ["--worker"]:
        worker()
    else:
        main()
