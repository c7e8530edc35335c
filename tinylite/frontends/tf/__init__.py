"""TensorFlow frontend: SavedModel directories and frozen GraphDef files, read and
converted with no TensorFlow (wire.py decodes the protobufs, bundle.py reads the
variables' checkpoint, lower.py/ops.py map the graph onto TFLite operators)."""
from __future__ import annotations


def convert_saved_model(saved_model_dir, signature_keys=None, tags=None, passes: bool = True, merge: bool = True):
    """A SavedModel directory -> tinylite.graph.Model, one subgraph per signature (merge=False:
    a list of one-signature models, which the quantizer takes one at a time)."""
    from ...converter.builder import GraphBuilder
    from .lower import lower_graph
    from .savedmodel import load_saved_model

    graph, signatures = load_saved_model(saved_model_dir, signature_keys, tags)
    models = []
    for sig in signatures:
        b = GraphBuilder()
        lower_graph(b, graph, [(k, ref, dt, shape) for k, ref, dt, shape in sig.inputs], sig.outputs)
        models.append(b.finish(passes=passes, signature_key=sig.key))
    if len(models) == 1:
        return models[0]
    if not merge:
        return models
    from .merge import merge_models

    return merge_models(models)


def convert_frozen_graph(graph_def_file, input_arrays, output_arrays, input_shapes=None, passes: bool = True):
    """A frozen GraphDef .pb -> tinylite.graph.Model (no signature, like TensorFlow's TF1 converter)."""
    from ...converter.builder import GraphBuilder
    from ...errors import ConverterError
    from .lower import _placeholder_shape, lower_graph
    from .savedmodel import load_frozen_graph

    graph = load_frozen_graph(graph_def_file)
    if not input_arrays or not output_arrays:
        raise ConverterError("from_frozen_graph needs input_arrays and output_arrays (the names of the graph's "
                             "input placeholders and output nodes).")
    inputs = []
    for name in input_arrays:
        node_name = name.split(":")[0]
        node = graph.nodes.get(node_name)
        if node is None:
            raise ConverterError(f"input array {name!r} is not a node of {graph_def_file}; placeholders in the "
                                 f"graph: {sorted(n for n, d in graph.nodes.items() if d['op'] == 'Placeholder')}")
        shape = (input_shapes or {}).get(name) or (input_shapes or {}).get(node_name)
        shape = tuple(shape) if shape is not None else _placeholder_shape(node)
        dtype = node.get("attr", {}).get("dtype", {}).get("type", 1)
        inputs.append((node_name, node_name, dtype, shape))
    for name in output_arrays:
        if name.split(":")[0] not in graph.nodes:
            raise ConverterError(f"output array {name!r} is not a node of {graph_def_file}")
    b = GraphBuilder()
    lower_graph(b, graph, inputs, [(n.split(":")[0], n) for n in output_arrays], fixed_batch=True)
    model = b.finish(passes=passes)
    model.signature_defs = []
    return model
