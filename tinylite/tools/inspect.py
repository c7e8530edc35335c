"""`tinylite inspect`: what is inside a .tflite file (like TFLite's analyzer).

>>> from tinylite.testing import single_op_model
>>> info = analyze(read_model(single_op_model("ADD", [("x", [1, 3]), ("y", [1, 3])], [("z", [1, 3])])))
>>> info["subgraphs"][0]["operators"][0]["op"]
'ADD'
"""
from __future__ import annotations

import numpy as np

from ..flatbuffer import read_model
from ..flatbuffer.reader import parse
from ..flatbuffer.schema import ACTIVATION_NAMES, PADDING_NAMES, TENSOR_TYPE_NAMES
from ..graph import Model

_ENUM_OPTIONS = {"fused_activation_function": ACTIVATION_NAMES, "padding": PADDING_NAMES}


def _quant_summary(q) -> dict | None:
    if q is not None and q.details_type in (2, 3) and isinstance(q.details, dict):
        d = q.details
        out = {"blockwise" if q.details_type == 2 else "multi_axis": int(d.get("block_size", 0)),
               "scales_tensor": int(d.get("scales", -1)), "zero_points_tensor": int(d.get("zero_points", -1))}
        if "quantized_dimensions" in d:
            out["axes"] = [int(a) for a in d["quantized_dimensions"]]
        return out
    if q is not None and q.details_type == 1:
        return {"custom_quantization_bytes": 0 if q.details is None else len(q.details)}
    if q is None or not q.is_quantized:
        return None
    scale = np.asarray(q.scale, np.float64)
    zp = np.asarray(q.zero_point if q.zero_point is not None else [0], np.int64)
    if len(scale) == 1:
        return {"scale": float(scale[0]), "zero_point": int(zp[0])}
    return {"per_channel": len(scale), "axis": q.quantized_dimension, "scale_min": float(scale.min()),
            "scale_max": float(scale.max()), "zero_points": sorted({int(z) for z in zp})[:4]}


def _sparsity_summary(sp) -> dict | None:
    """Traversal order, block map and each dimension's format (dense size or CSR sizes)."""
    if sp is None:
        return None
    dims = []
    for d in sp.get("dim_metadata", []):
        if d.get("format", 0) == 0:
            dims.append(f"dense({d.get('dense_size', 0)})")
        else:
            seg, idx = d.get("array_segments"), d.get("array_indices")
            dims.append(f"csr({0 if seg is None else len(seg[1])} segments, {0 if idx is None else len(idx[1])} indices)")
    tr, bm = sp.get("traversal_order"), sp.get("block_map")
    return {"traversal_order": [] if tr is None else [int(v) for v in tr],
            "block_map": [] if bm is None else [int(v) for v in bm], "dim_metadata": dims}


def _options(op) -> dict:
    opts = op.builtin_options if op.builtin_options is not None else (op.builtin_options_2 or {})
    out = {}
    for k, v in opts.items():
        if k in _ENUM_OPTIONS:
            v = _ENUM_OPTIONS[k].get(v, v)
        elif isinstance(v, np.ndarray):
            v = v.tolist()
        elif isinstance(v, bytes):
            v = v.decode("utf-8", "replace")
        out[k] = v
    return out


def macs(model: Model, sg, op, shapes) -> int:
    """Multiply-accumulates of one op (0 for ops that do no such arithmetic)."""
    name = model.op_name(op)

    def shape(i):
        return shapes[i] if i >= 0 else None

    try:
        if name in ("CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV", "CONV_3D"):
            w = shape(op.inputs[1])
            out = shape(op.outputs[0])
            if name == "TRANSPOSE_CONV":
                x = shape(op.inputs[2])
                return int(np.prod(x)) * int(np.prod(w[:-1]))
            per_output = int(np.prod(w[1:-1])) * (w[-1] if name == "CONV_2D" else 1)
            return int(np.prod(out)) * per_output
        if name == "FULLY_CONNECTED":
            units, depth = shape(op.inputs[1])
            return int(np.prod(shape(op.inputs[0]))) // max(depth, 1) * units * depth
        if name == "BATCH_MATMUL":
            out = shape(op.outputs[0])
            x = shape(op.inputs[0])
            adj_x = (op.builtin_options or {}).get("adj_x", False)
            k = x[-2] if adj_x else x[-1]
            return int(np.prod(out)) * int(k)
    except (TypeError, ValueError, IndexError):
        return 0
    return 0


