"""PADV2: PAD with the padding value given as input 2."""
from ._layout import prepare_pad as prepare  # noqa: F401
