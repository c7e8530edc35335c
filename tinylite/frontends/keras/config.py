"""Parse a Keras model config (Keras 2 or Keras 3 serialization) into a ModelSpec."""
from __future__ import annotations

import re

import numpy as np

from ...errors import ConverterError
from .spec import LayerSpec, ModelSpec, Ref

MODEL_CLASSES = {"Sequential", "Functional", "Model"}


def snake_case(name: str) -> str:
    """Keras's own `to_snake_case` (names of .keras weight groups)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _strip_wrapper(cfg: dict) -> dict:
    return {"class_name": cfg.get("class_name"), "config": cfg.get("config") or {},
            "name": cfg.get("name"), "inbound_nodes": cfg.get("inbound_nodes"), "module": cfg.get("module")}


def is_op_node(entry: dict) -> bool:
    """A Keras 3 functional config records `x + 3.0`, `x[:, 1:]` and other keras.ops
    calls on symbolic tensors as graph nodes of their op class (`Add`, `GetItem`, ...),
    which may share a layer's class name (keras.ops.add and keras.layers.Add are both
    "Add", with different calls).  A .keras config says so in its module.  An .h5 config
    has no module, but its nodes are in Keras 3's form (dicts of args and kwargs; Keras
    2 recorded no op nodes) and an op's config never has the "trainable" key every
    layer's has."""
    module = entry.get("module") or ""
    if module.startswith(("keras.src.ops", "keras.ops")):
        return True
    if module or entry.get("class_name") in MODEL_CLASSES or entry.get("class_name") == "InputLayer":
        return False
    cfg = entry.get("config") or {}
    nodes = entry.get("inbound_nodes") or []
    return bool(nodes) and all(isinstance(n, dict) for n in nodes) and isinstance(cfg, dict) \
        and "trainable" not in cfg


def model_from_config(top: dict, weights, keras_version: str = "3", path=(), keras_path="") -> ModelSpec:
    """`top` is {"class_name", "config"}; `weights(names_path, keras_path, class_name)`
    returns a layer's [(name, array)]."""
    class_name = top.get("class_name")
    cfg = top.get("config") or {}
    if class_name not in MODEL_CLASSES:
        raise ConverterError(
            f"the file holds a {class_name!r}, not a Sequential or Functional model. A subclassed model "
            "saved to a file has no layer graph to convert: load it in Keras and call "
            "tinylite.TFLiteConverter.from_keras_model(model) instead.")
    name = cfg.get("name", "model")
    if class_name == "Sequential":
        return _sequential(name, cfg, weights, keras_version, path, keras_path)
    if "layers" not in cfg or "input_layers" not in cfg:
        raise ConverterError(
            f"model {name!r} ({class_name}) has no layer graph in its config (a subclassed model?). "
            "Load it in Keras and call tinylite.TFLiteConverter.from_keras_model(model) instead.")
    spec = ModelSpec(name=name, class_name="Functional", keras_version=keras_version)
    used: dict[str, int] = {}
    for entry in cfg["layers"]:
        e = _strip_wrapper(entry)
        lname = e["name"] or e["config"].get("name")
        if is_op_node(e):
            layer = LayerSpec("op:" + str(e["class_name"]), lname, e["config"])
        else:
            kpath = f"{keras_path}layers/{_attr_name(e['class_name'], used)}"
            layer = _layer(e["class_name"], lname, e["config"], weights, keras_version, path, kpath)
        layer.calls = [_parse_node(n) for n in (e["inbound_nodes"] or [])]
        spec.layers.append(layer)
    spec.inputs = _refs(cfg["input_layers"])
    spec.outputs = _refs(cfg["output_layers"])
    return spec


def _attr_name(class_name: str, used: dict) -> str:
    n = snake_case(class_name)
    if n in used:
        used[n] += 1
        return f"{n}_{used[n]}"
    used[n] = 0
    return n


