"""Differential sweep: tinylite converter vs TF reference vs LiteRT (run with python).

Usage:
  run.py                 all models under models/, each in its own subprocess -> results.json + table
  run.py --one NAME      one model, prints a JSON line (used by the driver; also handy as a repro)
Env: PYTHONPATH=<repo> OPENBLAS_NUM_THREADS=1 (the driver sets them for children).
"""
import json, os, subprocess, sys, traceback
ROOT = str(__import__("pathlib").Path(__file__).resolve().parents[3])

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "models")
TOL_FLOAT, TOL_DR = 1e-5, 1e-2


def _rel(a, b):
    a = np.asarray(a); b = np.asarray(b)
    if a.shape != b.shape:
        return f"shape {a.shape} vs {b.shape}"
    if a.dtype.kind in "biu" or b.dtype.kind in "biu":
        if a.dtype.kind == "f" or b.dtype.kind == "f":
            pass
        else:
            n = int(np.sum(a.astype(np.int64) != b.astype(np.int64)))
            return 0.0 if n == 0 else f"{n}/{a.size} ints differ"
    a = a.astype(np.float64); b = b.astype(np.float64)
    if a.size == 0:
        return 0.0
    fin = np.isfinite(a) & np.isfinite(b)
    if not np.array_equal(np.isfinite(a), np.isfinite(b)) or not np.array_equal(np.isnan(a), np.isnan(b)):
        return "non-finite pattern differs"
    same_inf = ~fin & (a == b)
    if not np.all(fin | same_inf):
        return "inf differs"
    if not fin.any():
        return 0.0
    rng = max(float(np.ptp(b[fin])), float(np.max(np.abs(b[fin]))), 1e-6)
    return float(np.max(np.abs(a[fin] - b[fin]))) / rng


def _worst(d):
    """d: key -> rel or str. Return (worst numeric, list of problems)."""
    probs, worst = [], 0.0
    for k, v in d.items():
        if isinstance(v, str):
            probs.append(f"{k}: {v}")
        else:
            worst = max(worst, v)
    return worst, probs


def _dtype_of(v):
    return str(np.asarray(v).dtype)


def _err(e):
    tb = traceback.extract_tb(e.__traceback__)
    last = tb[-1] if tb else None
    where = f"{os.path.relpath(last.filename, ROOT) if last else '?'}:{last.lineno if last else '?'}"
    import tinylite.errors as te
    clear = isinstance(e, te.TinyliteError)
    return {"type": type(e).__name__, "msg": str(e)[:600], "where": where, "clear": clear}


