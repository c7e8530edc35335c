"""Quantized kernel paths (int8/uint8/int16, hybrid).  Filled in by the
quantization work; until then every entry point reports the op clearly."""
from ..errors import UnsupportedOpError


def _unsupported(node):
    types = ", ".join(s.dtype.name for s in node.inputs if s is not None)
    raise UnsupportedOpError(
        f"{node.op_name} (node {node.index}) with input types ({types}) is not supported yet: tinylite runs "
        "this op on float32 only for now.")


def __getattr__(name):
    if name.startswith("prepare_"):
        return _unsupported
    raise AttributeError(name)
