"""Compatibility for kernels written before the quantized paths moved into
their ops' modules: ``_quantized.prepare_<op>(node)`` runs the node's
``prepare_quantized`` (see _quantization.py), and the shared helpers are
those of _quantization."""


def __getattr__(name):
    from . import _quantization

    if name.startswith("prepare_"):
        return _quantization.prepare_quantized
    return getattr(_quantization, name)
