"""A Keras LSTM's While loop recognised and lowered to UNIDIRECTIONAL_SEQUENCE_LSTM, exactly
as the Keras frontend lowers the LSTM layer (so both give the same file).

Keras 3 exports an LSTM as a While over a TensorList of time steps whose body is one
cell step: z = x_t @ K + h @ R (+ b), split into four gates i, f, g, o;
c' = sigmoid(f) * c + sigmoid(i) * tanh(g); h' = sigmoid(o) * tanh(c'); h' is written to
the output TensorList (at the step, or at 0 when only the last output is kept).  Anything
else (another cell, activations, initial states that are not zeros, a state read after
the loop) returns None and the loop is unrolled instead.
"""
from __future__ import annotations

import types

import numpy as np

from .lower import Resource, TList, _attr


def _fn_ref(ref):
    """(node or arg name, output index) of a FunctionDef reference."""
    parts = ref.split(":")
    return parts[0], (int(parts[2]) if len(parts) > 2 else 0)


class _Body:
    def __init__(self, fdef):
        self.nodes = {n["name"]: n for n in fdef.get("node_def", [])}
        self.args = [a["name"] for a in fdef["signature"].get("input_arg", [])]
        self.outs = [fdef.get("ret", {}).get(a["name"]) for a in fdef["signature"].get("output_arg", [])]

    def node(self, ref):
        """The node producing ref, skipping Identity; None for a function argument."""
        name, _ = _fn_ref(ref)
        n = self.nodes.get(name)
        while n is not None and n["op"] == "Identity":
            name, _ = _fn_ref([r for r in n.get("input", []) if not r.startswith("^")][0])
            n = self.nodes.get(name)
        return n

    def arg(self, ref):
        """The argument index ref is (through Identity), else None."""
        name, _ = _fn_ref(ref)
        n = self.nodes.get(name)
        while n is not None and n["op"] == "Identity":
            name, _ = _fn_ref([r for r in n.get("input", []) if not r.startswith("^")][0])
            n = self.nodes.get(name)
        return self.args.index(name) if n is None and name in self.args else None

    def ins(self, n):
        return [r for r in n.get("input", []) if not r.startswith("^")]

    def is_op(self, ref, op):
        n = self.node(ref)
        return n if n is not None and n["op"] == op else None

    def var_arg(self, ref):
        """The resource argument a ReadVariableOp at ref reads."""
        n = self.is_op(ref, "ReadVariableOp")
        return None if n is None else self.arg(self.ins(n)[0])


def _same(body, a, b):
    na, nb = body.node(a), body.node(b)
    if na is None or nb is None:
        return na is None and nb is None and body.arg(a) == body.arg(b) and body.arg(a) is not None
    return na["name"] == nb["name"] and _fn_ref(a)[1] == _fn_ref(b)[1]


def _pair(body, n, op):
    """The two inputs of a commutative node of kind op, or None."""
    if n is None or n["op"] not in op:
        return None
    ins = body.ins(n)
    return ins if len(ins) == 2 else None


def _zeros(low, scope, ref):
    """Whether the tensor at a caller-scope ref is all zeros (Fill of 0 or a zero constant)."""
    from .ops import _data_inputs, _node_of

    n = _node_of(scope, ref)
    if n is None:
        return False
    if n["op"] == "Fill":
        v = low.get(scope, _data_inputs(scope, n)[1])
        return isinstance(v, np.ndarray) and not np.any(v)
    v = low.get(scope, ref)
    return isinstance(v, np.ndarray) and not np.any(v)


