"""tf.function concrete functions (the caller has TensorFlow): each function's GraphDef and
its captured variables' current values are handed to tinylite's own TensorFlow frontend."""
from __future__ import annotations

import numpy as np

from ...errors import ConverterError


def convert_concrete_functions(funcs, passes: bool = True):
    from ...converter.builder import GraphBuilder
    from . import wire
    from .lower import Resource, lower_graph
    from .savedmodel import TFGraph

    models = []
    for k, f in enumerate(funcs):
        g = f.graph
        graph = TFGraph(wire.decode(memoryview(g.as_graph_def().SerializeToString()), wire.GRAPH),
                        f"concrete function {getattr(f, 'name', k)}")
        preset = {}
        captured = {id(t): t for t in getattr(g, "internal_captures", [])}
        external = list(getattr(g, "external_captures", []))
        for internal, ext in zip(getattr(g, "internal_captures", []), external):
            value = None
            for var in getattr(g, "variables", []):
                if getattr(var, "handle", None) is ext:
                    value = np.array(var.numpy())
                    break
            if value is None and hasattr(ext, "numpy") and str(getattr(ext, "dtype", "")) != "<dtype: 'resource'>":
                value = np.array(ext.numpy())
                preset[internal.op.name] = value
                continue
            if value is None:
                raise ConverterError(f"concrete function {getattr(f, 'name', k)}: captured tensor "
                                     f"{internal.name} has no value tinylite can read")
            preset[internal.op.name] = Resource((lambda v=value: v), internal.op.name)
        inputs = []
        for t in f.inputs:
            if id(t) in captured:
                continue
            shape = None if t.shape.rank is None else tuple(t.shape.as_list())
            inputs.append((t.op.name, t.name, t.dtype.as_datatype_enum, shape))
        outputs = [(f"output_{i}", t.name) for i, t in enumerate(f.outputs)]
        b = GraphBuilder()
        lower_graph(b, graph, inputs, outputs, preset=preset)
        models.append(b.finish(passes=passes, signature_key="serving_default" if len(funcs) == 1 else f"fn_{k}"))
    if len(models) == 1:
        return models[0]
    from .merge import merge_models

    return merge_models(models)
