"""Read a live keras.Model (any backend) into a ModelSpec.

Sequential and Functional models give their config (the same JSON a file
holds) and their layers' weights.  A subclassed model is traced: its `call` runs
once on symbolic `keras.Input`s, which records every keras layer and `keras.ops`
call as a graph node; those nodes become the spec (ops as "op:<Class>" layers).
"""
from __future__ import annotations

from ...errors import ConverterError
from .config import model_from_config, snake_case
from .spec import LayerSpec, ModelSpec, Ref, as_float32


def _weights(layer):
    import keras

    out = []
    for w in layer.weights:
        name = getattr(w, "path", None) or getattr(w, "name", None)
        out.append((str(name) if name is not None else None, as_float32(keras.ops.convert_to_numpy(w))))
    return out


def _functional_class():
    try:
        from keras.src.models.functional import Functional
    except ImportError:  # pragma: no cover - Keras 2 / tf.keras
        return None
    return Functional


def _is_graph_model(model) -> bool:
    import keras

    if isinstance(model, keras.Sequential):
        return True
    functional = _functional_class()
    return functional is not None and isinstance(model, functional)


def _graph_config(model) -> dict:
    import keras

    if isinstance(model, keras.Sequential):
        return {"class_name": "Sequential", "config": model.get_config()}
    functional = _functional_class()
    try:
        cfg = functional.get_config(model)
    except Exception as e:  # noqa: BLE001 - a subclass may break get_config
        raise ConverterError(f"model {model.name!r}: cannot read its layer graph ({type(e).__name__}: {e})") from None
    return {"class_name": "Functional", "config": cfg}


def from_live_model(model) -> ModelSpec:
    try:
        import keras
    except ImportError:  # pragma: no cover
        raise ConverterError("converting a live model needs keras installed") from None
    if not isinstance(model, keras.Model):
        raise ConverterError(f"expected a keras.Model, got {type(model).__name__}. Pass a model object, or a "
                             "path to TFLiteConverter.from_keras_model_file.")
    version = getattr(keras, "__version__", "3")
    if _is_graph_model(model):
        return _graph_spec(model, version)
    return trace_subclassed(model, version)


def _graph_spec(model, version) -> ModelSpec:
    if not model.built:
        raise ConverterError(f"model {model.name!r} is not built; call it on data or build(input_shape) first.")

    def weights(names_path, keras_path, class_name):
        obj = model
        for name in names_path:
            try:
                obj = obj.get_layer(name)
            except ValueError:
                return []          # a keras.ops call recorded in the config (e.g. an Embedding's NotEqual)
        return _weights(obj)

    spec = model_from_config(_graph_config(model), weights, version)
    _trace_custom_layers(spec, model, version)
    return spec


def _has_lowering(class_name: str) -> bool:
    from .keras_ops import OP_LOWERINGS
    from .layers import supported_layers

    return class_name in supported_layers() or class_name in OP_LOWERINGS or class_name == "InputLayer"


def _trace_custom_layers(spec, container, version) -> None:
    """A layer class the converter has no lowering for (a user's or a library's helper
    layer) is traced: its call() runs on symbolic inputs, and the keras layers and
    keras.ops calls it makes become a nested graph.  Only a live model can do this; a
    file holds no code."""
    for lay in spec.layers:
        if lay.class_name.startswith("op:") or lay.class_name == "InputLayer":
            continue
        try:
            obj = container.get_layer(lay.name)
        except ValueError:
            continue
        if lay.model is not None:
            _trace_custom_layers(lay.model, obj, version)
        elif not _has_lowering(lay.class_name):
            lay.model = trace_layer(obj, version)


def trace_layer(layer, version) -> ModelSpec:
    """A layer (or subclassed model) called inside a model, traced on fresh symbolic
    inputs shaped like those of its first call."""
    import keras

    nodes = getattr(layer, "_inbound_nodes", None) or []
    if not nodes:
        raise ConverterError(f"layer {layer.name!r} ({type(layer).__name__}) was never called; call the model "
                             "on data before converting it.")
    arguments = nodes[0].arguments
    fresh: dict[int, object] = {}

    def renew(obj):
        if isinstance(obj, keras.KerasTensor):
            if id(obj) not in fresh:
                fresh[id(obj)] = keras.Input(batch_shape=tuple(obj.shape), dtype=obj.dtype)
            return fresh[id(obj)]
        if isinstance(obj, (list, tuple)):
            return type(obj)(renew(v) for v in obj)
        if isinstance(obj, dict):
            return {k: renew(v) for k, v in obj.items()}
        return obj

    args, kwargs = renew(list(arguments.args)), renew(dict(arguments.kwargs))
    kwargs.pop("training", None)
    try:
        outputs = layer.call(*args, **kwargs)
    except Exception as e:  # noqa: BLE001 - user code
        from .layers import _INSTEAD

        fix = _INSTEAD.get(type(layer).__name__)
        fix = f"Use {fix} instead." if fix else ("Its call() must use keras layers and keras.ops only; or replace it "
                                                 "with built-in Keras layers.")
        raise ConverterError(
            f"layer {layer.name!r} ({type(layer).__name__}) has no TFLite lowering, and tracing its call() "
            f"symbolically failed ({type(e).__name__}: {e}). {fix}") from None
    inputs = [fresh[id(t)] for t in arguments.keras_tensors]
    flat_outputs = keras.tree.flatten(outputs)
    spec = _spec_from_graph(layer, inputs, flat_outputs, version)
    spec.class_name = "Traced"
    return spec


# -- subclassed models ----------------------------------------------------------------------

