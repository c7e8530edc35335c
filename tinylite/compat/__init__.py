"""`tf.compat`-style namespaces: `tinylite.compat.v1.lite.TFLiteConverter`."""
from . import v1  # noqa: F401
