"""Reading a SavedModel directory or a frozen GraphDef file into a `TFGraph`: the
graph, its function library, the signature's inputs and outputs, and the restored
variable values — everything the lowering needs, with no TensorFlow."""
from __future__ import annotations

import os

import numpy as np

from ...errors import ConverterError
from . import wire
from .bundle import Checkpoint


class Signature:
    """One SignatureDef: input keys -> graph tensor names, output keys -> graph tensor names."""

    def __init__(self, key, inputs, outputs):
        self.key = key
        self.inputs = inputs            # [(key, tensor name, dtype enum, shape or None)] sorted by key
        self.outputs = outputs          # [(key, tensor name)] sorted by key


class TFGraph:
    """A GraphDef with its functions, and where each resource (variable) handle's value comes from."""

    def __init__(self, graph: dict, origin: str):
        self.origin = origin
        self.nodes = {n["name"]: n for n in graph.get("node", [])}
        self.functions = _Functions(graph.get("library", {}).get("function", []), origin)
        self.variables: dict = {}          # VarHandleOp node name / shared_name -> ndarray
        self.bound_inputs: dict = {}       # function name -> [ndarray] for its captured trailing args


class _Functions:
    """The function library by name, each FunctionDef decoded when first asked for."""

    def __init__(self, views, origin):
        self._raw = {}
        for v in views:
            name = wire.decode(v, wire.FUNCTION_NAME).get("signature", {}).get("name")
            if name:
                self._raw[name] = v
        self._done: dict = {}
        self.origin = origin

    def get(self, name, default=None):
        f = self._done.get(name)
        if f is None:
            raw = self._raw.get(name)
            if raw is None:
                return default
            try:
                f = self._done[name] = wire.decode(raw, wire.FUNCTION)
            except wire.WireError as e:
                raise ConverterError(f"{self.origin}: function {name!r} is corrupt ({e}); the file is damaged, "
                                     "save the model again.") from None
        return f

    def __contains__(self, name):
        return name in self._raw

    def __len__(self):
        return len(self._raw)


def _read(path, what):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise ConverterError(f"{path} does not exist ({what})") from None
    except IsADirectoryError:
        raise ConverterError(f"{path} is a directory, expected {what}") from None


def proto_shape(proto):
    """A decoded TensorShapeProto as a tuple (None for unknown dimensions), or None for an unknown
    rank.  An empty proto is a scalar's shape (rank 0); only a missing one or unknown_rank is unknown."""
    if proto is None or proto.get("unknown_rank"):
        return None
    return tuple(None if d.get("size", 0) < 0 else int(d.get("size", 0)) for d in proto.get("dim", []))