def _input_shapes(model):
    shapes = getattr(model, "_build_shapes_dict", None) or {}
    if len(shapes) != 1:
        raise ConverterError(
            f"subclassed model {model.name!r}: its input shape is unknown. Call the model once on a batch "
            "of data (or model.build(input_shape)) before converting it.")
    return next(iter(shapes.values())), next(iter(shapes))


def trace_subclassed(model, version) -> ModelSpec:
    import keras

    shape, argname = _input_shapes(model)

    def is_shape(s):
        return isinstance(s, (list, tuple)) and all(d is None or isinstance(d, int) for d in s)

    if is_shape(shape):
        inputs = keras.Input(batch_shape=(None,) + tuple(shape[1:]), name=argname if argname != "input_shape" else "input")
        flat_inputs = [inputs]
    elif isinstance(shape, (list, tuple)) and all(is_shape(s) for s in shape):
        flat_inputs = [keras.Input(batch_shape=(None,) + tuple(s[1:]), name=f"input_{k}") for k, s in enumerate(shape)]
        inputs = list(flat_inputs)
    elif isinstance(shape, dict) and all(is_shape(s) for s in shape.values()):
        inputs = {k: keras.Input(batch_shape=(None,) + tuple(s[1:]), name=k) for k, s in shape.items()}
        flat_inputs = list(inputs.values())
    else:
        raise ConverterError(f"subclassed model {model.name!r}: unsupported input structure {shape!r}")
    try:
        outputs = model.call(inputs)
    except Exception as e:  # noqa: BLE001 - user code
        raise ConverterError(
            f"subclassed model {model.name!r}: tracing call() symbolically failed ({type(e).__name__}: {e}). "
            "Its call() must use keras layers and keras.ops only (no backend-specific code, no Python "
            "branches on tensor values). Rewrite it so, or build the model with the Functional API.") from None
    flat_outputs = outputs if isinstance(outputs, (list, tuple)) else \
        list(outputs.values()) if isinstance(outputs, dict) else [outputs]
    return _spec_from_graph(model, flat_inputs, flat_outputs, version)


def _history(t):
    h = getattr(t, "_keras_history", None)
    if h is None:
        raise ConverterError("a traced tensor has no graph history (created outside keras ops?)")
    return h


def _spec_from_graph(model, inputs, outputs, version) -> ModelSpec:
    import keras

    spec = ModelSpec(name=model.name, class_name="Functional", keras_version=version)
    names: dict[int, str] = {}
    layers: dict[int, LayerSpec] = {}
    used: set[str] = set()

    def op_name(op):
        if id(op) not in names:
            # A layer keeps its name across traces; a keras.ops call is a new op object on
            # every trace, named from a process-wide counter (softmax, softmax_1, ...).  It
            # is named here from its class alone, so that converting the same model twice
            # gives the same bytes.
            base = name = op.name if isinstance(op, keras.layers.Layer) else snake_case(type(op).__name__)
            k = 1
            while name in used:
                name = f"{base}_{k}"
                k += 1
            used.add(name)
            names[id(op)] = name
        return names[id(op)]

    def ref(t):
        op, node_index, tensor_index = _history(t)
        return Ref((op_name(op), node_index, tensor_index))

    def convert_args(obj):
        if isinstance(obj, keras.KerasTensor):
            return ref(obj)
        if isinstance(obj, keras.Variable):
            # a weight the call uses directly (keras.ops.conv(x, self.kernel), x * self.gamma)
            return as_float32(keras.ops.convert_to_numpy(obj))
        if isinstance(obj, (list, tuple)):
            return [convert_args(v) for v in obj]
        if isinstance(obj, dict):
            return {k: convert_args(v) for k, v in obj.items()}
        return obj

    stack = list(outputs)
    seen_nodes = set()
    while stack:
        t = stack.pop()
        op, node_index, _ = _history(t)
        key = (id(op), node_index)
        if key in seen_nodes:
            continue
        seen_nodes.add(key)
        name = op_name(op)
        lay = layers.get(id(op))
        if lay is None:
            lay = _layer_spec(op, name, version)
            layers[id(op)] = lay
        node = op._inbound_nodes[node_index]
        while len(lay.calls) <= node_index:
            lay.calls.append(None)
        if lay.class_name != "InputLayer":
            lay.calls[node_index] = (convert_args(list(node.arguments.args)), convert_args(dict(node.arguments.kwargs)))
        stack.extend(node.arguments.keras_tensors)
    spec.layers = list(layers.values())
    spec.inputs = [ref(t) for t in inputs]
    spec.outputs = [ref(t) for t in outputs]
    return spec


def _layer_spec(op, name, version) -> LayerSpec:
    import keras

    if isinstance(op, keras.Model):
        lay = LayerSpec(type(op).__name__, name, {})
        lay.model = _graph_spec(op, version) if _is_graph_model(op) else trace_layer(op, version)
        return lay
    if isinstance(op, keras.layers.Layer):
        cls = type(op).__name__
        if cls == "InputLayer":
            return LayerSpec("InputLayer", name, {"batch_shape": list(op.batch_shape), "dtype": op.dtype})
        if not _has_lowering(cls):
            lay = LayerSpec(cls, name, {})
            lay.model = trace_layer(op, version)
            return lay
        try:
            cfg = op.get_config()
        except Exception as e:  # noqa: BLE001 - custom layers often lack get_config
            raise ConverterError(
                f"layer {op.name!r} ({cls}): custom layer classes are not supported (get_config failed: {e}). "
                "Use built-in Keras layers, or call keras.ops directly in the model's call().") from None
        return LayerSpec(cls, name, cfg, weights=_weights(op))
    # A keras.ops operation: its parameters are attributes of the op object.
    cfg = {k: v for k, v in vars(op).items() if not k.startswith("_") and not callable(v)}
    return LayerSpec("op:" + type(op).__name__, name, cfg)
