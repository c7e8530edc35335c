"""Markdown table from results.json: model | convert | tinylite vs TF | LiteRT vs TF | tinylite vs LiteRT | dynamic range."""
import json, os, sys
sys.argv = sys.argv[:1]
HERE = os.path.dirname(os.path.abspath(__file__))
import importlib.util
spec = importlib.util.spec_from_file_location("run", os.path.join(HERE, "run.py")); run = importlib.util.module_from_spec(spec); spec.loader.exec_module(run)
r = json.load(open(os.path.join(HERE, "results.json")))
print("| model | convert | tinylite vs TF | LiteRT vs TF (our file) | tinylite vs LiteRT | dynamic-range (tl / LiteRT vs TF) |")
print("|---|---|---|---|---|---|")
for n in sorted(r):
    row = run.summarize(r[n])
    cut = lambda s: s if len(s) < 70 else s[:67] + "..."
    print(f"| {n} | {row['convert']} | {cut(row['tl'])} | {cut(row['lrt'])} | {cut(row['tl_lrt'])} | {cut(row['dr'])} |")
