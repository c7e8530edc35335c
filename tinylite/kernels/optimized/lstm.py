"""Optimized LSTM (one step, the FULL kernel type): the integer cell without
peepholes or layer norm, all gates per call (_integer_lstm.py, shared with
UNIDIRECTIONAL_SEQUENCE_LSTM)."""
from __future__ import annotations

import numpy as np

from .. import lstm as reference
from .._base import op_data
from . import _integer_lstm, register


@op_data
class OpData(reference.OpData, _integer_lstm.FastCellData):
    """The reference LSTM's op data and the fast cell."""


@register("LSTM", dtypes=(np.int8,), when=_integer_lstm.applies)
def prepare_integer(node, reference_fn):
    return _integer_lstm.prepare_fast(node)
