"""Summary table from results/*.json: model x mode -> ok (max rel err vs Keras) / MISMATCH / CONV(clear|RAW) / LR-LOAD."""
import glob, json, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
MODES = ["float", "dynamic", "float16", "int8", "int8io", "int16x8"]
R = {}
for f in glob.glob(os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "*.json")):
    r = json.load(open(f)); R.setdefault(r["model"], {})[r["mode"]] = r
def cell(r):
    if r is None: return "-"
    if "conv_error" in r:
        ce = r["conv_error"]
        raw = (not ce["clear"]) or "does not run in tinylite" in ce["msg"]
        return "CONV-RAW" if raw else "refused"
    if r.get("status") in ("CRASH",) or "default" not in r: return r.get("status", "?")
    tags, rel = [], 0.0
    for key in ("default", "ref"):
        rr = r[key]
        if any(k.startswith("litert") and "error" in k for k in rr): tags.append(f"LR-{'LOAD' if 'litert_load_error' in rr else 'INVOKE'}({key})")
        if any(k.startswith("tinylite") and "error" in k for k in rr): tags.append(f"TL-ERR({key})")
        w = rr.get("tl_vs_lr")
        if w and (w["int_mismatch"] or w["other"] or not (w["rel"] <= 1e-5)): tags.append(f"TL!=LR({key},{w['rel']:.1e})")
        k = rr.get("tinylite_vs_keras")
        if k and key == "default": rel = k["rel"]
    s = f"{rel:.0e}"
    if r["mode"] == "float" and not (rel <= 1e-4): tags.append("FLOAT>1e-4")
    return s + ("" if not tags else " " + ",".join(tags))
names = sorted(R, key=lambda n: (n.startswith("dynb_B_"), n))
w = max(map(len, names))
print(f"{'model':{w}s} " + " ".join(f"{m:14s}" for m in MODES))
for n in names:
    print(f"{n:{w}s} " + " ".join(f"{cell(R[n].get(m)):14s}" for m in MODES))
