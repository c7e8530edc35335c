"""Per-output error vs Keras on the calibration samples themselves (no out-of-range clipping possible)
and on the 3 test inputs.  Usage: calib_err.py MODEL MODE [ref]"""
import os, sys; os.environ["KERAS_BACKEND"] = "numpy"
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sweep, models
name, mode = sys.argv[1], sys.argv[2]; ref = len(sys.argv) > 3
m, specs = models.build(name)
b = open(os.path.join(sweep.FILES, f"{name}_{mode}.tflite"), "rb").read()
for label, X in (("calib", sweep.inputs_for(specs, 1234, 8)), ("test", sweep.inputs_for(specs, sum(map(ord, name)) + 7, 3))):
    it = sweep.prep(sweep.mk("tinylite", b, ref), X[0])
    worst = None
    for xs in X:
        K = sweep.keras_out(m, xs); Y = sweep.deq(it, sweep.invoke(it, xs))
        e = [sweep.rel_err(p, q).get("rel", float("nan")) for p, q in zip(K, Y)]
        worst = e if worst is None else [max(a, c) for a, c in zip(worst, e)]
    print(name, mode, label, "per-output max rel:", [round(v, 4) for v in worst])