def match_keras_lstm(low, scope, node, loop, cond, body_name):
    fdef = low.g.functions.get(body_name)
    if fdef is None:
        return None
    body = _Body(fdef)
    splits = [n for n in body.nodes.values() if n["op"] == "Split" and int(_attr(n, "num_split", 0)) == 4]
    if len(splits) != 1:
        return None
    split = splits[0]
    name = split["name"]
    dim_ref, z_ref = body.ins(split)
    dim = body.node(dim_ref)
    # gates
    sig = {}
    tanh = {}
    for n in body.nodes.values():
        if n["op"] in ("Sigmoid", "Tanh"):
            src = body.ins(n)[0]
            if _fn_ref(src)[0] == name:
                (sig if n["op"] == "Sigmoid" else tanh)[_fn_ref(src)[1]] = n["name"]
    if sorted(sig) != [0, 1, 3] or sorted(tanh) != [2]:
        return None
    # z = x_t @ K + h @ R (+ b)
    z = body.node(z_ref)
    bias_arg = None
    if z is not None and z["op"] in ("BiasAdd", "AddV2", "Add"):
        a, b = body.ins(z)
        if body.var_arg(b) is not None and body.is_op(a, "AddV2") is not None:
            bias_arg, z = body.var_arg(b), body.node(a)
    pair = _pair(body, z, ("AddV2", "Add"))
    if pair is None:
        return None
    kernel_arg = rec_arg = list_arg = h_arg = None
    for ref in pair:
        mm = body.is_op(ref, "MatMul")
        if mm is None or _attr(mm, "transpose_a", False) or _attr(mm, "transpose_b", False):
            return None
        a, b = body.ins(mm)
        get = body.is_op(a, "TensorListGetItem")
        if get is not None:
            list_arg, time_arg, kernel_arg = body.arg(body.ins(get)[0]), body.arg(body.ins(get)[1]), body.var_arg(b)
        elif body.arg(a) is not None:
            h_arg, rec_arg = body.arg(a), body.var_arg(b)
    if None in (kernel_arg, rec_arg, list_arg, h_arg, time_arg):
        return None
    # c' = sig(f) * c + sig(i) * tanh(g);  h' = sig(o) * tanh(c')
    c_arg = c_new = h_new = out_pos = None
    for pos, ref in enumerate(body.outs):
        if ref is None:
            return None
        n = body.node(ref)
        if pos == h_arg:
            pair = _pair(body, n, ("Mul",))
            if pair is None:
                return None
            o = [r for r in pair if body.node(r) is not None and body.node(r)["name"] == sig[3]]
            t = [r for r in pair if body.is_op(r, "Tanh") is not None and body.node(r)["name"] != tanh[2]]
            if not o or not t:
                return None
            h_new, c_new = n, body.ins(body.node(t[0]))[0]
    if h_new is None or c_new is None:
        return None
    for pos, ref in enumerate(body.outs):
        if _same(body, ref, c_new):
            c_arg = pos
    if c_arg is None:
        return None
    add = _pair(body, body.node(c_new), ("AddV2", "Add"))
    if add is None:
        return None
    terms = []
    for ref in add:
        m = _pair(body, body.node(ref), ("Mul",))
        if m is None:
            return None
        terms.append(m)
    want_f = {sig[1], c_arg}
    want_i = {sig[0], tanh[2]}

    def term_set(m):
        out = set()
        for r in m:
            n = body.node(r)
            out.add(n["name"] if n is not None else body.arg(r))
        return out
    if sorted([term_set(t) == want_f or term_set(t) == want_i for t in terms]) != [True, True] or \
            term_set(terms[0]) == term_set(terms[1]):
        return None
    # the output list: SetItem(list, time or 0, h')
    for pos, ref in enumerate(body.outs):
        n = body.is_op(ref, "TensorListSetItem")
        if n is not None:
            lst, idx, item = body.ins(n)
            if body.node(item) is None or body.node(item)["name"] != h_new["name"] or body.arg(lst) != pos:
                return None
            if out_pos is not None:
                return None
            out_pos, index_ref = pos, idx
    if out_pos is None:
        return None
    # the remaining loop variables: step counters (+1) or passed through unchanged
    counters = []
    for pos, ref in enumerate(body.outs):
        if pos in (h_arg, c_arg, out_pos):
            continue
        if body.arg(ref) == pos:
            continue
        n = body.node(ref)
        pair = _pair(body, n, ("AddV2", "Add"))
        if pair is None:
            return None
        args = [body.arg(r) for r in pair]
        if pos not in args:
            return None
        counters.append(pos)
    if time_arg not in counters:
        return None
    # values at the loop's entry
    seq, out_list = loop[list_arg], loop[out_pos]
    if not isinstance(seq, TList) or seq.source is None or not isinstance(out_list, TList):
        return None
    steps = None if seq.items is None else len(seq.items)
    if any(not isinstance(loop[p], np.ndarray) or int(loop[p]) != 0 for p in counters):
        return None
    index_is_time = body.arg(index_ref) == time_arg
    if not index_is_time:
        idx_node = body.node(index_ref)
        if idx_node is None or idx_node["op"] != "Const" or out_list.items is None or len(out_list.items) != 1:
            return None
    elif (out_list.items is None) != (steps is None) or (steps is not None and len(out_list.items) != steps):
        return None
    # the condition holds for exactly the sequence's steps
    if steps is not None:
        probe = list(loop)
        for p in counters:
            probe[p] = np.array(steps - 1, np.int32)
        first = low.call(cond, probe)[0]
        for p in counters:
            probe[p] = np.array(steps, np.int32)
        last = low.call(cond, probe)[0]
        if not (isinstance(first, np.ndarray) and isinstance(last, np.ndarray) and bool(first) and not bool(last)):
            return None
    elif not _bounded_by_length(low, cond, loop, counters, time_arg, seq):
        return None
    in_refs = [r for r in node.get("input", []) if not r.startswith("^")]
    if not (_zeros(low, scope, in_refs[h_arg]) and _zeros(low, scope, in_refs[c_arg])):
        return None
    # the final states must not be read after the loop (the fused op does not output them)
    wname = node["name"]
    for other in scope.nodes.values():
        for r in other.get("input", []):
            parts = r.split(":")
            if parts[0] == wname and len(parts) > 1 and int(parts[-1]) in (h_arg, c_arg):
                return None
    if dim is None or dim["op"] != "Const":
        return None
    res = [loop[p] for p in (kernel_arg, rec_arg) + ((bias_arg,) if bias_arg is not None else ())]
    if not all(isinstance(r, Resource) and r.load is not None for r in res):
        return None
    kernel, recurrent = np.asarray(res[0].load(), np.float32), np.asarray(res[1].load(), np.float32)
    bias = np.asarray(res[2].load(), np.float32) if bias_arg is not None else None
    units = recurrent.shape[0]
    if kernel.ndim != 2 or recurrent.shape != (units, 4 * units) or kernel.shape[1] != 4 * units:
        return None
    return _emit(low, node, loop, seq, out_list, index_is_time, kernel, recurrent, bias, units, counters, steps,
                 h_arg, c_arg, out_pos)


