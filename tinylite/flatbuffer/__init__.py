"""The .tflite file format: read bytes into a `Model`, write a `Model` to bytes."""
from ..graph import Model  # noqa: F401
from .reader import parse, read_model, validate  # noqa: F401
from .writer import atomic_write, save_model, write_model  # noqa: F401
