"""`tinylite report`: one self-contained HTML page about a model.

Sections: summary, the model graph (SVG), size by op type, latency per op,
accuracy on labelled data (`--data x.npz` with `x`/`y`), and, with
`--compare reference.tflite` (usually the float model), the error of every
tensor the two models share by name.  Plots are drawn with matplotlib and
inlined as SVG, so the page needs nothing else to render.
"""
from __future__ import annotations

import html
import io
import os

import numpy as np

from ..flatbuffer import read_model
from ..interpreter.tensor_values import quantize
from ..flatbuffer.writer import atomic_write
from .inspect import analyze


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ValueError("the HTML report draws its plots with matplotlib: pip install 'tinylite[report]'") from None
    return plt


def _svg(fig, plot_id: str) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    _pyplot().close(fig)
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    return svg.replace("<svg", f'<svg id="{plot_id}" class="plot"', 1)


def graph_svg(info: dict) -> str:
    """The op graph of subgraph 0, one box per op in execution order."""
    plt = _pyplot()
    sg = info["subgraphs"][0]
    ops = sg["operators"]
    producer = {o: op["index"] for op in ops for o in op["outputs"]}
    # Each op sits under its first producer; a producer's second, third... consumer
    # moves one column right per consumer already placed, so branches fan out.
    column: dict[int, int] = {}
    consumers: dict[int, int] = {}
    for op in ops:
        preds = [producer[i] for i in op["inputs"] if i in producer]
        if not preds:
            column[op["index"]] = 0
            continue
        first = preds[0]
        column[op["index"]] = column[first] + consumers.get(first, 0)
        consumers[first] = consumers.get(first, 0) + 1
    height = max(2.0, 0.55 * len(ops) + 1)
    width = 3.2 + 2.4 * max(column.values(), default=0)
    fig, ax = plt.subplots(figsize=(width, height))
    ax.set_axis_off()
    pos = {op["index"]: (column[op["index"]] * 2.4, -i) for i, op in enumerate(ops)}
    for op in ops:
        x, y = pos[op["index"]]
        for i in op["inputs"]:
            if i in producer:
                px, py = pos[producer[i]]
                ax.annotate("", xy=(x, y + 0.22), xytext=(px, py - 0.22),
                            arrowprops=dict(arrowstyle="->", color="#667", lw=1))
        label = op["op"] + (f"\n{op['macs'] / 1e6:.2f} M MACs" if op["macs"] else "")
        ax.text(x, y, label, ha="center", va="center", fontsize=8,
                bbox=dict(boxstyle="round,pad=0.3", fc="#e8f0fe", ec="#3b6fd8"))
    xs = [p[0] for p in pos.values()] or [0]
    ax.set_xlim(min(xs) - 1.3, max(xs) + 1.3)
    ax.set_ylim(-len(ops) + 0.3, 0.7)
    return _svg(fig, "plot-graph")


def size_by_op(info: dict) -> dict[str, int]:
    sg = info["subgraphs"][0]
    tensors = sg["tensors"]
    sizes: dict[str, int] = {}
    seen = set()
    for op in sg["operators"]:
        for i in op["inputs"]:
            if i >= 0 and tensors[i]["bytes"] and i not in seen:
                seen.add(i)
                sizes[op["op"]] = sizes.get(op["op"], 0) + tensors[i]["bytes"]
    return sizes


def _bar(labels, values, xlabel, plot_id, color="#3b6fd8"):
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(labels) + 1.2))
    ax.barh(range(len(labels)), values, color=color)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", alpha=0.3)
    return _svg(fig, plot_id)


def tensor_errors(model_path: str, reference_path: str, x: np.ndarray) -> list[dict]:
    """Per shared tensor name: SQNR (dB) and max abs error of `model` vs `reference`."""
    from ..interpreter import Interpreter

    def values(path):
        ip = Interpreter(model_path=path, experimental_preserve_all_tensors=True)
        d = ip.get_input_details()[0]
        ip.resize_tensor_input(d["index"], x.shape)
        ip.allocate_tensors()
        ip.set_tensor(d["index"], quantize(x, d))
        ip.invoke()
        out = {}
        runner = ip._runner(0)
        produced = {o for op in runner.subgraph.operators for o in op.outputs}
        for t in ip.get_tensor_details():
            if t["index"] not in produced:
                continue
            v = runner.arrays[t["index"]]
            if v is None or np.dtype(t["dtype"]).kind not in "fiu":
                continue
            v = np.asarray(v)
            q = t["quantization_parameters"]
            if v.dtype.kind in "iu" and len(q["scales"]) == 1:
                v = (v.astype(np.float64) - q["zero_points"][0]) * q["scales"][0]
            elif v.dtype.kind in "iu":
                continue
            out[t["name"]] = v.astype(np.float64)
        return out

    ours, ref = values(model_path), values(reference_path)
    rows = []
    for name, r in ref.items():
        v = ours.get(name)
        if v is None or v.shape != r.shape:
            continue
        noise = float(np.mean((v - r) ** 2))
        signal = float(np.mean(r ** 2))
        sqnr = 10 * np.log10(signal / noise) if noise > 0 and signal > 0 else float("inf")
        rows.append({"tensor": name, "sqnr_db": sqnr, "max_abs_error": float(np.max(np.abs(v - r)))})
    return rows


