"""Differential sweep: Keras(numpy backend) -> tinylite converter -> tinylite vs LiteRT vs Keras.

Run:   python sweep.py [--modes float,int8] [name-substring ...]
One:   python sweep.py --one MODEL MODE[,MODE...]   (prints JSON lines)
Writes files/<model>_<mode>.tflite and results/<model>__<mode>.json; table.py summarizes.
"""
import json, os, subprocess, sys, time, traceback, warnings
os.environ["KERAS_BACKEND"] = "numpy"
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore")
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
FILES = os.path.join(HERE, "files")
RES = os.path.join(HERE, "results")
os.makedirs(FILES, exist_ok=True); os.makedirs(RES, exist_ok=True)
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1] / "tf_converted"))
MODES = ["float", "dynamic", "float16", "int8", "int8io", "int16x8"]
NIN = 3
INTERP_TOL = 1e-5
FLOAT_TOL = 1e-4


def inputs_for(specs, seed, n):
    import models
    rng = np.random.default_rng(seed)
    return [[models.make_input(s, rng) for s in specs] for _ in range(n)]


def keras_out(m, xs):
    y = m(xs if len(xs) > 1 else xs[0], training=False)
    if not isinstance(y, (list, tuple)):
        y = [y]
    return [np.asarray(t) for t in y]


def mk(lib, b, ref, preserve=False):
    if lib == "litert":
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
        rt = OpResolverType.BUILTIN_REF if ref else OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        return Interpreter(model_content=b, experimental_op_resolver_type=rt, num_threads=1,
                           experimental_preserve_all_tensors=preserve)
    import tinylite
    kw = dict(experimental_op_resolver_type=tinylite.OpResolverType.BUILTIN_REF) if ref else {}
    return tinylite.Interpreter(model_content=b, num_threads=1, experimental_preserve_all_tensors=preserve, **kw)


def prep(it, xs):
    for d, x in zip(it.get_input_details(), xs):
        if list(d["shape"]) != list(x.shape):
            it.resize_tensor_input(d["index"], list(x.shape))
    it.allocate_tensors()
    return it


def qin(d, x):
    dt = np.dtype(d["dtype"])
    if dt == x.dtype:
        return x
    if dt.kind in "iu" and x.dtype.kind == "f":
        s, z = d["quantization"]
        ii = np.iinfo(dt)
        return np.clip(np.round(x / s) + z, ii.min, ii.max).astype(dt)
    return x.astype(dt)


def invoke(it, xs):
    for d, x in zip(it.get_input_details(), xs):
        it.set_tensor(d["index"], qin(d, x))
    it.invoke()
    return [np.array(it.get_tensor(d["index"])) for d in it.get_output_details()]


def deq(it, ys):
    out = []
    for d, y in zip(it.get_output_details(), ys):
        s, z = d["quantization"]
        if y.dtype.kind in "iu" and s != 0:
            out.append((y.astype(np.float64) - z) * s)
        else:
            out.append(y)
    return out


def rel_err(ref, got):
    """max |ref-got| / max(range(ref), max|ref|); ints: fraction of mismatching elements (as 'int')."""
    ref = np.asarray(ref); got = np.asarray(got)
    if ref.shape != got.shape:
        if ref.size == got.size:
            got = got.reshape(ref.shape)
        else:
            return {"shape": f"{ref.shape} vs {got.shape}"}
    if ref.dtype.kind in "iub" and got.dtype.kind in "iub":
        n = int((ref.astype(np.int64) != got.astype(np.int64)).sum())
        return {"int_mismatch": n, "size": int(ref.size)}
    a, b = ref.astype(np.float64), got.astype(np.float64)
    if np.isnan(b).any() and not np.isnan(a).any():
        return {"rel": float("nan"), "nan": int(np.isnan(b).sum())}
    fin = a[np.isfinite(a)]
    denom = max(float(fin.max() - fin.min()) if fin.size else 0.0, float(np.abs(fin).max()) if fin.size else 0.0, 1e-30)
    d = np.abs(a - b); d[a == b] = 0
    mx = float(np.nanmax(d)) if d.size else 0.0
    return {"rel": mx / denom, "maxabs": mx}


