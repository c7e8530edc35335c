"""Optimized LEAKY_RELU, int8/uint8: the reference's 256-entry table as one lookup by byte (see _unary_table);
int16: its results over every input as one lookup (_int16_table)."""
from .. import _quantization
from . import _int16_table, _unary_table

_unary_table.register_for("LEAKY_RELU")
# int16: the reference's results over every input as one lookup (see _int16_table).
eval_int16_table = _int16_table.register_for("LEAKY_RELU", _quantization._eval_direct)
