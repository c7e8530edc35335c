"""Optimized LSTM (one step, the FULL kernel type): the integer cell without
peepholes or layer norm, all gates per call (_integer_lstm.py, shared with
UNIDIRECTIONAL_SEQUENCE_LSTM)."""
import numpy as np

from . import _integer_lstm, register


@register("LSTM", dtypes=(np.int8,), when=_integer_lstm.applies)
def prepare_integer(node, reference_fn):
    return _integer_lstm.prepare_fast(node)
