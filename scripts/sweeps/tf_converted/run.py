"""Differential sweep: tinylite vs LiteRT on files/*.tflite.

Run: PYTHONPATH=<repo> OPENBLAS_NUM_THREADS=1 python run.py [substr ...]
     (one file: ... run.py --one files/x.tflite  -> prints JSON)
Writes results.json and prints a table.
"""
import glob, json, os, subprocess, sys, traceback, zlib
import numpy as np
ROOT = str(__import__("pathlib").Path(__file__).resolve().parents[3])

HERE = os.path.dirname(os.path.abspath(__file__))
FILES = os.path.join(HERE, "files")
MODES = ["float", "dynamic", "float16", "int8", "int8io", "int16x8"]
NIN = 3
REL_TOL = 1e-5


def model_of(path):
    base = os.path.basename(path)[:-len(".tflite")]
    for md in MODES:
        if base.endswith("_" + md):
            return base[:-len(md) - 1], md
    return base, "?"


def gen_inputs(path, details, n=NIN):
    name, mode = model_of(path)
    spec = json.load(open(os.path.join(FILES, name + ".json")))["inputs"]
    rng = np.random.default_rng(zlib.crc32(os.path.basename(path).encode()))
    # match input details to Keras specs by shape, then order
    used = set()
    specs = []
    for d in details:
        sh = tuple(int(s) for s in d["shape"][1:])
        j = next((i for i, s in enumerate(spec) if i not in used and tuple(s[0]) == sh), None)
        if j is None:
            j = next(i for i in range(len(spec)) if i not in used)
        used.add(j)
        specs.append(spec[j])
    sets = []
    for _ in range(n):
        xs = []
        for d, s in zip(details, specs):
            shape, dt = tuple(d["shape"]), np.dtype(d["dtype"])
            if dt == np.float32 or dt == np.float16:
                lo = 0.0 if s[1] == "f01" else -1.0
                xs.append(rng.uniform(lo, 1.0, shape).astype(dt))
            elif s[1] == "tok":
                xs.append(rng.integers(0, s[2], shape).astype(dt))
            elif dt in (np.int8, np.int16, np.uint8):
                ii = np.iinfo(dt)
                xs.append(rng.integers(ii.min, ii.max + 1, shape).astype(dt))
            else:
                xs.append(rng.integers(0, 10, shape).astype(dt))
        sets.append(xs)
    return sets


def _q(d):
    qp = d.get("quantization_parameters", {})
    return (tuple(np.asarray(qp.get("scales", [])).tolist()), tuple(np.asarray(qp.get("zero_points", [])).tolist()),
            int(qp.get("quantized_dimension", 0)), tuple(d.get("quantization", ())))


def det_sig(d):
    return dict(name=d["name"], index=int(d["index"]), shape=list(map(int, d["shape"])),
                shape_signature=list(map(int, d.get("shape_signature", d["shape"]))),
                dtype=np.dtype(d["dtype"]).name, q=_q(d))


def make(lib, path, ref, preserve=False):
    if lib == "litert":
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
        rt = OpResolverType.BUILTIN_REF if ref else OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        it = Interpreter(model_path=path, experimental_op_resolver_type=rt, num_threads=1,
                         experimental_preserve_all_tensors=preserve)
    else:
        import tinylite
        kw = dict(experimental_op_resolver_type=tinylite.OpResolverType.BUILTIN_REF) if ref else {}
        it = tinylite.Interpreter(model_path=path, num_threads=1, experimental_preserve_all_tensors=preserve, **kw)
    for d in it.get_input_details():
        sig = list(d.get("shape_signature", d["shape"]))
        if -1 in sig:
            it.resize_tensor_input(d["index"], [(2 if i == 0 else 5) if v == -1 else int(v) for i, v in enumerate(sig)])
    it.allocate_tensors()
    return it


def run(it, xs):
    for d, x in zip(it.get_input_details(), xs):
        it.set_tensor(d["index"], x)
    it.invoke()
    return [np.array(it.get_tensor(d["index"])) for d in it.get_output_details()]


def cmp_arr(a, b):
    """-> (equal, maxabs, rel, note)"""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False, None, None, f"shape/dtype {a.shape}{a.dtype} vs {b.shape}{b.dtype}"
    if a.dtype.kind in "iub":
        eq = np.array_equal(a, b)
        d = np.abs(a.astype(np.int64) - b.astype(np.int64))
        return eq, float(d.max()) if d.size else 0.0, None, "" if eq else f"{int((d != 0).sum())}/{d.size} elems differ"
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    nan_a, nan_b = np.isnan(a64), np.isnan(b64)
    if (nan_a != nan_b).any():
        return False, float("nan"), float("nan"), f"NaN pattern differs ({int(nan_a.sum())} vs {int(nan_b.sum())})"
    m = ~nan_a
    if not m.any():
        return True, 0.0, 0.0, ""
    d = np.abs(a64[m] - b64[m])
    d[a64[m] == b64[m]] = 0.0  # inf == inf
    mx = float(d.max())
    rng = float(np.nanmax(np.abs(a64[m]))) if m.any() else 0.0
    fin = a64[m][np.isfinite(a64[m])]
    span = float(fin.max() - fin.min()) if fin.size else 0.0
    denom = max(span, rng, 1e-30)
    return mx == 0.0, mx, mx / denom, "" if mx == 0 else f"{int((d != 0).sum())}/{d.size} elems differ"