def _bounded_by_length(low, cond, loop, counters, time_arg, seq):
    """For a sequence of run-time length: the condition is a conjunction of `counter < n`
    where every n is the sequence's own length (its time-major axis 0), one counter being
    the step index."""
    fdef = low.g.functions.get(cond)
    if fdef is None:
        return False
    body = _Body(fdef)
    outs = [r for r in body.outs if r is not None]
    if len(outs) != 1:
        return False
    bounded, stack = set(), [outs[0]]
    while stack:
        n = body.node(stack.pop())
        if n is None:
            return False
        if n["op"] == "LogicalAnd":
            stack.extend(body.ins(n))
            continue
        if n["op"] != "Less":
            return False
        a, b = (body.arg(r) for r in body.ins(n))
        if a not in counters or b is None:
            return False
        bound = loop[b]
        src = getattr(seq.source, "index", None)
        if not (hasattr(bound, "origin") and bound.scalar and bound.origin and bound.origin[0] == (src, 0)):
            return False
        bounded.add(a)
    return time_arg in bounded


class _Unavailable:
    """An LSTM state the fused op does not output (checked unread before fusing)."""


def _emit(low, node, loop, seq, out_list, sequences, kernel, recurrent, bias, units, counters, steps, h_arg, c_arg,
          out_pos):
    from ..keras.sequence import _FUSED_ACTIVATIONS, _fused_lstm, _last_step
    from .ops import _Ctx, _transpose_value

    src = seq.source
    prev = low.transposes.get(getattr(src, "index", None))
    if prev is not None and prev[1] == [1, 0, 2]:
        x = low.v(prev[0], node["name"] + "/input")
    else:
        x = _transpose_value(low, low.v(src, node["name"] + "/source"), [1, 0, 2], node["name"] + "/batch_major")
    name = node["name"].rsplit("/while", 1)[0] if "/while" in node["name"] else node["name"]
    ctx = _Ctx(low.b)
    p = types.SimpleNamespace(layer=types.SimpleNamespace(name=name), units=units, kernel=kernel,
                              recurrent=recurrent, bias=bias, go_backwards=False, stateful=False)
    y = _fused_lstm(ctx, p, x, _FUSED_ACTIVATIONS["tanh"])
    out = list(loop)
    if sequences:
        stacked = _transpose_value(low, y, [1, 0, 2], name + "/time_major")
        out[out_pos] = TList(None if steps is None else [None] * steps, out_list.element_shape, out_list.dtype,
                             stacked=stacked, length=out_list.length)
    else:
        last = _last_step(ctx, y, name + "/strided_slice")
        out[out_pos] = TList([last], out_list.element_shape, out_list.dtype)
    out[h_arg] = out[c_arg] = _Unavailable()
    for pos in counters:
        # With a run-time length, Keras's graph does not read the counters after the loop.
        out[pos] = np.array(steps, np.int32) if steps is not None else _Unavailable()
    return out