def accuracy(model_path: str, x: np.ndarray, y: np.ndarray) -> float:
    from ..interpreter import Interpreter

    ip = Interpreter(model_path=model_path)
    d = ip.get_input_details()[0]
    correct = 0
    for k in range(len(x)):
        xin = quantize(x[k:k + 1], d)
        if k == 0:
            ip.resize_tensor_input(d["index"], xin.shape)
            ip.allocate_tensors()
        ip.set_tensor(d["index"], xin.astype(d["dtype"]))
        ip.invoke()
        out = ip.get_tensor(ip.get_output_details()[0]["index"])
        correct += int(np.argmax(out.reshape(-1)) == int(y[k]))
    return correct / max(len(x), 1)


def build_report(model_path: str, compare: str | None = None, data: str | None = None,
                 title: str | None = None) -> str:
    from .bench import benchmark

    model = read_model(model_path)
    info = analyze(model)
    sg = info["subgraphs"][0]
    sections = []
    size = os.path.getsize(model_path)
    summary = [("file", os.path.basename(model_path)), ("size", f"{size / 1024:.1f} KiB"),
               ("operators", str(len(sg["operators"]))), ("parameters", f"{sg['parameters']:,}"),
               ("MACs", f"{sg['macs']:,}"),
               ("inputs", ", ".join(f"{sg['tensors'][i]['name']} {sg['tensors'][i]['shape']} "
                                    f"{sg['tensors'][i]['type']}" for i in sg["inputs"])),
               ("outputs", ", ".join(f"{sg['tensors'][i]['name']} {sg['tensors'][i]['shape']} "
                                     f"{sg['tensors'][i]['type']}" for i in sg["outputs"]))]
    bench = benchmark(model_path, runs=20, warmup=3, op_profile=True)
    summary.append(("latency (p50, batch 1)", f"{bench['latency']['p50_ms']:.3f} ms"))
    x = y = None
    if data:
        d = np.load(data)
        x = d["x"].astype(np.float32) if "x" in d.files else d[d.files[0]].astype(np.float32)
        y = d["y"] if "y" in d.files else None
        if y is not None:
            acc = accuracy(model_path, x, y)
            summary.append(("accuracy", f"{acc * 100:.2f}% on {len(y)} samples ({os.path.basename(data)})"))
            if compare:
                summary.append(("reference accuracy", f"{accuracy(compare, x, y) * 100:.2f}% "
                                                      f"({os.path.basename(compare)})"))
    sections.append("<h2>Summary</h2><table id='summary'>" + "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in summary) + "</table>")
    sections.append("<h2>Model graph</h2>" + graph_svg(info))
    sizes = size_by_op(info)
    if sizes:
        ordered = sorted(sizes.items(), key=lambda kv: -kv[1])
        sections.append("<h2>Size by op type</h2>" + _bar([k for k, _ in ordered], [v / 1024 for _, v in ordered],
                                                           "KiB of constants", "plot-size"))
    prof = bench["op_profile"]
    sections.append("<h2>Latency per op</h2>" + _bar([f"#{p['node']} {p['op']}" for p in prof],
                                                     [p["avg_ms"] for p in prof], "ms per invoke", "plot-latency",
                                                     color="#d8833b"))
    if compare:
        sample = x[:8] if x is not None else None
        if sample is None:
            from ..interpreter import Interpreter

            d = Interpreter(model_path=compare).get_input_details()[0]
            sample = np.random.default_rng(0).random([4] + list(d["shape"][1:]), np.float32)
        rows = tensor_errors(model_path, compare, sample)
        if rows:
            finite = [r for r in rows if np.isfinite(r["sqnr_db"])]
            plot = _bar([r["tensor"][-40:] for r in finite], [r["sqnr_db"] for r in finite],
                        f"SQNR vs {os.path.basename(compare)} (dB, higher is better)", "plot-quant-error",
                        color="#4a9a5b") if finite else ""
            table = "<table id='quant-table'><tr><th>tensor</th><th>SQNR dB</th><th>max abs error</th></tr>" + "".join(
                f"<tr><td>{html.escape(r['tensor'])}</td><td>{r['sqnr_db']:.2f}</td>"
                f"<td>{r['max_abs_error']:.4g}</td></tr>" for r in rows) + "</table>"
            sections.append("<h2>Per-tensor error vs reference</h2>" + plot + table)
        else:
            sections.append("<h2>Per-tensor error vs reference</h2><p>The two models share no tensor names.</p>")
    title = title or f"tinylite report: {os.path.basename(model_path)}"
    style = ("body{font-family:system-ui,sans-serif;margin:2em;max-width:1000px}"
             "table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;"
             "font-size:13px}svg.plot{max-width:100%;height:auto;display:block;margin:1em 0}")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{style}</style></head><body><h1>{html.escape(title)}</h1>{''.join(sections)}</body></html>")


def write_report(model_path: str, output: str, compare: str | None = None, data: str | None = None) -> str:
    page = build_report(model_path, compare, data)
    atomic_write(output, page.encode("utf-8"))
    return output
