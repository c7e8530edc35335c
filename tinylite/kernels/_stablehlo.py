"""What the StableHLO elementwise ops (STABLEHLO_ADD, _MULTIPLY, _MAXIMUM,
_MINIMUM, _AND, _SHIFT_LEFT) share: two inputs of one shape and type (no
broadcasting), the output of that shape.  Integers wrap as in C; maximum and
minimum are std::max/std::min (a NaN first operand wins, a NaN second loses)."""
from __future__ import annotations

from typing import Callable

import numpy as np
from ._base import OpDataBase, op_data


@op_data
class StablehloData(OpDataBase):
    """The fields this module's helpers fill on behalf of an op (whose OpData subclasses this)."""

    fn: Callable = None

NUMERIC = (np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64,
           np.uint8, np.uint16, np.uint32, np.uint64)


def prepare_elementwise(node, fn, dtypes):
    d = node.draft(StablehloData)
    a, b = node.inputs[0], node.inputs[1]
    node.expect_dtype(a, *dtypes)
    if a.dtype != b.dtype or tuple(a.shape) != tuple(b.shape):
        node.fail(f"inputs need one type and shape, got {a.dtype.name} {list(a.shape)} and "
                  f"{b.dtype.name} {list(b.shape)}")
    node.outputs[0].shape = tuple(a.shape)
    d.fn = fn
    return eval_elementwise


def eval_elementwise(node, inputs, outputs):
    with np.errstate(over="ignore", invalid="ignore"):
        outputs[0][...] = node.data.fn(inputs[0], inputs[1])


def std_max(a, b):
    return np.where(a < b, b, a)


def std_min(a, b):
    return np.where(b < a, b, a)


def body_op(node, key):
    """The one op of the computation subgraph named by option ``key`` (a
    reduction body, a scatter update): LiteRT reads the op's code and runs its
    own loop rather than the subgraph, so only that one op counts.  None when
    the subgraph has no op (scatter's plain update)."""
    model = node.runner.model
    k = int(node.options.get(key, 0))
    if not 0 < k < len(model.subgraphs) or k == node.runner.index:
        node.fail(f"{key} {k} is not another subgraph of the model (it has {len(model.subgraphs)})")
    ops = model.subgraphs[k].operators
    if len(ops) > 1:
        node.fail(f"subgraph {k} ({key}) holds {len(ops)} ops; LiteRT runs a computation of at most one op")
    return model.op_name(ops[0]) if ops else None


def index_vectors(indices, index_vector_dim):
    """``indices`` with its index-vector dimension moved last (a trailing
    dimension of size 1 when index_vector_dim is the rank)."""
    if index_vector_dim == indices.ndim:
        return indices[..., None]
    return np.moveaxis(indices, index_vector_dim, -1)


def int_list(node, name):
    v = node.options.get(name)
    return [] if v is None else [int(a) for a in np.asarray(v).reshape(-1)]
