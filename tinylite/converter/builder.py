"""`GraphBuilder`: build a `tinylite.graph.Model` op by op.

Frontends lower their layers through it: inputs, constants and operators with
options given by schema field names.  Each value carries its static shape, with
``None`` for a dimension known only at run time (the batch); such tensors get a
``shape_signature`` of -1 there, so `resize_tensor_input` works on the file.
`finish()` runs the graph passes, sets op versions, adds the signature and the
`min_runtime_version` metadata, and returns the model.
"""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from ..flatbuffer.schema import OP_CODES, tensor_type
from ..graph import Metadata, Model, Operator, SignatureDef, Subgraph, Tensor, TensorMap
from .options import set_options

# Ops whose TensorFlow-written form carries no options table (their options are inputs).
_NO_OPTIONS = {"RESHAPE"}


class Value:
    """A tensor of the graph being built: its index, static shape and dtype."""

    __slots__ = ("index", "shape", "dtype", "const")

    def __init__(self, index: int, shape, dtype, const=None):
        self.index = index
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.const = const

    @property
    def rank(self) -> int:
        return len(self.shape)

    def __repr__(self):
        return f"Value(#{self.index}, {self.shape}, {self.dtype})"


class GraphBuilder:
    def __init__(self):
        self.model = Model(description="tinylite converted.")
        self.sg = Subgraph(name="main")
        self.model.subgraphs.append(self.sg)
        self._names: set[str] = set()
        self.input_names: list[str] = []
        self.output_names: list[str] = []

    # -- tensors --

    def _unique(self, name: str) -> str:
        base, k = name, 1
        while name in self._names:
            name = f"{base}_{k}"
            k += 1
        self._names.add(name)
        return name

    def _tensor(self, name, shape, dtype, buffer=0) -> int:
        dims = [1 if d is None else int(d) for d in shape]
        dynamic = any(d is None for d in shape)
        self.sg.tensors.append(Tensor(
            name=self._unique(name),
            shape=np.array(dims, np.int32),
            type=tensor_type(dtype),
            buffer=buffer,
            shape_signature=np.array([-1 if d is None else int(d) for d in shape], np.int32) if dynamic else None,
            has_rank=True,
        ))
        return len(self.sg.tensors) - 1

    def input(self, name: str, shape, dtype=np.float32, signature_name: str | None = None) -> Value:
        index = self._tensor(name, shape, dtype)
        self.sg.inputs.append(index)
        self.input_names.append(signature_name or name)
        return Value(index, shape, dtype)

    def const(self, array, name: str, dtype=None) -> Value:
        array = np.asarray(array, dtype=dtype)
        if not array.flags.c_contiguous:          # (ascontiguousarray would make a scalar 1-D)
            array = _c_order(array)
        if array.dtype == np.float64:
            array = array.astype(np.float32)
        if array.dtype == np.int64 and dtype is None:
            array = array.astype(np.int32)
        buffer = self.model.add_buffer(array)
        index = self._tensor(name, array.shape, array.dtype, buffer)
        return Value(index, array.shape, array.dtype, const=array)

    def output(self, value: Value, name: str) -> None:
        self.sg.outputs.append(value.index)
        self.output_names.append(name)

    # -- subgraphs (a control-flow op's cond and body) --

    @contextmanager
    def subgraph(self, name: str):
        """Build into a new subgraph until the block ends; yields its index (what a WHILE's
        cond_subgraph_index / body_subgraph_index name).  Its tensors, constants included, are
        its own, as the schema wants: a value of another subgraph cannot be read in it.

        >>> b = GraphBuilder()
        >>> with b.subgraph("cond") as k:
        ...     i = b.param("i", (), np.int32)
        ...     b.result(b.op("LESS", [i, b.const(np.int32(3), "n")], (), "less", out_dtypes=np.bool_))
        >>> k, len(b.model.subgraphs[k].inputs), b.sg is b.model.subgraphs[0]
        (1, 1, True)
        """
        sg = Subgraph(name=name)
        self.model.subgraphs.append(sg)
        outer, self.sg = self.sg, sg
        try:
            yield len(self.model.subgraphs) - 1
        finally:
            self.sg = outer

    def param(self, name: str, shape, dtype=np.float32) -> Value:
        """An input of the subgraph being built that is not one of the model's (see `subgraph`)."""
        index = self._tensor(name, shape, dtype)
        self.sg.inputs.append(index)
        return Value(index, shape, dtype)

    def result(self, value: Value) -> None:
        """An output of the subgraph being built (see `subgraph`)."""
        self.sg.outputs.append(value.index)

    # -- operators --

    def op(self, op_name: str, inputs, out_shapes, name: str, options: dict | None = None,
           out_dtypes=None, out_names=None):
        """Add an operator; returns its output Value (or a list when out_shapes is a list of shapes)."""
        single = not out_shapes or not isinstance(out_shapes[0], (tuple, list))
        shapes = [out_shapes] if single else list(out_shapes)
        if out_dtypes is None:
            first = next((v for v in inputs if v is not None), None)
            out_dtypes = [first.dtype if first is not None else np.float32] * len(shapes)
        elif not isinstance(out_dtypes, (list, tuple)):
            out_dtypes = [out_dtypes] * len(shapes)
        names = out_names or ([name] if single else [f"{name}:{k}" for k in range(len(shapes))])
        outs = [Value(self._tensor(n, s, d), s, d) for n, s, d in zip(names, shapes, out_dtypes)]
        op = Operator(self.model.opcode_index(OP_CODES[op_name]),
                      [-1 if v is None else v.index for v in inputs], [v.index for v in outs])
        if not (op_name in _NO_OPTIONS and not options):
            set_options(op, op_name, options)
        self.sg.operators.append(op)
        return outs[0] if single else outs

    # -- the file --

    def finish(self, passes: bool = True, signature_key: str = "serving_default") -> Model:
        from . import versions
        from .passes import run_passes

        if passes:
            run_passes(self.model)
        versions.set_versions(self.model)
        sg = self.sg
        self.model.signature_defs = [SignatureDef(
            [TensorMap(n, i) for n, i in zip(_dedupe(self.input_names), sg.inputs)],
            [TensorMap(n, i) for n, i in zip(_dedupe(self.output_names), sg.outputs)],
            signature_key, 0)]
        runtime = versions.runtime_version_bytes(self.model)
        self.model.metadata.append(Metadata("min_runtime_version", self.model.add_buffer(runtime)))
        return self.model


def _c_order(array: np.ndarray) -> np.ndarray:
    """A C-ordered copy.  A transposed matrix (every Dense kernel) is copied 64 columns at a
    time: numpy's element-strided copy misses the cache on each read, and is 2-4x slower for
    a large kernel."""
    if array.ndim == 2 and array.flags.f_contiguous and min(array.shape) >= 64 and array.size >= 1 << 16:
        out = np.empty(array.shape, array.dtype)
        for j in range(0, array.shape[1], 64):
            out[:, j:j + 64] = array[:, j:j + 64]
        return out
    return array.copy(order="C")


def _dedupe(names):
    seen, out = {}, []
    for n in names:
        if n in seen:
            seen[n] += 1
            n = f"{n}_{seen[n]}"
        else:
            seen[n] = 0
        out.append(n)
    return out
