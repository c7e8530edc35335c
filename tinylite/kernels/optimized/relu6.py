"""Optimized RELU6.  int8/uint8: the reference's 256-entry table as one lookup by byte
(see _unary_table); int16: its results over every input as one lookup (_int16_table).
float32: the clamp as bound calls (one clip pass for two bounds, np.maximum with an
array bound for one; see _float_clamp); the reference's values."""
import numpy as np

from .. import _quantization, relu6 as reference
from . import _int16_table, _unary_table, register
from ._float_clamp import clamp_kernel

eval_float = clamp_kernel(0, 6)
eval_float.__module__, eval_float.__name__ = __name__, "eval_float"


@register("RELU6", dtypes=(np.float32,), when=lambda node, ref: ref is reference.eval_float)
def prepare_clamp(node, reference_fn):
    return eval_float


_unary_table.register_for("RELU6")
# int16: the reference's results over every input as one lookup (see _int16_table).
eval_int16_table = _int16_table.register_for("RELU6", _quantization._eval_direct)
