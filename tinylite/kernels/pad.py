"""PAD: surround the input with zeros (the zero point when quantized); paddings
input is [rank, 2] of (before, after)."""
from ._layout import prepare_pad as prepare  # noqa: F401
