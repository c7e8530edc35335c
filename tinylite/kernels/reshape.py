"""RESHAPE: new shape from the second input (or the `new_shape` option); one
dimension may be -1."""
import numpy as np


def prepare(node):
    x = node.inputs[0]
    shape_in = node.inputs[1] if node.has_input(1) else None
    option = node.options.get("new_shape")
    # TFLite reads the shape input when it is an int32 vector and falls back to the
    # option otherwise.  An empty shape tensor means "scalar" unless the option
    # carries the shape (old converters).
    if (shape_in is not None and (shape_in.dtype == np.int32 and len(shape_in.shape) == 1 or option is None)
            and (shape_in.size > 0 or option is None)):
        # An empty vector's value is known from its shape alone (it may have no buffer data).
        shape = [int(d) for d in np.asarray(node.value(1)).reshape(-1)] if shape_in.size else []
    elif option is not None:
        shape = [int(d) for d in option]
        if shape == [0]:
            shape = []    # TFLite's spelling of a scalar in the option
    else:
        node.fail("no shape given: needs a shape input or the new_shape option")
    node.outputs[0].shape = resolve_shape(node, x.shape, shape)
    return eval_reshape


def resolve_shape(node, in_shape, shape):
    """Fill in the -1 as TFLite does (zero-sized dimensions left out of the division)."""
    size = int(np.prod(in_shape))
    if shape.count(-1) > 1:
        node.fail(f"new shape {shape} has more than one -1")
    if any(d < -1 for d in shape):
        node.fail(f"new shape {shape} has a negative dimension")
    if -1 in shape:
        known = [d for d in shape if d != -1]
        if size == 0 and int(np.prod(known)) != 0:
            fill = 0
        else:
            fill = int(np.prod([d for d in in_shape if d != 0])) // int(np.prod([d for d in known if d != 0]))
        shape[shape.index(-1)] = fill
    if int(np.prod(shape)) != size:
        node.fail(f"cannot reshape {list(in_shape)} ({size} elements) to {shape}")
    return tuple(shape)


def eval_reshape(node, inputs, outputs):
    np.copyto(outputs[0], inputs[0].reshape(outputs[0].shape))