def load_saved_model(saved_model_dir, signature_keys=None, tags=None):
    """(TFGraph, [Signature]) of a SavedModel directory."""
    saved_model_dir = os.fspath(saved_model_dir)
    if not os.path.isdir(saved_model_dir):
        raise ConverterError(f"{saved_model_dir!r} is not a directory; expected a SavedModel directory holding "
                             "saved_model.pb and variables/ (tf.saved_model.save or Keras model.export).")
    pb = os.path.join(saved_model_dir, "saved_model.pb")
    if not os.path.exists(pb):
        extra = " (saved_model.pbtxt, the text format, is not supported)" if \
            os.path.exists(os.path.join(saved_model_dir, "saved_model.pbtxt")) else ""
        raise ConverterError(f"{saved_model_dir!r} has no saved_model.pb{extra}; expected a SavedModel directory "
                             "(tf.saved_model.save or Keras model.export).")
    data = _read(pb, "a SavedModel")
    try:
        sm = wire.decode(memoryview(data), wire.SAVED_MODEL)
    except wire.WireError as e:
        raise ConverterError(f"{pb} is not a valid SavedModel protobuf ({e}); the file is truncated or "
                             "corrupt. Save the model again.") from None
    metas = sm.get("meta_graphs") or []
    if not metas:
        raise ConverterError(f"{pb} holds no MetaGraphDef (an empty or truncated SavedModel).")
    want = set(tags or ["serve"])
    meta = next((m for m in metas if set(m.get("meta_info_def", {}).get("tags", [])) == want), None)
    if meta is None:
        have = [sorted(m.get("meta_info_def", {}).get("tags", [])) for m in metas]
        raise ConverterError(f"{saved_model_dir!r} has no MetaGraphDef with tags {sorted(want)}; it has {have}. "
                             "Pass tags= (--saved_model_tag_set) with one of these.")
    if "graph_def" not in meta:
        raise ConverterError(f"{pb}: the MetaGraphDef has no graph (truncated file?)")
    g = TFGraph(meta["graph_def"], saved_model_dir)
    sigs = meta.get("signature_def", {})
    usable = sorted(k for k, s in sigs.items() if not k.startswith("__") and s.get("outputs"))
    if signature_keys is None or len(signature_keys) == 0:
        keys = ["serving_default"] if "serving_default" in usable else usable
    else:
        keys = list(signature_keys)
    if not keys:
        raise ConverterError(f"{saved_model_dir!r} has no signatures to convert; save the model with a "
                             "serving signature (tf.saved_model.save(obj, dir, signatures=...) or model.export).")
    if len(set(keys)) != len(keys):
        raise ConverterError(f"signature_keys {keys} has duplicates")
    signatures = []
    for k in keys:
        if k not in sigs or k.startswith("__"):
            raise ConverterError(f"signature key {k!r} is not in the SavedModel {saved_model_dir!r}; its "
                                 f"signatures are {usable}.")
        s = sigs[k]
        ins = [(name, info.get("name", ""), info.get("dtype", 1), proto_shape(info.get("tensor_shape")))
               for name, info in sorted(s.get("inputs", {}).items())]
        outs = [(name, info.get("name", ""), info.get("dtype", 1)) for name, info in sorted(s.get("outputs", {}).items())]
        signatures.append(Signature(k, ins, outs))
    _restore(g, meta, saved_model_dir)
    return g, signatures


def _restore(g: TFGraph, meta: dict, saved_model_dir: str):
    """Variable values for the graph's resource handles, from variables/."""
    has_vars = any(n.get("op") in ("VarHandleOp", "VariableV2") for n in g.nodes.values())
    if not has_vars:
        return
    ckpt = Checkpoint(os.path.join(saved_model_dir, "variables", "variables"))
    objects = meta.get("object_graph_def", {})
    if objects.get("nodes") and "_CHECKPOINTABLE_OBJECT_GRAPH" in ckpt:
        # TF2: the saved object graph's variables -> checkpoint keys, matched by their path
        # from the root in the checkpoint's own object graph.
        tracked = wire.decode(ckpt.get("_CHECKPOINTABLE_OBJECT_GRAPH").item(), wire.TRACKABLE_GRAPH)["nodes"]
        saved = objects["nodes"]
        match = {0: 0}
        stack = [0]
        while stack:
            s = stack.pop()
            t = match[s]
            tchildren = {c.get("local_name"): c.get("node_id", 0) for c in tracked[t].get("children", [])}
            for c in saved[s].get("children", []):
                sid, tid = c.get("node_id", 0), tchildren.get(c.get("local_name"))
                if tid is not None and sid not in match and sid < len(saved) and tid < len(tracked):
                    match[sid] = tid
                    stack.append(sid)
        values = {}

        def value(obj_id):
            if obj_id not in values:
                t = match.get(obj_id)
                key = None
                if t is not None:
                    key = next((a.get("checkpoint_key") for a in tracked[t].get("attributes", [])
                                if a.get("name") == "VARIABLE_VALUE"), None)
                if key is None:
                    name = saved[obj_id].get("variable", {}).get("name", f"object {obj_id}")
                    raise ConverterError(f"{saved_model_dir}: variable {name!r} has no value in variables/ "
                                         "(the checkpoint does not match saved_model.pb)")
                values[obj_id] = ckpt.get(key)
            return values[obj_id]

        for fname, cf in objects.get("concrete_functions", {}).items():
            bound = cf.get("bound_inputs", [])
            if bound and all(0 <= b < len(saved) for b in bound):
                g.bound_inputs[fname] = [(lambda b=b: value(b)) if "variable" in saved[b] else None for b in bound]
    # TF1 SavedModels (and a fallback): variables saved under their own names.
    for n in g.nodes.values():
        if n.get("op") in ("VarHandleOp", "VariableV2"):
            shared = n.get("attr", {}).get("shared_name", {}).get("s", b"").decode() or n["name"]
            for key in (shared, n["name"]):
                if key in ckpt:
                    g.variables[n["name"]] = (lambda key=key: ckpt.get(key))
                    break


