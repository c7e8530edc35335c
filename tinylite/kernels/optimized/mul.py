"""Optimized MUL (8-bit): one lookup in the table of the reference kernel's
results over every input pair (_pair_table): bit-exact by construction."""
from __future__ import annotations

import numpy as np

from .. import mul as reference
from . import _pair_table, register
from .._base import op_data


@op_data
class OpData(reference.OpData, _pair_table.PairTableData):
    """The reference's op data and the table of its results."""


@register("MUL", dtypes=(np.int8, np.uint8), when=lambda node, ref: ref is reference._eval_mul)
def prepare_pair_table(node, reference_fn):
    return _pair_table.plan(node, reference_fn)
