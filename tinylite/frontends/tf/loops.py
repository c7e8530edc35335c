"""A While whose trip count is known only at run time, written as TFLite's WHILE.

The loop's cond and body functions are lowered into subgraphs of their own, as TensorFlow's
converter writes them: the loop values are the WHILE's inputs and outputs, and the body's
inputs and outputs pair up with them.  A loop value keeps its shape across the steps, but for
the dimensions the While declares unknown (its `output_shapes`, from tf.while_loop's
shape_invariants): those are unknown in the subgraphs and after the loop.  A variable handle
passed through the loop is read in each subgraph as a constant of its own.  A TensorList
(a Keras RNN's inputs and outputs over time) is one tensor [length, *element] in the loop:
its elements are read with GATHER and written with DYNAMIC_UPDATE_SLICE (ops._set_stacked); a
list reserved with element dimensions unknown when converting (the batch) starts with those
dimensions 1, and takes the items' at the first write.  (Loops whose trip
count is known when converting are unrolled instead: see ops._while.)
"""
from __future__ import annotations

import numpy as np

from .lower import Resource, TList, _attr
from .savedmodel import proto_shape


def runtime_while(low, scope, node, loop, cond, body):
    """The loop values after a WHILE running `body` while `cond` holds, from the values `loop`."""
    name = node["name"]
    values = []                           # (position, the initial Value)
    lists = {}                            # position -> the TensorList's loop shape
    for k, s in enumerate(loop):
        if isinstance(s, Resource):
            continue
        if s is None:
            low.fail(scope, node, f"loop value {k} has no value")
        if isinstance(s, TList):
            v, lists[k] = _list_tensor(low, scope, node, s, f"{name}/input{k}")
        else:
            v = low.v(s, f"{name}/input{k}")
        values.append((k, v))
    declared = _attr(node, "output_shapes") or []
    shapes = []
    for k, v in values:
        shape = lists.get(k, tuple(v.shape))
        d = proto_shape(declared[k]) if k < len(declared) and k not in lists else None
        if d is not None and len(d) == len(shape):
            shape = tuple(a if a == b else None for a, b in zip(shape, d))
        shapes.append(shape)

    def bound(prefix):
        args = list(loop)
        for (k, v), shape in zip(values, shapes):
            args[k] = low.b.param(f"{prefix}/arg{k}", shape, v.dtype)
            if k in lists:
                args[k] = TList(None, loop[k].element_shape, loop[k].dtype, stacked=args[k])
        return args

    with low.subgraph(name + "/cond") as cond_index:
        (c,) = low.call(cond, bound(name + "/cond"))[:1]
        c = low.v(c, name + "/cond/result")
        if np.dtype(c.dtype) != np.bool_ or int(np.prod([1 if d is None else d for d in c.shape])) != 1:
            low.fail(scope, node, f"its condition is a {np.dtype(c.dtype).name} tensor of shape {c.shape}; a "
                                  "loop condition must be one bool")
        low.b.result(_tensor(low, c, (), name + "/cond/result"))
    with low.subgraph(name + "/body") as body_index:
        args = bound(name + "/body")
        outs = low.call(body, args)
        if len(outs) != len(loop):
            low.fail(scope, node, f"the body returns {len(outs)} values for {len(loop)} loop variables")
        for k, s in enumerate(loop):
            if isinstance(s, Resource) and outs[k] is not s and not isinstance(outs[k], Resource):
                low.fail(scope, node, f"the body replaces the variable handle of loop value {k}")
        for (k, v), shape in zip(values, shapes):
            o = outs[k]
            if k in lists:
                if not isinstance(o, TList) or o.stacked is None:
                    low.fail(scope, node, f"the body turns the TensorList of loop value {k} into something else")
                o = o.stacked
            o = low.v(o, f"{name}/body/result{k}")
            if np.dtype(o.dtype) != np.dtype(v.dtype):
                low.fail(scope, node, f"the body turns loop value {k} from {np.dtype(v.dtype).name} into "
                                      f"{np.dtype(o.dtype).name}")
            if len(o.shape) != len(shape) or any(a is not None and b != a for a, b in zip(shape, o.shape)):
                low.fail(scope, node, f"the body changes the shape of loop value {k} from {shape} to "
                                      f"{tuple(o.shape)}; declare the dimensions that change as unknown "
                                      "(tf.while_loop's shape_invariants)")
            low.b.result(_tensor(low, o, shape, f"{name}/body/result{k}"))
    outs = low.b.op("WHILE", [v for _, v in values], shapes, name,
                    {"cond_subgraph_index": cond_index, "body_subgraph_index": body_index},
                    out_dtypes=[v.dtype for _, v in values])
    result = list(loop)
    for (k, _), o in zip(values, outs):
        result[k] = TList(None, loop[k].element_shape, loop[k].dtype, stacked=o) if k in lists else o
    return result


def _list_tensor(low, scope, node, s, name):
    """(Value [length, *element], its shape in the loop) for TensorList loop value s."""
    b = low.b
    if s.stacked is not None or (s.items is None and s.source is not None):
        v = low.v(s.stacked if s.stacked is not None else s.source, name)
        return v, (v.shape[0],) + tuple(s.element_shape if s.element_shape is not None else v.shape[1:])
    elem = s.element_shape
    if elem is None:
        low.fail(scope, node, "loops over a TensorList whose elements have an unknown rank")
    if s.items is not None:
        items = [it.get() if hasattr(it, "get") else it for it in s.items]
        if items and all(it is not None for it in items):
            v = low.v(np.stack(items) if all(isinstance(it, np.ndarray) for it in items) else
                      b.op("PACK", [low.v(it, f"{name}/item{j}") for j, it in enumerate(items)],
                           (len(items),) + tuple(elem), name, {"values_count": len(items), "axis": 0}), name)
            return v, tuple(v.shape)
        if any(it is not None for it in items):
            low.fail(scope, node, "loops over a TensorList with only some elements set before the loop")
        length, n = b.const(np.int32(len(items)), name + "/length"), len(items)
    else:
        length, n = low.v(s.length, name + "/length"), None
        if tuple(length.shape) != ():
            length = b.op("RESHAPE", [length, b.const(np.zeros(0, np.int32), name + "/scalar")], (), name + "/n",
                          out_dtypes=np.int32)
    dims = [length] + [b.const(np.int32(1 if d is None else d), f"{name}/dim{j}") for j, d in enumerate(elem)]
    packed = b.op("PACK", dims, (len(dims),), name + "/dims", {"values_count": len(dims), "axis": 0},
                  out_dtypes=np.int32)
    zeros = b.op("FILL", [packed, b.const(np.zeros((), s.dtype), name + "/zero")],
                 (n,) + tuple(1 if d is None else d for d in elem), name, out_dtypes=s.dtype)
    return zeros, (n,) + tuple(elem)


def _tensor(low, v, shape, name):
    """v as the result of an op of the current subgraph, of `shape`: a constant, or a value
    computed in another subgraph's terms, gets a RESHAPE (a subgraph's outputs are the tensors
    its ops write; an input may pass through as it is)."""
    if v.const is None and tuple(v.shape) == tuple(shape):
        return v
    spec = low.b.const(np.array([-1 if d is None else d for d in shape], np.int32), name + "/shape")
    return low.b.op("RESHAPE", [v, spec], shape, name)