def analyze(model: Model, shapes_by_subgraph=None, content: bytes | None = None) -> dict:
    """A JSON-ready description of the model (`content`, the file's bytes, adds its packed files)."""
    info = {"version": model.version, "description": model.description, "subgraphs": [],
            "signature_defs": [], "metadata": [], "buffers": len(model.buffers)}
    for si, sg in enumerate(model.subgraphs):
        shapes = (shapes_by_subgraph or {}).get(si) or [tuple(int(d) for d in t.shape) for t in sg.tensors]
        tensors = []
        params = 0
        for ti, t in enumerate(sg.tensors):
            nbytes = 0
            if 0 < t.buffer < len(model.buffers) and model.buffers[t.buffer].data is not None:
                nbytes = int(model.buffers[t.buffer].data.size)
                params += int(np.prod(t.shape)) if len(t.shape) else 1
            tensors.append({
                "index": ti, "name": t.name, "shape": list(shapes[ti]),
                "shape_signature": None if t.shape_signature is None else t.shape_signature.tolist(),
                "type": TENSOR_TYPE_NAMES.get(t.type, str(t.type)), "buffer": t.buffer, "bytes": nbytes,
                "quantization": _quant_summary(t.quantization), "is_variable": t.is_variable,
                "sparse": t.sparsity is not None, "sparsity": _sparsity_summary(t.sparsity),
            })
        ops = []
        for oi, op in enumerate(sg.operators):
            ops.append({
                "index": oi, "op": model.op_name(op), "version": model.operator_codes[op.opcode_index].version,
                "inputs": list(op.inputs), "outputs": list(op.outputs), "options": _options(op),
                "macs": macs(model, sg, op, shapes),
            })
        info["subgraphs"].append({
            "index": si, "name": sg.name, "inputs": list(sg.inputs), "outputs": list(sg.outputs),
            "operators": ops, "tensors": tensors, "parameters": params,
            "macs": sum(o["macs"] for o in ops),
            "constant_bytes": sum(t["bytes"] for t in tensors),
        })
    for sd in model.signature_defs:
        info["signature_defs"].append({
            "key": sd.signature_key, "subgraph": sd.subgraph_index,
            "inputs": {tm.name: tm.tensor_index for tm in sd.inputs},
            "outputs": {tm.name: tm.tensor_index for tm in sd.outputs},
        })
    for md in model.metadata:
        data = model.buffers[md.buffer].data if 0 <= md.buffer < len(model.buffers) else None
        entry = {"name": md.name, "buffer": md.buffer, "bytes": 0 if data is None else int(data.size)}
        if md.name == "min_runtime_version" and data is not None:
            entry["value"] = data.tobytes().split(b"\0")[0].decode("ascii", "replace")
        info["metadata"].append(entry)
    info["tflite_metadata"] = _tflite_metadata(model, content)
    return info


def _tflite_metadata(model: Model, content: bytes | None) -> dict | None:
    from ..errors import InvalidModelError
    from .metadata import read_metadata

    try:
        return read_metadata(content, model=model)
    except InvalidModelError as e:
        # A broken metadata buffer is worth showing, not a reason to hide the rest of the model.
        return {"error": str(e)}


def _fmt_shape(shape):
    return "[" + ",".join(str(d) for d in shape) + "]"


