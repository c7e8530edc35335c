"""Optimized SUB (8-bit): one lookup in the table of the reference kernel's
results over every input pair (_pair_table): bit-exact by construction."""
from __future__ import annotations

import numpy as np

from .. import _binary as reference
from . import _add16, _pair_table, register
from .._base import op_data


@op_data
class OpData(reference.BinaryData, _pair_table.PairTableData):
    """The reference's op data and the table of its results."""


# Not with an output multiplier above 1: LiteRT's result then depends on where an element falls in
# its loop (see _fixedpoint.rounding_divide_by_negative_pot_x86), which a table of pairs cannot hold.
@register("SUB", dtypes=(np.int8, np.uint8),
          when=lambda node, ref: ref is reference._eval_add_sub and node.data.q_out_shift <= 0)
def prepare_pair_table(node, reference_fn):
    return _pair_table.plan(node, reference_fn)


# --- int16, LiteRT's general path: see _add16.py ---

register("SUB", dtypes=(np.int16,), when=_add16.applies, name="sub.prepare_int16")(_add16.prepare)
