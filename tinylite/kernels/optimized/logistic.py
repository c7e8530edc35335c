"""Optimized LOGISTIC, int8/uint8: the reference's 256-entry table as one lookup by byte (see _unary_table);
int16: the reference's results over every input as one lookup (see _int16_table)."""
from .. import _activations
from . import _int16_table, _unary_table

_unary_table.register_for("LOGISTIC")
eval_int16_table = _int16_table.register_for("LOGISTIC", _activations._eval_logistic16)
eval_int16_gemmlowp_table = _int16_table.register_for("LOGISTIC", _activations._eval_logistic16_gemmlowp)