def worst(errs):
    """combine list of rel_err dicts -> (rel, intmismatch, other)."""
    rel, im, other = 0.0, 0, []
    for e in errs:
        if "rel" in e:
            r = e["rel"]
            rel = float("nan") if (r != r or rel != rel) else max(rel, r)
        elif "int_mismatch" in e:
            im += e["int_mismatch"]
        else:
            other.append(e)
    return {"rel": rel, "int_mismatch": im, "other": other}


def classify_exc(e):
    tb = traceback.extract_tb(e.__traceback__)
    mod = type(e).__module__
    clear = type(e).__name__ in ("ConverterError", "NotImplementedError", "ValueError") and "tinylite" in mod or \
        type(e).__name__ == "ConverterError"
    where = f"{tb[-1].filename.replace(str(__import__('pathlib').Path(__file__).resolve().parents[3]) + '/', '')}:{tb[-1].lineno}" if tb else "?"
    return {"type": f"{mod}.{type(e).__name__}", "msg": str(e)[:700], "where": where, "clear": bool(clear)}


def one(name, modes):
    import models
    from tinylite import lite
    from tinylite.testing import configure_quantization
    m, specs = models.build(name)
    seed = sum(map(ord, name))
    X = inputs_for(specs, seed + 7, NIN)
    rep = inputs_for(specs, 1234, 8)
    try:
        K = [keras_out(m, xs) for xs in X]
        kerr = None
    except Exception as e:
        K, kerr = None, f"{type(e).__name__}: {str(e)[:200]}"
    for mode in modes:
        t0 = time.time()
        r = {"model": name, "mode": mode}
        if kerr:
            r["keras_error"] = kerr
        c = lite.TFLiteConverter.from_keras_model(m)
        if mode != "float":
            configure_quantization(c, mode, lambda: (list(x) for x in rep))
        try:
            b = c.convert()
        except Exception as e:
            r["conv_error"] = classify_exc(e)
            r["status"] = "CONV_ERROR"
            r["time"] = time.time() - t0
            yield r
            continue
        path = os.path.join(FILES, f"{name}_{mode}.tflite")
        open(path, "wb").write(b)
        r["size"] = len(b)
        for ref in (False, True):
            key = "ref" if ref else "default"
            rr = r[key] = {}
            outs = {}
            for lib in ("tinylite", "litert"):
                try:
                    it = mk(lib, b, ref)
                    prep(it, X[0])
                except Exception as e:
                    rr[lib + "_load_error"] = f"{type(e).__name__}: {str(e)[:400]}"
                    continue
                try:
                    ys = [invoke(it, xs) for xs in X]
                    outs[lib] = (it, ys)
                except Exception as e:
                    rr[lib + "_invoke_error"] = f"{type(e).__name__}: {str(e)[:400]}"
            # tinylite vs LiteRT
            if "tinylite" in outs and "litert" in outs:
                errs = []
                for ya, yb in zip(outs["litert"][1], outs["tinylite"][1]):
                    if len(ya) != len(yb):
                        errs.append({"shape": "n outputs differ"}); continue
                    errs += [rel_err(p, q) for p, q in zip(ya, yb)]
                rr["tl_vs_lr"] = worst(errs)
                # per input set, to choose localization input
                bad = None
                for k, (ya, yb) in enumerate(zip(outs["litert"][1], outs["tinylite"][1])):
                    w = worst([rel_err(p, q) for p, q in zip(ya, yb)])
                    if w["int_mismatch"] or w["other"] or not (w["rel"] <= INTERP_TOL):
                        bad = k; break
                if bad is not None:
                    tmp = os.path.join(FILES, f".loc_{name}_{mode}.tflite")
                    open(tmp, "wb").write(b)
                    try:
                        X2 = [[qin(d, x) for d, x in zip(outs["litert"][0].get_input_details(), X[bad])]]
                        rr["localize"] = _localize(b, ref, X2[0])
                    except Exception as e:
                        rr["localize"] = {"error": repr(e)[:300]}
                    os.remove(tmp)
            # vs Keras
            for lib, (it, ys) in (outs.items() if K is not None else ()):
                errs = []
                for kk, yy in zip(K, ys):
                    yy = deq(it, yy)
                    if len(kk) != len(yy):
                        errs.append({"shape": f"n outputs {len(kk)} vs {len(yy)}"}); continue
                    errs += [rel_err(p, q) for p, q in zip(kk, yy)]
                rr[lib + "_vs_keras"] = worst(errs)
        r["time"] = time.time() - t0
        yield r


