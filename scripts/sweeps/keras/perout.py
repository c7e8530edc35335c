"""Per-output error of one converted file vs Keras: perout.py MODEL MODE [ref]"""
import os, sys; os.environ["KERAS_BACKEND"] = "numpy"
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sweep, models
name, mode = sys.argv[1], sys.argv[2]; ref = len(sys.argv) > 3
m, specs = models.build(name)
X = sweep.inputs_for(specs, sum(map(ord, name)) + 7, sweep.NIN)
b = open(os.path.join(sweep.FILES, f"{name}_{mode}.tflite"), "rb").read()
for lib in ("tinylite", "litert"):
    it = sweep.prep(sweep.mk(lib, b, ref), X[0])
    for k, xs in enumerate(X):
        K = sweep.keras_out(m, xs); Y = sweep.deq(it, sweep.invoke(it, xs))
        print(lib, k, [(tuple(p.shape), {a: round(v, 4) if isinstance(v, float) else v for a, v in sweep.rel_err(p, q).items()}) for p, q in zip(K, Y)])