def run_litert(b, feed):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    it = Interpreter(model_content=b, experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    r = it.get_signature_runner("serving_default")
    return r(**feed)


def run_tinylite(b, feed):
    import tinylite
    it = tinylite.Interpreter(model_content=b)
    r = it.get_signature_runner("serving_default")
    return r(**feed)


def compare(got, ref):
    out = {}
    for k, v in ref.items():
        if k not in got:
            out[k] = "missing output"
            continue
        g = np.asarray(got[k])
        if g.dtype != np.asarray(v).dtype:
            out[k + "#dtype"] = f"dtype {g.dtype} vs {np.asarray(v).dtype}"
        out[k] = _rel(g, v)
    extra = set(got) - set(ref)
    if extra:
        out["#extra"] = f"extra outputs {sorted(extra)}"
    return out


def one(name):
    from tinylite import lite
    path = os.path.join(MODELS, name)
    z = np.load(path + ".npz")
    feed = {k[3:]: z[k] for k in z.files if k.startswith("in:")}
    ref = {k[4:]: z[k] for k in z.files if k.startswith("out:")}
    res = {"name": name}
    for mode in ("float", "dr"):
        r = res[mode] = {}
        try:
            c = lite.TFLiteConverter.from_saved_model(path)
            if mode == "dr":
                c.optimizations = [lite.Optimize.DEFAULT]
            b = c.convert()
            r["convert"] = "ok"
            r["bytes"] = len(b)
            os.makedirs(os.path.join(HERE, "out"), exist_ok=True)
            open(os.path.join(HERE, "out", f"{name}.{mode}.tflite"), "wb").write(b)
        except Exception as e:
            r["convert"] = "error"
            r["error"] = _err(e)
            continue
        outs = {}
        for who, fn in (("tinylite", run_tinylite), ("litert", run_litert)):
            try:
                outs[who] = {k: np.asarray(v) for k, v in fn(b, dict(feed)).items()}
                r[who] = compare(outs[who], ref)
            except Exception as e:
                r[who] = {"#run_error": _err(e)}
        if "tinylite" in outs and "litert" in outs:
            r["tl_vs_lrt"] = compare(outs["tinylite"], outs["litert"])
    return res


def summarize(res):
    """One row: convert, tinylite vs TF, LiteRT vs TF, tl vs litert, dynamic range."""
    def cell(d, tol):
        if d is None:
            return "-"
        if "#run_error" in d:
            e = d["#run_error"]
            return f"RUN-ERR {e['type']}"
        w, probs = _worst(d)
        if probs:
            return "BAD " + "; ".join(probs)[:120]
        return ("ok" if w <= tol else "BAD") + f" {w:.1e}"
    row = {"name": res["name"]}
    f, d = res.get("float", {}), res.get("dr", {})
    if "crash" in res:
        row.update(convert="CRASH", tl="-", lrt="-", tl_lrt="-", dr="-")
        return row
    if f.get("convert") != "ok":
        e = f["error"]
        row.update(convert=("REFUSE " if e["clear"] else "RAW ") + e["type"], tl="-", lrt="-", tl_lrt="-")
    else:
        row.update(convert="ok", tl=cell(f.get("tinylite"), TOL_FLOAT), lrt=cell(f.get("litert"), TOL_FLOAT),
                   tl_lrt=cell(f.get("tl_vs_lrt"), TOL_FLOAT))
    if d.get("convert") != "ok":
        row["dr"] = "conv-err" if d else "-"
    else:
        a, b = cell(d.get("tinylite"), TOL_DR), cell(d.get("litert"), TOL_DR)
        row["dr"] = f"tl:{a} | lrt:{b}"
    return row


def main():
    names = sorted(n for n in os.listdir(MODELS) if os.path.isdir(os.path.join(MODELS, n)))
    want = [a for a in sys.argv[1:] if not a.startswith("-")]
    if want:
        names = [n for n in names if any(w in n for w in want)]
    os.makedirs(os.path.join(HERE, "out"), exist_ok=True)
    rpath = os.path.join(HERE, "results.json")
    allres = json.load(open(rpath)) if os.path.exists(rpath) else {}
    env = dict(os.environ, PYTHONPATH=ROOT, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    for n in names:
        try:
            p = subprocess.run([sys.executable, __file__, "--one", n], capture_output=True, text=True, env=env,
                               timeout=300)
            line = [l for l in p.stdout.splitlines() if l.startswith("{")]
            if p.returncode != 0 or not line:
                res = {"name": n, "crash": f"rc={p.returncode} {p.stderr[-800:]}"}
            else:
                res = json.loads(line[-1])
        except subprocess.TimeoutExpired:
            res = {"name": n, "crash": "timeout 300s"}
        allres[n] = res
        row = summarize(res)
        print(f"{n:28s} {row['convert']:28s} tl:{row['tl']:22s} lrt:{row['lrt']:22s} tl~lrt:{row['tl_lrt']:14s} dr:{row['dr']}",
              flush=True)
    json.dump(allres, open(rpath, "w"), indent=1, sort_keys=True)


import numpy as np  # noqa: E402

if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--one":
        print(json.dumps(one(sys.argv[2]), default=str))
    else:
        main()