def _localize(b, ref, xs):
    """First op (LiteRT execution order) whose output tensor differs between LiteRT and tinylite
    past the sweep's tolerance, with the first smaller difference before it, if any."""
    import run as tfrun
    a = prep(mk("litert", b, ref, True), xs); t = prep(mk("tinylite", b, ref, True), xs)
    for it in (a, t):
        for d, x in zip(it.get_input_details(), xs):
            it.set_tensor(d["index"], x)
        it.invoke()
    first = None
    for info, big in tfrun.differing_outputs(a, t):
        if big is None:
            return info
        first = first or info
        if big:
            if first is not info:
                info["first_tiny_diff"] = {k: first[k] for k in ("op_index", "op", "rel", "maxabs")}
            return info
    return {"first_tiny_diff_only": first}


def main():
    args = sys.argv[1:]
    modes = MODES
    if args and args[0] == "--modes":
        modes = args[1].split(","); args = args[2:]
    import models
    names = [n for n in models.MODELS if not args or any(s in n for s in args)]
    for name in names:
        todo = [md for md in modes]
        while todo:
            done = set()
            try:
                p = subprocess.run([sys.executable, __file__, "--one", name, ",".join(todo)], capture_output=True,
                                   text=True, timeout=120)
                out, err, rc = p.stdout, p.stderr, p.returncode
            except subprocess.TimeoutExpired as e:
                out = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
                err, rc = "TIMEOUT 120s", "timeout"
            for line in out.splitlines():
                if line.startswith("{"):
                    r = json.loads(line)
                    json.dump(r, open(os.path.join(RES, f"{name}__{r['mode']}.json"), "w"), indent=1, default=str)
                    done.add(r["mode"])
                    print(name, r["mode"], summarize(r), flush=True)
            rest = [md for md in todo if md not in done]
            if rest:
                md = rest[0]
                r = {"model": name, "mode": md, "status": "CRASH", "crash": f"rc={rc} " + err[-1500:]}
                json.dump(r, open(os.path.join(RES, f"{name}__{md}.json"), "w"), indent=1)
                print(name, md, "CRASH", err[-300:], flush=True)
                if rc == "timeout":
                    rest = []   # don't retry a slow model
                    for md2 in todo:
                        if md2 not in done and md2 != md:
                            json.dump({"model": name, "mode": md2, "status": "SKIPPED (timeout)"},
                                      open(os.path.join(RES, f"{name}__{md2}.json"), "w"))
                else:
                    rest = rest[1:]
            todo = rest


def summarize(r):
    if "status" in r and r["status"] in ("CONV_ERROR", "CRASH") or r.get("status", "").startswith("SKIP"):
        if "conv_error" in r:
            ce = r["conv_error"]
            return f"CONV_ERROR[{'clear' if ce['clear'] else 'RAW'}] {ce['type']}: {ce['msg'][:150]}"
        return r.get("status")
    parts = []
    for key in ("default", "ref"):
        rr = r[key]
        s = []
        for k in ("tinylite_load_error", "litert_load_error", "tinylite_invoke_error", "litert_invoke_error"):
            if k in rr:
                s.append(k.upper() + ": " + rr[k][:100])
        if "tl_vs_lr" in rr:
            w = rr["tl_vs_lr"]
            if w["int_mismatch"] or w["other"] or not (w["rel"] <= INTERP_TOL):
                s.append(f"TL!=LR(rel={w['rel']:.2g},int={w['int_mismatch']}{',' + str(w['other'])[:60] if w['other'] else ''})")
            for lib in ("tinylite", "litert"):
                kw = rr.get(lib + "_vs_keras")
                if kw:
                    s.append(f"{lib[:2]}~K={kw['rel']:.2g}" + (f"/i{kw['int_mismatch']}" if kw["int_mismatch"] else "")
                             + ("/" + str(kw["other"])[:60] if kw["other"] else ""))
        parts.append(key + ":" + " ".join(s))
    return " | ".join(parts)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--one":
        sys.path.insert(0, HERE)
        for r in one(sys.argv[2], sys.argv[3].split(",")):
            print(json.dumps(r, default=str), flush=True)
    else:
        main()
