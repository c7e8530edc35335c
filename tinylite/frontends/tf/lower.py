"""TensorFlow graphs -> the neutral graph (TFLite operators on a GraphBuilder).

Function calls are inlined; variables read through ReadVariableOp become constants;
Identity/NoOp vanish; anything computable from constants is computed here with
numpy, including shape arithmetic on tensors whose batch is unknown (a `Partial`
holds the known entries of such a shape vector).  Nodes are lowered on demand from
the outputs, so a pattern (a PReLU spelled as relu/neg/mul/add, a bias add after a
convolution) is recognised before its parts are emitted.
"""
from __future__ import annotations

import sys
from contextlib import contextmanager

import numpy as np

from ...errors import ConverterError
from ..keras.ops import bshape
from .bundle import DTYPE_NAMES, dtype_of
from .savedmodel import proto_shape

# Ops with several output arguments: FunctionDef refers to outputs as "node:arg:index".
OUTPUT_ARGS = {
    "FusedBatchNorm": ["y", "batch_mean", "batch_variance", "reserve_space_1", "reserve_space_2"],
    "FusedBatchNormV2": ["y", "batch_mean", "batch_variance", "reserve_space_1", "reserve_space_2"],
    "FusedBatchNormV3": ["y", "batch_mean", "batch_variance", "reserve_space_1", "reserve_space_2",
                         "reserve_space_3"],
    "TopKV2": ["values", "indices"],
    "Unique": ["y", "idx"],
}

PASSTHROUGH = {"Identity", "StopGradient", "PreventGradient", "Snapshot", "EnsureShape", "CheckNumerics",
               "IdentityN"}


class Partial:
    """An integer scalar or vector with some entries known only at run time (None)."""

    __slots__ = ("vals", "scalar", "emit", "dtype", "origin")

    def __init__(self, vals, scalar, emit, dtype=np.int32, origin=None):
        self.vals = list(vals)
        self.scalar = scalar
        self.emit = emit            # () -> Value: the runtime ops computing it
        self.dtype = dtype
        # per entry: (Value index, axis) when it is that tensor's run-time dimension, else None
        self.origin = list(origin) if origin is not None else [None] * len(self.vals)


class Resource:
    """A variable handle; `load()` gives its value."""

    __slots__ = ("load", "name")

    def __init__(self, load, name):
        self.load = load
        self.name = name


class TList:
    """A TensorList (TensorArray) of statically known length: its element Syms (None = not
    set yet).  Loops over one are unrolled, so every index is a constant."""

    __slots__ = ("items", "element_shape", "dtype", "source", "stacked", "length")

    def __init__(self, items, element_shape, dtype, source=None, stacked=None, length=None):
        # items None: a list whose length is known only at run time (`length`, a Partial)
        self.items = None if items is None else list(items)
        self.length = length
        self.element_shape = element_shape
        self.dtype = dtype
        self.source = source          # the tensor TensorListFromTensor split
        self.stacked = stacked        # the elements already stacked (a fused sequence op's output)


class Scope:
    """One graph or function body being lowered, with its arguments bound."""

    def __init__(self, nodes: dict, args: dict, fn_name: str | None, is_function: bool):
        self.nodes = nodes
        self.args = args
        self.fn_name = fn_name
        self.is_function = is_function
        self.memo: dict = {}
        self.uses: dict = {}
        for n in nodes.values():
            for ref in n.get("input", ()):
                if not ref.startswith("^"):
                    src = ref.split(":", 1)[0]
                    self.uses[src] = self.uses.get(src, 0) + 1


class TFNodeError(ConverterError):
    pass


def _attr(node, key, default=None):
    a = node.get("attr", {}).get(key)
    if a is None:
        return default
    for k in ("s", "i", "f", "b", "type", "shape", "list", "tensor", "func"):
        if k in a:
            v = a[k]
            if k == "s":
                return v.decode("utf-8", "replace")
            if k == "list":
                for lk in ("i", "f", "s", "type", "shape", "b", "func"):
                    if lk in v:
                        return v[lk]
                return []
            return v
    return default