def has_int_internals(it):
    for t in it.get_tensor_details():
        if np.dtype(t["dtype"]) in (np.int8, np.int16, np.uint8) and t["quantization"][0] != 0:
            return True
    return False


def tensor_info(details, i):
    """A tensor of a LiteRT interpreter's get_tensor_details() (by index) for a report, or None."""
    i = int(i)
    if i < 0:
        return None
    t = details[i]
    q = t["quantization_parameters"]
    return dict(index=i, name=t["name"][:80], dtype=np.dtype(t["dtype"]).name, shape=list(map(int, t["shape"])),
                scale=[float(v) for v in np.asarray(q["scales"]).ravel()[:4]],
                zp=[int(z) for z in np.asarray(q["zero_points"]).ravel()[:4]])


def differing_outputs(a, b):
    """Each op output that LiteRT interpreter `a` and tinylite interpreter `b` (both invoked, both
    keeping every tensor) hold differently, in LiteRT's op order: (report, big) where `big` says the
    difference is past REL_TOL or in integers (None where tinylite could not give the tensor)."""
    details = {t["index"]: t for t in a.get_tensor_details()}
    try:
        tops = {o["index"]: o for o in b._get_ops_details()}
    except Exception:
        tops = {}
    for op in a._get_ops_details():
        for oi in op["outputs"]:
            oi = int(oi)
            if oi < 0:
                continue
            try:
                va = np.array(a.get_tensor(oi))
            except Exception:
                continue
            try:
                vb = np.array(b.get_tensor(oi))
            except Exception as e:
                yield dict(op_index=int(op["index"]), op=op["op_name"], tensor=oi,
                           note="tinylite get_tensor failed: " + repr(e)[:150]), None
                continue
            eq, mx, rel, note = cmp_arr(va, vb)
            if eq:
                continue
            info = dict(op_index=int(op["index"]), op=op["op_name"],
                        tinylite_op=tops.get(op["index"], {}).get("op_name"),
                        inputs=[tensor_info(details, i) for i in op["inputs"]], output=tensor_info(details, oi),
                        maxabs=mx, rel=rel, note=note)
            if va.dtype.kind in "iu":
                d = (va.astype(np.int64) - vb.astype(np.int64)).ravel()
                k = int(np.argmax(np.abs(d)))
                info["example"] = dict(flat_index=k, litert=int(va.ravel()[k]), tinylite=int(vb.ravel()[k]))
            elif mx is not None and mx == mx:
                d = np.abs(va.astype(np.float64) - vb.astype(np.float64)).ravel()
                k = int(np.nanargmax(d))
                info["example"] = dict(flat_index=k, litert=float(va.ravel()[k]), tinylite=float(vb.ravel()[k]))
            yield info, va.dtype.kind in "iu" or rel is None or rel != rel or rel > REL_TOL


def localize(path, ref, xs):
    """First op (in LiteRT op order) whose output differs; both interpreters preserve all tensors."""
    out = {}
    try:
        a = make("litert", path, ref, True)
        b = make("tinylite", path, ref, True)
        run(a, xs); run(b, xs)
    except Exception as e:
        return {"error": repr(e)[:300]}
    first_any, first_big = None, None
    for info, big in differing_outputs(a, b):
        first_any = first_any or info
        if big:
            first_big = info
            break
    out["first_diff"] = first_any
    out["first_big_diff"] = first_big
    return out


