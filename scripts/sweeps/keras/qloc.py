"""Localize a quantized file's error vs the float file (both from files/): per op, in execution order,
the dequantized output vs the float file's tensor of the same name, run in tinylite (or LiteRT with --litert).
Usage: qloc.py MODEL MODE [--litert] [--ref]"""
import os, sys; os.environ["KERAS_BACKEND"] = "numpy"
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np, sweep, models
name, mode = sys.argv[1], sys.argv[2]
lib = "litert" if "--litert" in sys.argv else "tinylite"; ref = "--ref" in sys.argv
m, specs = models.build(name)
X = sweep.inputs_for(specs, sum(map(ord, name)) + 7, sweep.NIN)
fb = open(os.path.join(sweep.FILES, f"{name}_float.tflite"), "rb").read()
qb = open(os.path.join(sweep.FILES, f"{name}_{mode}.tflite"), "rb").read()
def run(b, xs):
    it = sweep.prep(sweep.mk(lib, b, ref, True), xs)
    for d, x in zip(it.get_input_details(), xs):
        it.set_tensor(d["index"], sweep.qin(d, x))
    it.invoke(); return it
k = int(os.environ.get("INPUT", "0"))
f, q = run(fb, X[k]), run(qb, X[k])
fn = {d["name"]: d["index"] for d in f.get_tensor_details()}
qd = {d["index"]: d for d in q.get_tensor_details()}
for op in q._get_ops_details():
    for o in op["outputs"]:
        d = qd[int(o)]
        v = np.array(q.get_tensor(int(o))).astype(np.float64)
        s, z = d["quantization"]
        if s: v = (v - z) * s
        j = fn.get(d["name"])
        if j is None:
            print(f"{op['index']:3d} {op['op_name']:22s} {d['name'][:45]:45s} {np.dtype(d['dtype']).name:7s} (no float twin)"); continue
        r = np.array(f.get_tensor(j)).astype(np.float64)
        e = sweep.rel_err(r, v)
        print(f"{op['index']:3d} {op['op_name']:22s} {d['name'][:45]:45s} {np.dtype(d['dtype']).name:7s} s={s:.3g} z={z} "
              f"frange=[{r.min():.3g},{r.max():.3g}] qrange=[{v.min():.3g},{v.max():.3g}] err={e}")