def load_frozen_graph(path):
    """TFGraph of a frozen GraphDef .pb file."""
    path = os.fspath(path)
    data = _read(path, "a frozen GraphDef .pb file")
    try:
        graph = wire.decode(memoryview(data), wire.GRAPH)
    except wire.WireError as e:
        raise ConverterError(f"{path} is not a GraphDef ({e}). Expected a frozen graph written with "
                             "tf.io.write_graph / graph_util.convert_variables_to_constants; for a SavedModel "
                             "pass its directory instead.") from None
    nodes = graph.get("node") or []
    if not nodes or any(not n.get("op") or not n.get("name") for n in nodes):
        raise ConverterError(f"{path} is not a GraphDef: it holds no nodes with names and ops. Expected a frozen "
                             "graph (tf.io.write_graph); for a SavedModel pass its directory instead.")
    g = TFGraph(graph, path)
    if any(n["op"] in ("VarHandleOp", "VariableV2") for n in nodes):
        raise ConverterError(f"{path} holds variables ({next(n['name'] for n in nodes if n['op'] in ('VarHandleOp', 'VariableV2'))}); "
                             "a frozen graph has them turned into constants (graph_util.convert_variables_to_constants).")
    return g


# A constant's declared shape is checked before it is expanded, so a corrupt file cannot
# make the converter allocate without bound.
MAX_CONSTANT_BYTES = 1 << 31


def tensor_value(proto: dict, what: str) -> np.ndarray:
    """A TensorProto's value as an ndarray."""
    from .bundle import DTYPE_NAMES, dtype_of

    enum = proto.get("dtype", 0)
    shape = proto_shape(proto.get("tensor_shape")) or ()
    if enum == 7:
        vals = proto.get("string_val", [])
        arr = np.empty(len(vals), object)
        arr[:] = vals
        return arr.reshape(shape) if len(vals) == int(np.prod(shape)) else arr
    dt = np.dtype(dtype_of(enum, what))
    if any(d is None or d < 0 for d in shape):
        raise ConverterError(f"{what}: a constant of shape {list(shape)} (negative dimension; corrupt graph)")
    count = int(np.prod([int(d) for d in shape], dtype=object)) if shape else 1
    if count * dt.itemsize > MAX_CONSTANT_BYTES:
        raise ConverterError(f"{what}: a constant of shape {list(shape)} ({count * dt.itemsize} bytes) is larger "
                             f"than {MAX_CONSTANT_BYTES >> 20} MiB (corrupt graph?)")
    content = proto.get("tensor_content")
    if content is not None and len(content):
        if len(content) != count * dt.itemsize:
            raise ConverterError(f"{what}: {len(content)} bytes of {DTYPE_NAMES.get(enum)} for shape {list(shape)}")
        return np.frombuffer(content, dt).reshape(shape).copy()
    field = {1: "float_val", 2: "double_val", 3: "int_val", 4: "int_val", 5: "int_val", 6: "int_val",
             9: "int64_val", 10: "bool_val", 17: "int_val", 19: "half_val", 22: "uint32_val",
             23: "uint64_val"}.get(enum)
    vals = proto.get(field, [])
    if enum == 19:
        flat = np.array(vals, np.uint16).view(np.float16)
    else:
        flat = np.array(vals, dt)
    if count == 0:
        return np.zeros(shape, dt)
    if flat.size == 0:
        flat = np.zeros(1, dt)
    if flat.size == count:
        return flat.reshape(shape)
    if flat.size < count:          # TF stores a repeated last value once
        return np.concatenate([flat, np.full(count - flat.size, flat[-1], dt)]).reshape(shape)
    raise ConverterError(f"{what}: {flat.size} values for shape {list(shape)}")