class Lowerer:
    def __init__(self, builder, graph):
        self.b = builder
        self.g = graph
        self.const_cache: dict = {}
        self.biasable: dict = {}        # Value index -> (operator, name, slot) whose bias a later add may fill
        self.transposes: dict = {}      # Value index -> (input Sym, perm) of a TRANSPOSE emitted here
        self.flattened: dict = {}       # Value index -> Value a RESHAPE merged all but the last axis of
        self.fc_flat: dict = {}         # FULLY_CONNECTED output index -> (operator, unflattened input)
        self.stacked_one: dict = {}     # Value index -> the one element a TensorListStack stacked
        self.wide: dict = {}            # narrowed input's Value index -> the int64 / float64 input it casts
        self.relaid: dict = {}          # (Value index, perm) -> the TRANSPOSE of it an NCHW op emitted

    # Caches of what was emitted, by Value index or constant: each subgraph has its own.
    _CACHES = ("const_cache", "biasable", "transposes", "flattened", "fc_flat", "stacked_one", "wide", "relaid")

    @contextmanager
    def subgraph(self, name):
        """Lower into a new subgraph (a loop's cond or body) until the block ends; yields its index.
        The caches start empty there: a Value index names another tensor in another subgraph, and
        a constant must be a tensor of the subgraph that reads it."""
        saved = {k: getattr(self, k) for k in self._CACHES}
        for k in self._CACHES:
            setattr(self, k, {})
        try:
            with self.b.subgraph(name) as index:
                yield index
        finally:
            for k, v in saved.items():
                setattr(self, k, v)

    # -- values --

    def where(self, scope, node):
        fn = f" in function {scope.fn_name!r}" if scope.fn_name else ""
        return f"TensorFlow op {node.get('op')} (node {node.get('name')!r}{fn})"

    def fail(self, scope, node, message):
        raise TFNodeError(f"{self.where(scope, node)}: {message}")

    def v(self, sym, name):
        """A runtime Value for `sym` (constants and partial shapes are materialised)."""
        if isinstance(sym, np.ndarray):
            key = id(sym)
            hit = self.const_cache.get(key)
            if hit is not None and hit[0] is sym:
                return hit[1]
            arr = sym
            if arr.dtype in (np.float64, np.float16):
                arr = arr.astype(np.float32)
            if arr.dtype == np.int64:
                arr = arr.astype(np.int32)
            if arr.dtype == object:
                raise ConverterError(f"{name}: string tensors are not supported")
            val = self.b.const(arr, name)
            self.const_cache[key] = (sym, val)
            return val
        if isinstance(sym, Partial):
            return sym.emit()
        if isinstance(sym, Resource):
            raise ConverterError(f"{name}: a variable handle is used as a tensor (only ReadVariableOp reads are "
                                 "supported)")
        if isinstance(sym, TList):
            raise ConverterError(f"{name}: a TensorList is used as a tensor")
        if not hasattr(sym, "index"):
            raise ConverterError(f"{name}: the value is not available as a tensor ({type(sym).__name__})")
        return sym

    def get(self, scope, ref):
        """The Sym of a tensor reference inside `scope`."""
        if scope.is_function:
            parts = ref.split(":")
            if len(parts) == 1:
                if ref in scope.args:
                    return scope.args[ref]
                outs = self.node_outputs(scope, ref)
                return outs[0]
            node_name, arg, idx = parts[0], parts[1], int(parts[2]) if len(parts) > 2 else 0
            node = scope.nodes.get(node_name)
            if node is None:
                raise ConverterError(f"function {scope.fn_name!r} refers to unknown node {node_name!r}")
            outs = self.node_outputs(scope, node_name)
            names = OUTPUT_ARGS.get(node.get("op"))
            if names and arg in names:
                idx += names.index(arg)
            if idx >= len(outs):
                raise ConverterError(f"{self.where(scope, node)}: output {arg}:{idx} does not exist")
            return outs[idx]
        name, _, idx = ref.partition(":")
        outs = self.node_outputs(scope, name)
        idx = int(idx or 0)
        if idx >= len(outs):
            raise ConverterError(f"graph node {name!r} has no output {idx}")
        return outs[idx]

    def node_outputs(self, scope, name):
        hit = scope.memo.get(name)
        if hit is not None:
            return hit
        node = scope.nodes.get(name)
        if node is None:
            where = f"function {scope.fn_name!r}" if scope.fn_name else "the graph"
            raise ConverterError(f"{where} has no node {name!r}")
        scope.memo[name] = None
        try:
            outs = self.lower_node(scope, node)
        except TFNodeError:
            raise
        except ConverterError as e:
            raise TFNodeError(f"{self.where(scope, node)}: {e}") from None
        if not isinstance(outs, (list, tuple)):
            outs = [outs]
        scope.memo[name] = list(outs)
        return scope.memo[name]

    def inputs(self, scope, node):
        return [r for r in node.get("input", ()) if not r.startswith("^")]

    def lower_node(self, scope, node):
        from .ops_extra import OPS      # ops.py's lowerings and ops_extra.py's

        op = node.get("op")
        if op in PASSTHROUGH:
            ins = [self.get(scope, r) for r in self.inputs(scope, node)]
            return ins
        fn = OPS.get(op)
        if fn is None:
            self.fail(scope, node, "is not supported by tinylite's TensorFlow frontend. Supported ops: "
                      + ", ".join(sorted(set(OPS) | PASSTHROUGH)) + ".")
        return fn(self, scope, node)

    # -- functions --

    def call(self, fn_name, args, caller_scope=None, caller_node=None):
        fdef = self.g.functions.get(fn_name)
        if fdef is None:
            raise ConverterError(f"function {fn_name!r} is not in the graph's function library")
        sig = fdef["signature"]
        in_args = sig.get("input_arg", [])
        if len(in_args) != len(args):
            raise ConverterError(f"function {fn_name!r} takes {len(in_args)} inputs, the call passes {len(args)}")
        bound = self.g.bound_inputs.get(fn_name)
        if bound:
            start = len(args) - len(bound)
            args = list(args)
            for k, loader in enumerate(bound):
                if loader is not None and (isinstance(args[start + k], Resource) or args[start + k] is None):
                    args[start + k] = Resource(loader, in_args[start + k]["name"])
        nodes = {n["name"]: n for n in fdef.get("node_def", [])}
        scope = Scope(nodes, {a["name"]: s for a, s in zip(in_args, args)}, fn_name, True)
        ret = fdef.get("ret", {})
        outs = []
        for a in sig.get("output_arg", []):
            ref = ret.get(a["name"])
            if ref is None:
                raise ConverterError(f"function {fn_name!r}: output {a['name']!r} has no value")
            outs.append(self.get(scope, ref))
        return outs


