"""Walk a ModelSpec's graph and lower every layer call onto a GraphBuilder."""
from __future__ import annotations

import numpy as np

from ...errors import ConverterError
from .spec import ModelSpec, Ref


class Context:
    """What layer lowerings share: the builder and where the model came from."""

    def __init__(self, builder, keras_version: str = "3", record=None):
        self.b = builder
        # (layer, class, node, tensor, tensor name) of each top-level layer output, in graph
        # order, for verification (converter/verify.py) to find the first diverging layer.
        self.record = record
        self.keras_major = int(str(keras_version).split(".")[0] or 3)
        self.masks: dict = {}        # tensor index -> its Keras mask (see masks.py)


def _dtype(cfg: dict):
    d = cfg.get("dtype", "float32")
    if isinstance(d, dict):
        d = (d.get("config") or {}).get("name", "float32")
    d = str(d or "float32")
    if d in ("mixed_float16", "mixed_bfloat16", "float16", "bfloat16", "float64"):
        return np.float32
    try:
        return np.dtype(d).type
    except TypeError:
        return np.float32


def input_shape(layer) -> tuple:
    cfg = layer.config
    shape = cfg.get("batch_shape") or cfg.get("batch_input_shape")
    if shape is None and cfg.get("shape") is not None:
        shape = [None] + list(cfg["shape"])
    if shape is None:
        raise ConverterError(f"input layer {layer.name!r} has no shape in its config.")
    return tuple(None if d is None else int(d) for d in shape)


def lower_model(ctx: Context, spec: ModelSpec, inputs=None, outer: str = ""):
    """Lower `spec`; `inputs` are Values for its inputs (None: make model inputs)."""
    from .layers import lower_layer
    from .masks import implicit_masks, record_masks

    env: dict = {}
    if inputs is None:
        for ref in spec.inputs:
            layer = spec.layer(ref[0])
            env[tuple(ref)] = ctx.b.input(layer.name, input_shape(layer), _dtype(layer.config))
    else:
        if len(inputs) != len(spec.inputs):
            raise ConverterError(f"nested model {spec.name!r} takes {len(spec.inputs)} inputs, got {len(inputs)}")
        for ref, v in zip(spec.inputs, inputs):
            env[tuple(ref)] = v

    pending = [(layer, k) for layer in spec.layers for k in range(len(layer.calls))
               if layer.class_name != "InputLayer" and layer.calls[k] is not None]
    while pending:
        progress = []
        for layer, k in pending:
            args, kwargs = layer.calls[k]
            try:
                resolved = _resolve(args, env)
                kw = _resolve(kwargs, env)
            except KeyError:
                continue
            if layer.model is not None:
                flat = [v for v in _flatten([resolved, kw]) if hasattr(v, "index")]
                try:
                    outs = lower_model(ctx, layer.model, flat, outer + layer.name + "/")
                except ConverterError as e:
                    if layer.model.class_name != "Traced":
                        raise
                    from .layers import _INSTEAD

                    fix = _INSTEAD.get(layer.class_name)
                    fix = f"Use {fix} instead." if fix else "Rewrite that part of its call(), or use built-in layers."
                    raise ConverterError(
                        f"layer {layer.name!r} ({layer.class_name}) has no TFLite lowering of its own, and its "
                        f"traced call() holds what cannot be converted: {e} {fix}") from None
            elif layer.class_name.startswith("op:"):
                from .keras_ops import lower_op

                outs = lower_op(ctx, layer, resolved, kw)
            else:
                kw = implicit_masks(ctx, layer, resolved, kw)
                outs = lower_layer(ctx, layer, resolved, kw)
            if not isinstance(outs, (list, tuple)):
                outs = [outs]
            if layer.model is None and not layer.class_name.startswith("op:"):
                record_masks(ctx, layer, resolved, kw, outs)
            for t, v in enumerate(outs):
                env[(layer.name, k, t)] = v
                if ctx.record is not None and not outer and hasattr(v, "index"):
                    ctx.record.append((layer.name, layer.class_name.removeprefix("op:"), k, t,
                                       ctx.b.sg.tensors[v.index].name))
            progress.append((layer, k))
        if not progress:
            missing = [f"{layer.name} ({layer.class_name})" for layer, _ in pending]
            raise ConverterError(f"model {spec.name!r}: cannot order the layer graph; layers whose inputs are "
                                 f"never produced: {', '.join(missing)}")
        done = {(id(layer), k) for layer, k in progress}
        pending = [(layer, k) for layer, k in pending if (id(layer), k) not in done]
    try:
        return [env[tuple(r)] for r in spec.outputs]
    except KeyError as e:
        raise ConverterError(f"model {spec.name!r}: output {e.args[0]} is not produced by any layer") from None


def _resolve(obj, env):
    if isinstance(obj, Ref):
        return env[tuple(obj)]
    if isinstance(obj, dict):
        return {k: _resolve(v, env) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_resolve(v, env) for v in obj]
    return obj


def _flatten(obj):
    if isinstance(obj, (list, tuple)):
        out = []
        for v in obj:
            out.extend(_flatten(v))
        return out
    if isinstance(obj, dict):
        return _flatten(list(obj.values()))
    return [obj]


def output_names(spec: ModelSpec) -> list[str]:
    return [r[0] for r in spec.outputs]


def convert_spec(spec: ModelSpec, passes: bool = True, record=None):
    """A ModelSpec -> tinylite.graph.Model (`record`: a list to receive the layer outputs'
    tensor names, see Context)."""
    from ...converter.builder import GraphBuilder

    b = GraphBuilder()
    ctx = Context(b, spec.keras_version, record)
    outs = lower_model(ctx, spec)
    for k, (name, v) in enumerate(zip(output_names(spec), outs)):
        if v.index in b.sg.inputs:
            # A model output that is a model input: TFLite needs a distinct tensor.
            from .layers import identity_copy

            v = identity_copy(ctx, v, name)
        # TensorFlow keys a Keras model's signature outputs output_0, output_1, ... in the
        # model's output order (code calls runner(...)["output_0"]); the tensors keep
        # their layer names.
        b.output(v, f"output_{k}")
    return b.finish(passes=passes)