def _layer(class_name, name, cfg, weights, keras_version, path, kpath) -> LayerSpec:
    layer = LayerSpec(class_name=class_name, name=name, config=cfg)
    if class_name in MODEL_CLASSES:
        layer.model = model_from_config({"class_name": class_name, "config": cfg}, weights, keras_version,
                                        path + (name,), kpath + "/")
    else:
        layer.weights = weights(path + (name,), kpath, class_name)
    return layer


def _sequential(name, cfg, weights, keras_version, path, keras_path) -> ModelSpec:
    spec = ModelSpec(name=name, class_name="Sequential", keras_version=keras_version)
    entries = [_strip_wrapper(e) for e in cfg.get("layers", [])]
    if entries and entries[0]["class_name"] == "InputLayer":
        first = entries.pop(0)
        icfg = first["config"]
        iname = icfg.get("name") or f"{name}_input"
    else:
        shape = cfg.get("build_input_shape")
        if shape is None and entries:
            shape = entries[0]["config"].get("batch_input_shape") or entries[0]["config"].get("batch_shape")
        if shape is None:
            raise ConverterError(
                f"Sequential model {name!r} has no input shape (it was never built). Build it first, "
                "e.g. by calling it on data or starting it with keras.Input(shape=...).")
        iname = f"{name}_input"
        icfg = {"name": iname, "batch_shape": list(shape), "dtype": "float32"}
    spec.layers.append(LayerSpec("InputLayer", iname, icfg))
    spec.inputs = [Ref((iname, 0, 0))]
    prev = Ref((iname, 0, 0))
    used: dict[str, int] = {}
    for e in entries:
        lname = e["config"].get("name") or e["name"]
        kpath = f"{keras_path}layers/{_attr_name(e['class_name'], used)}"
        layer = _layer(e["class_name"], lname, e["config"], weights, keras_version, path, kpath)
        layer.calls = [([prev], {})]
        spec.layers.append(layer)
        prev = Ref((lname, 0, 0))
    spec.outputs = [prev]
    return spec


def _refs(value) -> list:
    """input_layers / output_layers: [[name, node, tensor], ...] or a single [name, node, tensor]."""
    if not value:
        return []
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value[0], str):
        return [Ref((value[0], int(value[1]), int(value[2])))]
    out = []
    for v in value:
        out.extend(_refs(v))
    return out


def _parse_node(node):
    """One inbound node -> (args with tensors as Ref, kwargs)."""
    if isinstance(node, dict):                        # Keras 3
        return _tensors(node.get("args", [])), _tensors(node.get("kwargs", {}))
    # Keras 2: a list of [layer, node, tensor, kwargs]
    refs, kwargs = [], {}
    for item in node:
        refs.append(Ref((item[0], int(item[1]), int(item[2]))))
        if len(item) > 3 and isinstance(item[3], dict):
            kwargs.update(_tensors(item[3]))
    return ([refs[0]] if len(refs) == 1 else [refs]), kwargs


def _tensors(obj):
    """Call arguments as serialized -> Refs for tensors, numpy arrays for constant tensors,
    slices and Ellipsis for x[...] keys; everything else as is."""
    if isinstance(obj, dict):
        kind = obj.get("class_name")
        if kind == "__keras_tensor__":
            h = obj["config"]["keras_history"]
            return Ref((h[0], int(h[1]), int(h[2])))
        if kind in ("__tensor__", "__numpy__") and isinstance(obj.get("config"), dict):
            c = obj["config"]
            return np.asarray(c.get("value"), dtype=str(c.get("dtype") or "float32"))
        if kind == "__slice__" and isinstance(obj.get("config"), dict):
            c = obj["config"]
            return slice(c.get("start"), c.get("stop"), c.get("step"))
        if kind == "__ellipsis__":
            return Ellipsis
        return {k: _tensors(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_tensors(v) for v in obj]
    return obj