def lower_graph(builder, graph, inputs, outputs, fixed_batch=False, preset=None):
    """Lower `graph` on `builder`: inputs [(signature name, tensor ref, dtype enum, shape)], outputs
    [(signature name, tensor ref)]."""
    low = Lowerer(builder, graph)
    scope = Scope(graph.nodes, {}, None, False)
    for name, sym in (preset or {}).items():
        scope.memo[name] = [sym]
    for key, ref, dtype, shape in inputs:
        name = ref.split(":")[0]
        node = graph.nodes.get(name)
        if node is None:
            raise ConverterError(f"input {ref!r} is not a node of the graph")
        if shape is None:
            shape = _placeholder_shape(node)
        if shape is None:
            raise ConverterError(f"input {key!r} ({ref}) has an unknown rank; give its shape (from_frozen_graph's "
                                 "input_shapes; for a SavedModel, export it with a tf.TensorSpec of known rank in "
                                 "the input_signature)")
        if fixed_batch:
            shape = tuple(1 if d is None else d for d in shape)
        dt = dtype_of(dtype, f"input {key!r}")
        tname = name if fixed_batch else (ref if ":" in ref else ref + ":0")
        val = builder.input(tname, shape, dt, signature_name=key)
        narrow = narrowed(dt)
        if narrow != np.dtype(dt):
            # The input keeps its signature type; the graph computes it as every int64 / float64
            # tensor here (int32 / float32, see ops._tflite_dtype), so the types of the ops it feeds
            # agree with their constants'.
            wide = val
            val = builder.op("CAST", [val], shape, tname + "/narrowed",
                             {"in_data_type": np.dtype(dt).name.upper(), "out_data_type": narrow.name.upper()},
                             out_dtypes=narrow)
            low.wide[val.index] = wide
        scope.memo[name] = [val]
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20000))
    try:
        results = []
        for key, ref, *dtype in outputs:
            sym = low.get(scope, ref)
            results.append((key, ref, sym, dtype_of(dtype[0], f"output {key!r}") if dtype else None))
        for key, ref, sym, dtype in results:
            val = low.v(sym, ref)
            if dtype is not None and np.dtype(dtype) != np.dtype(val.dtype) and narrowed(dtype) == np.dtype(val.dtype):
                # An int64 / float64 output, computed narrowed, gets its signature type back.
                val = builder.op("CAST", [val], val.shape, ref + "/widened",
                                 {"in_data_type": np.dtype(val.dtype).name.upper(),
                                  "out_data_type": np.dtype(dtype).name.upper()}, out_dtypes=np.dtype(dtype))
            if val.index in builder.sg.inputs or val.index in builder.sg.outputs or val.const is not None:
                val = builder.op("RESHAPE", [val, builder.const(np.array([-1 if d is None else d for d in val.shape],
                                                                          np.int32), ref + "/shape")],
                                 val.shape, ref)
            name = ref.split(":")[0] if fixed_batch else (ref if ":" in ref else ref + ":0")
            builder.sg.tensors[val.index].name = builder._unique(name)
            builder.output(val, key)
    finally:
        sys.setrecursionlimit(limit)


def narrowed(dtype):
    """The type the graph computes a TensorFlow type in: int64 as int32, float64 as float32, and
    float16 (a Keras mixed_float16 model's compute type, which few TFLite kernels take) as float32."""
    dtype = np.dtype(dtype)
    return {np.dtype(np.int64): np.dtype(np.int32), np.dtype(np.float64): np.dtype(np.float32),
            np.dtype(np.float16): np.dtype(np.float32)}.get(dtype, dtype)


def _placeholder_shape(node):
    return proto_shape(_attr(node, "shape"))


def dtype_name(enum):
    return DTYPE_NAMES.get(enum, str(enum))


__all__ = ["Lowerer", "Partial", "Resource", "Scope", "TList", "lower_graph", "bshape"]
