"""tinylite: the TensorFlow Lite toolchain in pure Python (numpy).

Mirrors ``tf.lite``::

    import tinylite as lite
    interpreter = lite.Interpreter(model_path="model.tflite")

Submodules load on first use so that ``import tinylite`` stays fast.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

_LAZY = {
    "Interpreter": ("tinylite.interpreter", "Interpreter"),
    "SignatureRunner": ("tinylite.interpreter", "SignatureRunner"),
    "InterpreterWithCustomOps": ("tinylite.interpreter", "InterpreterWithCustomOps"),
    "load_delegate": ("tinylite.interpreter", "load_delegate"),
    "OpResolverType": ("tinylite.interpreter", "OpResolverType"),
    "InvalidModelError": ("tinylite.errors", "InvalidModelError"),
    "UnsupportedOpError": ("tinylite.errors", "UnsupportedOpError"),
    "ConverterError": ("tinylite.errors", "ConverterError"),
    "read_model": ("tinylite.flatbuffer", "read_model"),
    "write_model": ("tinylite.flatbuffer", "write_model"),
    "TFLiteConverter": ("tinylite.converter.api", "TFLiteConverter"),
    "Optimize": ("tinylite.converter.api", "Optimize"),
    "OpsSet": ("tinylite.converter.api", "OpsSet"),
    "TargetSpec": ("tinylite.converter.api", "TargetSpec"),
    "RepresentativeDataset": ("tinylite.converter.api", "RepresentativeDataset"),
    "QuantizationDebugger": ("tinylite.converter.quantize.debugger", "QuantizationDebugger"),
    "QuantizationDebugOptions": ("tinylite.converter.quantize.debugger", "QuantizationDebugOptions"),
    "experimental": ("tinylite.lite", "experimental"),
    "lite": ("tinylite.lite", None),
    "compat": ("tinylite.compat", None),
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        module, attr = _LAZY[name]
        value = importlib.import_module(module)
        if attr is not None:
            value = getattr(value, attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'tinylite' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY))
