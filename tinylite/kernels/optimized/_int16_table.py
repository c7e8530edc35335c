"""int16 unary ops whose output depends on the input value alone (TANH and
LOGISTIC: the reference's table interpolation, gemmlowp's fixed-point functions;
RELU, RELU6, LEAKY_RELU: their requantization and clamp): the reference kernel run once over all
65536 inputs gives a table, bit-exact by construction, and an invoke is one
lookup with the input viewed as uint16 (against the reference's ten int64
passes).

Filling a table runs the reference over 65536 values (3-4 ms), so it is not
done at prepare (loading a model would pay it for every such node): the
first invoke fills it, and nodes whose tables would be equal (the same
reference kernel and op data: scales, multipliers) share one, across
interpreters too (a small cache, as _pair_table's)."""
from __future__ import annotations

import dataclasses
from collections import OrderedDict
from functools import partial

import numpy as np

from . import register
from ._cached import LazyTable, cached_calls

_CACHE_SIZE = 32            # tables of 128 KiB
_tables: OrderedDict = OrderedDict()


def _key(node, reference_fn):
    """What the reference's arithmetic depends on: its eval and the node's op data (every field)."""
    d = node.data
    names = [f.name for f in dataclasses.fields(d)] if dataclasses.is_dataclass(d) else sorted(vars(d))
    fields = []
    for name in names:
        v = getattr(d, name)
        if isinstance(v, np.ndarray):
            v = (v.dtype.str, v.shape, v.tobytes())
        elif callable(v):
            v = (getattr(v, "__module__", None), getattr(v, "__qualname__", repr(v)))
        fields.append((name, repr(v)))
    return (reference_fn.__module__, reference_fn.__qualname__, tuple(fields))


def table(node, reference_fn):
    """The reference's output for every int16 input (index: the input's uint16 bits), filled on first use."""

    def fill_into(array):
        reference_fn(node, [np.arange(65536, dtype=np.uint16).view(np.int16)], [array])
    return LazyTable(_key(node, reference_fn), np.int16, fill_into, _tables, _CACHE_SIZE)


def register_for(op_name: str, reference_eval):
    """Register the table kernel for `op_name`'s int16 nodes whose reference eval is `reference_eval`."""

    class _Buffers:
        def __init__(self, node, x, out):
            self.x, self.out = x, out
            t = table(node, reference_eval)
            self.calls = ([] if t.filled else [t.fill]) + \
                [partial(np.take, t.array, x.view(np.uint16), out=out, mode="clip")]

    _Buffers.__module__ = __name__
    label = reference_eval.__name__.lstrip("_").removeprefix("eval_")
    eval_table = cached_calls("opt_int16_table", _Buffers, f"eval_{label}_table")

    def applies(node, reference_fn):
        return reference_fn is reference_eval and node.outputs[0].dtype == np.int16

    def prepare(node, reference_fn):
        return eval_table

    register(op_name, dtypes=(np.int16,), when=applies, name=f"{op_name.lower()}.prepare_{label}_table")(prepare)
    return eval_table
