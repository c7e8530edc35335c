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
    """A file path or keras.Model -> tinylite.graph.Model.  Errors about a file's
    model (an unsupported layer, say) name the file too."""
    import os

    from ...errors import ConverterError
    from .lower import convert_spec

    spec = load(source)
    if not isinstance(source, (str, os.PathLike)):
        return convert_spec(spec, passes=passes, record=record)
    try:
        return convert_spec(spec, passes=passes, record=record)
    except ConverterError as e:
        path = os.fspath(source)
        if path in str(e):
            raise
        e.args = (f"{path!r}: {e}",) + e.args[1:]
        raise
