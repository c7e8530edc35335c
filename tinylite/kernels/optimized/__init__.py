"""Optimized kernels: faster versions of the reference kernels of kernels/<op>.py.

The reference kernel of an op (``kernels/<op>.py``) states its meaning for
every type; the kernels here compute the same thing faster for the cases
they name (a dtype, a geometry, constant weights, a batch size), and where
LiteRT's optimized kernels round differently from its reference ones
(ruy's requantization, SIMD blocks), they follow LiteRT's optimized kernel
and say so next to the code.

How the interpreter uses them.  For each node it runs the reference
``prepare(node)`` first (validation, output shapes, precomputed op data) and
gets the reference eval function.  Under ``OpResolverType.BUILTIN`` /
``BUILTIN_WITHOUT_DEFAULT_DELEGATES`` (the default) it then calls
``select(node, reference_fn)``: the optimized kernels registered for the op,
in registration order, each whose condition holds is asked to prepare; the
first that returns an eval function runs instead of the reference.  Under
``OpResolverType.BUILTIN_REF`` nothing here runs.

Adding an optimized kernel.  Put it in ``optimized/<op_lower>.py`` (for a
bundled custom op, the name of its module in kernels/custom; the
module is imported the first time a node of that op is selected) and
register it::

    import numpy as np
    from . import register
    from .. import conv_2d as reference
    from .._base import op_data

    @op_data
    class OpData(reference.OpData):      # the reference's op data, and this kernel's
        wmat_bias: np.ndarray = None

    @register("CONV_2D", dtypes=(np.float32,), when=lambda node, ref: ref is reference.eval_float)
    def prepare_fast(node, reference_fn):
        d = node.draft(OpData)          # holds what the reference prepare computed
        d.wmat_bias = ...               # precompute, from d.geometry, d.wmat, ...
        return eval_fast                # or None: does not apply after all

- ``dtypes``: the dtypes of input 0 it runs on (None: any);
- ``when(node, reference_fn)``: anything else it needs (geometry, constant
  weights, batch); runs after the reference prepare, so output shapes and
  the reference's op data (``node.data``, still a draft) are there;
- the module's ``OpData`` (if it declares one) is requested for the node
  before the kernel prepares, so it must subclass the reference's (and any
  helper's whose fields the kernel fills, as _gemm.GemmData);
- the eval function has the reference's signature ``eval(node, inputs,
  outputs)`` and writes the same values: bit-exact for integer outputs
  (with LiteRT's optimized rounding, documented), within 1e-5 relative
  for float.  Its test goes in tests/kernels/test_optimized.py, which runs
  every registered kernel against the reference of its op.

A kernel registered earlier wins; register the most specific first.

Shared machinery of the integer kernels: _requantize (LiteRT's fixed-point
requantization computed exactly in float64), and integer sums computed
exactly in float32/float64 BLAS and elementwise passes (exact while every
partial sum stays below 2**24 or 2**53; each kernel checks the bound from its
constant weights at prepare); _pair_table (8-bit binary ops as one lookup in
the table of the reference kernel's results over every input pair);
_unary_table (8-bit unary ops whose reference is a 256-entry table, as one
lookup by the input byte).  More kernels follow the same idea where an
output depends on few integers (an 8-bit value, a window sum): QUANTIZE
8-bit -> integer, CONCATENATION's rescaled inputs, MEAN and equal-window
AVERAGE_POOL_2D tabulate the reference's arithmetic, exact by construction.
"""
from __future__ import annotations

import importlib
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

import numpy as np

_HERE = os.path.dirname(__file__)

# False: select() keeps every reference kernel (see reference_kernels).
ENABLED = True


@contextmanager
def reference_kernels():
    """Prepare models with the reference kernels only, in the default resolver mode
    (tests compare the two on random shapes and parameters)."""
    global ENABLED
    saved, ENABLED = ENABLED, False
    try:
        yield
    finally:
        ENABLED = saved


@dataclass(frozen=True)
class OptimizedKernel:
    """One registered optimized kernel and the condition under which it applies."""

    op_name: str
    prepare: Callable           # prepare(node, reference_fn) -> eval_fn or None
    dtypes: tuple | None        # input 0 dtypes it runs on; None: any
    when: Callable | None       # when(node, reference_fn) -> bool; None: always
    name: str
    module: str = ""            # the module declaring it (its OpData extends the reference's)

    def applies(self, node, reference_fn) -> bool:
        if self.dtypes is not None:
            x = node.inputs[0] if node.inputs else None
            if x is None or x.dtype not in self.dtypes:
                return False
        return self.when is None or bool(self.when(node, reference_fn))


_REGISTRY: dict[str, list[OptimizedKernel]] = {}
_LOADED: set[str] = set()


def register(op_name: str, *, dtypes=None, when=None, name=None):
    """Decorator registering ``prepare(node, reference_fn) -> eval_fn | None`` as an
    optimized kernel of `op_name` (see the module docstring)."""
    def attach(prepare):
        kernel = OptimizedKernel(op_name.upper(), prepare,
                                 None if dtypes is None else tuple(np.dtype(d) for d in dtypes), when,
                                 name or f"{prepare.__module__.rsplit('.', 1)[-1]}.{prepare.__name__}",
                                 prepare.__module__)
        _REGISTRY.setdefault(kernel.op_name, []).append(kernel)
        return prepare
    return attach


def _custom_modules() -> dict[str, str]:
    """A bundled custom op's optimized module is named as its kernel module in kernels/custom
    (Convolution2DTransposeBias -> convolution_2d_transpose_bias.py), by its upper-cased code."""
    from ..custom import BUNDLED

    return {code.upper(): module for code, module in BUNDLED.items()}


def kernels_for(op_name: str) -> list[OptimizedKernel]:
    """The optimized kernels registered for an op (importing its module on first use)."""
    op = op_name.upper()
    if op not in _LOADED:
        _LOADED.add(op)
        module = _custom_modules().get(op, op.lower())
        if module.replace("_", "").isalnum() and os.path.exists(os.path.join(_HERE, module + ".py")):
            importlib.import_module(f"{__name__}.{module}")
    return _REGISTRY.get(op, [])


def select(node, reference_fn):
    """The eval function to run for a prepared node in an optimized mode: the
    first registered optimized kernel that applies, else `reference_fn`.  An
    interpreter asking for exact float products (calibration: Node.exact_products)
    runs the reference kernels, whose products do not depend on the BLAS kernel."""
    if node.exact_products or not ENABLED:
        return reference_fn
    for kernel in kernels_for(node.op_name):
        if kernel.applies(node, reference_fn):
            data = getattr(sys.modules.get(kernel.module), "OpData", None)
            if data is not None:
                node.draft(data)       # the kernel's op data extends its reference's
            fn = kernel.prepare(node, reference_fn)
            if fn is not None:
                return fn
    return reference_fn


def all_kernels() -> list[OptimizedKernel]:
    """Every optimized kernel of this package (imports all its modules)."""
    for f in sorted(os.listdir(_HERE)):
        if f.endswith(".py") and not f.startswith("_"):
            kernels_for(f[:-3])
    return [k for ks in _REGISTRY.values() for k in ks]
