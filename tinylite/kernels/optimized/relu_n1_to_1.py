"""Optimized RELU_N1_TO_1, int8/uint8: the reference's 256-entry table as one lookup by byte (see _unary_table)."""
from . import _unary_table

_unary_table.register_for("RELU_N1_TO_1")
