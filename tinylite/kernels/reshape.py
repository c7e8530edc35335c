"""RESHAPE: new shape from the second input (or the `new_shape` option); one
dimension may be -1."""
import numpy as np


def prepare(node):
    x = node.inputs[0]
    shape_in = node.inputs[1] if node.has_input(1) else None
    # An empty shape tensor means "scalar" unless the option carries the shape (old converters).
    if shape_in is not None and (shape_in.size > 0 or node.options.get("new_shape") is None):
        shape = [int(d) for d in np.asarray(node.value(1)).reshape(-1)]
    elif node.options.get("new_shape") is not None:
        shape = [int(d) for d in node.options["new_shape"]]
    else:
        node.fail("no shape given: needs a shape input or the new_shape option")
    node.outputs[0].shape = resolve_shape(node, x.shape, shape)
    return eval_reshape


def resolve_shape(node, in_shape, shape):
    size = int(np.prod(in_shape))
    if shape.count(-1) > 1:
        node.fail(f"new shape {shape} has more than one -1")
    if -1 in shape:
        known = int(np.prod([d for d in shape if d != -1]))
        if known == 0 or size % known:
            node.fail(f"cannot reshape {list(in_shape)} ({size} elements) to {shape}")
        shape[shape.index(-1)] = size // known
    if int(np.prod(shape)) != size:
        node.fail(f"cannot reshape {list(in_shape)} ({size} elements) to {shape}")
    return tuple(shape)


def eval_reshape(node, inputs, outputs):
    outputs[0].reshape(-1)[...] = inputs[0].reshape(-1)