def render(info: dict, path: str = "") -> str:
    """Human-readable report."""
    lines = [f"Model {path} (schema version {info['version']}, {info['buffers']} buffers)"]
    for sg in info["subgraphs"]:
        tensors = sg["tensors"]
        lines.append(f"\nSubgraph {sg['index']}{' ' + sg['name'] if sg['name'] else ''}: "
                     f"{len(sg['operators'])} ops, {len(tensors)} tensors, {sg['parameters']:,} parameters "
                     f"({sg['constant_bytes'] / 1024:.1f} KiB of constants), {sg['macs']:,} MACs")
        for kind in ("inputs", "outputs"):
            items = ", ".join(f"T#{i} {tensors[i]['name']} {_fmt_shape(tensors[i]['shape'])} {tensors[i]['type']}"
                              for i in sg[kind])
            lines.append(f"  {kind}: {items}")
        lines.append("  ops:")
        for op in sg["operators"]:
            ins = ", ".join("-" if i < 0 else f"T#{i}" for i in op["inputs"])
            outs = ", ".join(f"T#{i}" for i in op["outputs"])
            opts = " ".join(f"{k}={v}" for k, v in op["options"].items() if v not in (None, 0, False, "NONE"))
            mac = f"  {op['macs']:,} MACs" if op["macs"] else ""
            lines.append(f"    #{op['index']:<3} {op['op']} v{op['version']}({ins}) -> {outs}  {opts}{mac}".rstrip())
        lines.append("  tensors:")
        for t in tensors:
            q = t["quantization"]
            qs = ""
            if q and "scale" in q:
                qs = f" q(scale={q['scale']:.6g}, zp={q['zero_point']})"
            elif q and ("blockwise" in q or "multi_axis" in q):
                kind = "blockwise" if "blockwise" in q else "multi-axis"
                zp = "" if q["zero_points_tensor"] < 0 else f", zero points T#{q['zero_points_tensor']}"
                axes = f", axes {q['axes']}" if "axes" in q else ""
                qs = f" q({kind}, block {q.get('blockwise', q.get('multi_axis'))}, scales T#{q['scales_tensor']}{zp}{axes})"
            elif q and "custom_quantization_bytes" in q:
                qs = f" q(custom, {q['custom_quantization_bytes']} bytes)"
            elif q:
                qs = f" q(per-channel x{q['per_channel']} axis {q['axis']}, scale {q['scale_min']:.3g}..{q['scale_max']:.3g})"
            sp = t.get("sparsity")
            if sp:
                qs += (f" sparse(traversal {sp['traversal_order']}, block map {sp['block_map']}, "
                       f"dims {' '.join(sp['dim_metadata'])})")
            size = f" {t['bytes']:,} B" if t["bytes"] else ""
            lines.append(f"    T#{t['index']:<3} {t['name'][:60]} {_fmt_shape(t['shape'])} {t['type']}{qs}{size}")
    for sd in info["signature_defs"]:
        lines.append(f"\nSignature '{sd['key']}' (subgraph {sd['subgraph']}): inputs {sd['inputs']}, "
                     f"outputs {sd['outputs']}")
    if info["metadata"]:
        lines.append("\nMetadata:")
        for m in info["metadata"]:
            value = f" = {m['value']!r}" if "value" in m else ""
            lines.append(f"  {m['name']}: {m['bytes']} bytes{value}")
    meta = info.get("tflite_metadata")
    if meta is not None:
        from .metadata import render as render_metadata

        text = f"TFLite Metadata: unreadable ({meta['error']})" if "error" in meta else render_metadata(meta)
        lines.append("\n" + text)
    return "\n".join(lines)


def inspect_file(path: str) -> dict:
    try:
        with open(path, "rb") as f:
            content = f.read()
    except OSError as e:
        raise ValueError(f"Could not open '{path}': {e.strerror}. Check the path to the .tflite file.") from None
    return analyze(parse(content, origin=path), content=content)
