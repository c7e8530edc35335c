"""Summarize conversion.json + results.json as a models x modes table (table.md)."""
import json, os
HERE = os.path.dirname(os.path.abspath(__file__))
conv = json.load(open(os.path.join(HERE, "conversion.json")))
res = json.load(open(os.path.join(HERE, "results.json")))
MODES = ["float", "dynamic", "float16", "int8", "int8io", "int16x8"]

def code(r):
    s = r["status"]
    if s.startswith("ok"): c = "ok"
    elif s.startswith("ulp"): c = "ulp%.0e" % r["worst"]["rel"]
    elif s.startswith("MISMATCH int"): c = "MM-int(%g)" % r["worst"].get("int", 0)
    elif s.startswith("MISMATCH float"): c = "MM-f(%.1e)" % r["worst"]["rel"]
    elif s.startswith("MISMATCH details"): c = "MM-details"
    elif s.startswith("tinylite error"): c = "tlERR"
    elif s.startswith("LiteRT error"): c = "lrtERR"
    elif s.startswith("both error"): c = "bothERR"
    else: c = s
    if "pre-invoke" in s: c += "*"
    if "nondet" in s: c += "!nd"
    return c

lines = ["| model | " + " | ".join(MODES) + " |", "|---|" + "---|" * len(MODES)]
for m in conv:
    row = []
    for md in MODES:
        st = conv[m].get(md, "?")
        f = f"{m}_{md}.tflite"
        if st != "ok":
            row.append("convFAIL" if "crash" not in st else "convCRASH")
        elif f not in res:
            row.append("?")
        elif "crash" in res[f]:
            row.append("RUNCRASH")
        else:
            d, r = code(res[f]["default"]), code(res[f]["ref"])
            row.append(d if d == r else f"{d} / R:{r}")
    lines.append(f"| {m} | " + " | ".join(row) + " |")
open(os.path.join(HERE, "table.md"), "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
