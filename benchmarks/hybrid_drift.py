"""How far tinylite's outputs are from LiteRT's on the dynamic-range (hybrid)
files of the shared zoo, over seeded random inputs (docs/hybrid_drift.md).

Per file: the largest difference over outputs and seeds, relative to the
largest magnitude of LiteRT's output (op resolver
BUILTIN_WITHOUT_DEFAULT_DELEGATES, or BUILTIN_REF with --reference against
tinylite's BUILTIN_REF), and on how many seeds it is not zero.  --save writes
tinylite's outputs to an .npz, so that runs under different BLAS kernels
(OPENBLAS_CORETYPE=Haswell, =Prescott) can be compared bit for bit with
--compare.

    python benchmarks/hybrid_drift.py [--zoo ../shared/zoo] [--seeds 30] [--reference]
        [--only SUBSTRING ...] [--save out.npz] [--compare a.npz b.npz]
"""
import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_zoo import is_hybrid  # noqa: E402

import tinylite  # noqa: E402
import tinylite.errors  # noqa: E402
from tinylite.testing import random_inputs  # noqa: E402

DEFAULT_ZOO = (Path(os.environ["TINYLITE_CORPUS"]).parent / "zoo" if os.environ.get("TINYLITE_CORPUS")
               else Path(__file__).resolve().parents[2] / "shared" / "zoo")


def run(ip, feeds):
    for d, x in zip(ip.get_input_details(), feeds):
        ip.set_tensor(d["index"], x)
    ip.invoke()
    return [ip.get_tensor(d["index"]) for d in ip.get_output_details()]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zoo", type=Path, default=DEFAULT_ZOO)
    ap.add_argument("--seeds", type=int, default=30)
    ap.add_argument("--reference", action="store_true", help="BUILTIN_REF in both runtimes")
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--save", type=Path)
    ap.add_argument("--compare", nargs=2, type=Path)
    args = ap.parse_args(argv)
    if args.compare:
        a, b = (np.load(p) for p in args.compare)
        if sorted(a.files) != sorted(b.files):
            print("the two runs saved different outputs")
            return 1
        files = sorted({k.split("/")[0] for k in a.files})
        for name in files:
            keys = [k for k in a.files if k.startswith(name + "/")]
            diff = max(float(np.max(np.abs(a[k].astype(np.float64) - b[k]))) / max(float(np.max(np.abs(b[k]))), 1e-30)
                       for k in keys)
            print(f"{name}: {len(keys)} outputs, " + ("bit-identical" if diff == 0 else f"differ by {diff:.3g} relative"))
        return 0
    from ai_edge_litert import interpreter as lite

    kind = lite.OpResolverType.BUILTIN_REF if args.reference else lite.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    mine = tinylite.OpResolverType.BUILTIN_REF if args.reference else tinylite.OpResolverType.BUILTIN
    saved = {}
    for path in sorted(args.zoo.glob("*.tflite")):
        content = path.read_bytes()
        if not is_hybrid(content) or (args.only and not any(s in path.stem for s in args.only)):
            continue
        ip = tinylite.Interpreter(model_content=content, experimental_op_resolver_type=mine)
        try:
            ip.allocate_tensors()
        except tinylite.errors.UnsupportedOpError as e:
            print(f"{path.stem}: not run with this resolver ({e})", flush=True)
            continue
        ref = lite.Interpreter(model_content=content, experimental_op_resolver_type=kind)
        ref.allocate_tensors()
        worst, moved = 0.0, 0
        for seed in range(args.seeds):
            feeds = random_inputs(content, seed=seed)
            got, want = run(ip, feeds), run(ref, feeds)
            err = max(float(np.max(np.abs(g.astype(np.float64) - w))) / max(float(np.max(np.abs(w))), 1e-30)
                      for g, w in zip(got, want))
            worst, moved = max(worst, err), moved + (err > 0)
            for k, g in enumerate(got):
                saved[f"{path.stem}/{seed}/{k}"] = g
        print(f"{path.stem}: max rel err {worst:.3g} over {args.seeds} seeds ({moved} not zero)", flush=True)
    if args.save:
        np.savez(args.save, **saved)
    return 0


if __name__ == "__main__":
    sys.exit(main())
