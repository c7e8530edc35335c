"""Optimized MUL (8-bit): one lookup in the table of the reference kernel's
results over every input pair (_pair_table): bit-exact by construction;
int16: the product and the Requantizer's passes (_add16)."""
from __future__ import annotations

import numpy as np

from .. import mul as reference
from . import _add16, _pair_table, register
from .._base import op_data


@op_data
class OpData(reference.OpData, _pair_table.PairTableData):
    """The reference's op data and the table of its results."""


@register("MUL", dtypes=(np.int8, np.uint8), when=lambda node, ref: ref is reference._eval_mul)
def prepare_pair_table(node, reference_fn):
    return _pair_table.plan(node, reference_fn)


# --- int16: see _add16.py ---

register("MUL", dtypes=(np.int16,), when=_add16.mul_applies, name="mul.prepare_int16")(_add16.prepare_mul)
