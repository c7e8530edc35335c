"""Builtin op kernels: one module per op, named as the op in the TFLite schema
in lower case (``CONV_2D`` -> ``conv_2d.py``).

These are the reference kernels.  Every kernel module defines
``prepare(node) -> eval_fn``.  ``prepare`` runs in ``allocate_tensors``: it
validates inputs, sets each output's ``shape``, precomputes what it can (onto
``node``) and returns the eval function for the dtypes at hand; the integer
types go through the module's ``prepare_quantized(node)``, which follows
LiteRT's reference arithmetic where ``node.reference`` is set
(OpResolverType.BUILTIN_REF) and its optimized arithmetic otherwise.
``eval_fn(node, inputs, outputs)`` runs in ``invoke``: plain numpy that writes
into the preallocated ``outputs`` arrays; buffers it keeps for the arrays it
was given go in ``node.cache``.  Faster versions live in ``optimized/`` (see
its docstring); the interpreter picks one per node after ``prepare``.

Optional module attributes:
- ``VALUE_FREE_INPUTS``: input positions whose values eval never reads (only
  their shapes), e.g. SHAPE's input; lets constant folding go through them.
- ``FOLDABLE = False``: never evaluate at prepare time (stateful ops).

Modules are imported on first use, so ``import tinylite`` stays fast.
"""
from __future__ import annotations

import functools
import importlib
import os

from ..errors import UnsupportedOpError

_HERE = os.path.dirname(__file__)


def supported_ops() -> list[str]:
    """Names of the builtin ops this interpreter can run."""
    return sorted(f[:-3].upper() for f in os.listdir(_HERE)
                  if f.endswith(".py") and not f.startswith("_"))


@functools.lru_cache(maxsize=None)
def kernel_for(op_name: str):
    """The kernel module of a builtin op; UnsupportedOpError when there is none."""
    module = op_name.lower()
    if not module.replace("_", "").isalnum() or not os.path.exists(os.path.join(_HERE, module + ".py")):
        from .custom import kernel_for_custom

        custom = kernel_for_custom(op_name)
        if custom is not None:
            return custom
        raise UnsupportedOpError(
            f"operator {op_name} is not supported by the tinylite interpreter. Supported builtin ops: "
            f"{', '.join(supported_ops())}. Convert the model without this op, or run it with ai-edge-litert.")
    return importlib.import_module(f"{__name__}.{module}")


def unsupported_detail(op_name: str, node) -> str:
    """What an unsupported-op error adds for a builtin op: the node's input types
    and whether LiteRT 2.3's builtin resolver runs the op."""
    from ..flatbuffer.schema import OP_CODES
    from ..tools.ops_table import LITERT_BUILTINS

    if op_name not in OP_CODES:
        return ""
    types = ", ".join("-" if s is None else s.dtype.name for s in node.inputs)
    litert = ("LiteRT 2.3's builtin resolver registers this op" if op_name in LITERT_BUILTINS
              else "LiteRT's builtin resolver does not run it either")
    return f" [{op_name} with input types ({types}); {litert}; see docs/ops.md]"
