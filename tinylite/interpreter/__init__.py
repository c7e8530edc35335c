"""FlatBuffer model -> execution plan -> kernels."""
from .interpreter import (  # noqa: F401
    Interpreter,
    InterpreterWithCustomOps,
    OpResolverType,
    SignatureRunner,
    load_delegate,
)
