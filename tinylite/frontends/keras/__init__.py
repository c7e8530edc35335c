"""Keras frontend: .h5 / .keras files (read with h5py alone) and live keras.Model objects."""
from __future__ import annotations


def load(source):
    """A ModelSpec from a file path or a live keras.Model."""
    import os

    if isinstance(source, (str, os.PathLike)):
        from .files import load_file

        return load_file(source)
    from .live import from_live_model

    return from_live_model(source)


def convert(source, passes: bool = True, record=None):
    """A file path or keras.Model -> tinylite.graph.Model."""
    from .lower import convert_spec

    return convert_spec(load(source), passes=passes, record=record)