def one(path):
    res = {"file": os.path.relpath(path, HERE)}
    # LiteRT determinism / reference
    for ref in (False, True):
        key = "ref" if ref else "default"
        r = res[key] = {}
        try:
            a = make("litert", path, ref)
        except Exception as e:
            r["litert_error"] = repr(e)[:400]
            a = None
        try:
            b = make("tinylite", path, ref)
        except Exception as e:
            r["tinylite_error"] = "init: " + repr(e)[:400]
            b = None
        if a is not None and b is None:
            try:
                run(a, gen_inputs(path, a.get_input_details(), 1)[0])
                r["litert_runs"] = True
            except Exception as e:
                r["litert_error"] = "invoke: " + repr(e)[:300]
        if a is None or b is None:
            if "litert_error" in r and "tinylite_error" in r:
                r["status"] = "both error" + (" (LiteRT at invoke, tinylite at init)" if a is not None else "")
            elif a is None and b is None:
                r["status"] = "both error"
            elif a is None:
                r["status"] = "LiteRT error"
            else:
                r["status"] = "tinylite error"
            continue
        ia, ib = [det_sig(d) for d in a.get_input_details()], [det_sig(d) for d in b.get_input_details()]
        oa, ob = [det_sig(d) for d in a.get_output_details()], [det_sig(d) for d in b.get_output_details()]
        issues = []
        if json.dumps(ia, default=str) != json.dumps(ib, default=str):
            issues.append(f"input_details differ: litert={ia} tinylite={ib}")
        pre_out_differ = json.dumps(oa, default=str) != json.dumps(ob, default=str)
        intint = has_int_internals(a)
        r["int_internals"] = intint
        sets = gen_inputs(path, a.get_input_details())
        worst = dict(rel=0.0, maxabs=0.0)
        bad_input = None
        for k, xs in enumerate(sets):
            try:
                ya = run(a, xs)
            except Exception as e:
                r["litert_error"] = "invoke: " + repr(e)[:300]
                ya = None
            if ya is not None and k == 0:
                # LiteRT re-run determinism
                ya2 = run(a, xs)
                if not all(np.array_equal(p, q, equal_nan=p.dtype.kind == "f") for p, q in zip(ya, ya2)):
                    issues.append("LiteRT non-deterministic across invokes")
            try:
                yb = run(b, xs)
            except Exception as e:
                r["tinylite_error"] = "invoke: " + "".join(traceback.format_exception_only(type(e), e))[-400:]
                yb = None
            if ya is None or yb is None:
                break
            if k == 0 and pre_out_differ:
                oa2, ob2 = [det_sig(d) for d in a.get_output_details()], [det_sig(d) for d in b.get_output_details()]
                if json.dumps(oa2, default=str) != json.dumps(ob2, default=str):
                    issues.append(f"output_details differ: litert={oa2} tinylite={ob2}")
                else:
                    r["note"] = "output shape differs before first invoke only (dynamic output): litert=%s tinylite=%s" % (
                        [o["shape"] for o in oa], [o["shape"] for o in ob])
            for j, (p, q) in enumerate(zip(ya, yb)):
                eq, mx, rel, note = cmp_arr(p, q)
                if eq:
                    continue
                if mx is None:
                    issues.append(f"out{j}: {note}")
                    bad_input = bad_input if bad_input is not None else k
                    continue
                if p.dtype.kind in "iu" or rel != rel:
                    worst["int"] = max(worst.get("int", 0), mx) if mx == mx else float("nan")
                    worst.setdefault("notes", []).append(f"in{k} out{j} {p.dtype}: maxabs={mx} {note}")
                    bad_input = bad_input if bad_input is not None else k
                else:
                    if rel > worst["rel"]:
                        worst.update(rel=rel, maxabs=mx, where=f"in{k} out{j}")
                    if rel > REL_TOL or intint:
                        bad_input = bad_input if bad_input is not None else k
        r["worst"] = worst
        r["issues"] = issues
        if "litert_error" in r and "tinylite_error" not in r:
            r["status"] = "LiteRT error"
        elif "tinylite_error" in r and "litert_error" not in r:
            r["status"] = "tinylite error"
        elif "tinylite_error" in r:
            r["status"] = "both error"
        elif "int" in worst or any("differ" in i or "out" in i for i in issues):
            r["status"] = "MISMATCH int" if "int" in worst else "MISMATCH details"
        elif worst["rel"] > REL_TOL:
            r["status"] = f"MISMATCH float rel={worst['rel']:.2g}"
        elif worst["rel"] > 0:
            r["status"] = f"ulp rel={worst['rel']:.2g}" + (" (int internals)" if intint else "")
        else:
            r["status"] = "ok"
        if "note" in r:
            r["status"] += " [pre-invoke out shape]"
        if issues and "non-deterministic" in " ".join(issues):
            r["status"] += " [LiteRT nondet]"
        if bad_input is not None or (worst["rel"] > 0 and intint):
            k = bad_input if bad_input is not None else 0
            r["localize"] = localize(path, ref, sets[k])
            r["localize"]["input_set"] = k
    return res


def main():
    sel = sys.argv[1:]
    files = sorted(glob.glob(os.path.join(FILES, "*.tflite")))
    if sel:
        files = [f for f in files if any(s in os.path.basename(f) for s in sel)]
    resp = os.path.join(HERE, "results.json")
    results = json.load(open(resp)) if os.path.exists(resp) and sel else {}
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONPATH=ROOT)
    for f in files:
        key = os.path.basename(f)
        try:
            p = subprocess.run([sys.executable, __file__, "--one", f], capture_output=True, text=True, timeout=60, env=env)
            if p.returncode != 0:
                results[key] = {"crash": f"rc={p.returncode} " + p.stderr[-600:]}
            else:
                results[key] = json.loads(p.stdout.strip().splitlines()[-1])
        except subprocess.TimeoutExpired:
            results[key] = {"crash": "timeout 60s"}
        r = results[key]
        if "crash" in r:
            print(f"{key:45s} CRASH {r['crash'][-200:]}", flush=True)
        else:
            print(f"{key:45s} default: {r['default']['status']:35s} ref: {r['ref']['status']}", flush=True)
        json.dump(results, open(resp, "w"), indent=1, default=str)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--one":
        import warnings; warnings.filterwarnings("ignore")
        print(json.dumps(one(sys.argv[2]), default=str))
    else:
        main()
