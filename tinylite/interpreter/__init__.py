"""FlatBuffer model -> execution plan -> kernels."""
from .interpreter import Interpreter, OpResolverType, SignatureRunner  # noqa: F401
