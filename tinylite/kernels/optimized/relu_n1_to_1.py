"""Optimized RELU_N1_TO_1.  int8/uint8: the reference's 256-entry table as one lookup by byte
(see _unary_table).  float32: the clamp as bound calls (one clip pass for two bounds,
np.maximum with an array bound for one; see _float_clamp); the reference's values."""
import numpy as np

from .. import relu_n1_to_1 as reference
from . import _unary_table, register
from ._float_clamp import clamp_kernel

eval_float = clamp_kernel(-1, 1)
eval_float.__module__, eval_float.__name__ = __name__, "eval_float"


@register("RELU_N1_TO_1", dtypes=(np.float32,), when=lambda node, ref: ref is reference.eval_float)
def prepare_clamp(node, reference_fn):
    return eval_float


_unary_table.register_for("RELU_N1_TO_1")
