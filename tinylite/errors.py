"""Exceptions tinylite raises.  Each message says what was received, what was
expected and how to fix it.  They subclass the built-in types LiteRT raises for
the same situations, so code written against tf.lite catches them unchanged."""


class InvalidModelError(ValueError):
    """The bytes given are not a valid .tflite model (corrupt, truncated, wrong file)."""


class UnsupportedOpError(ValueError):
    """The model uses an operator (or an operator variant) tinylite cannot run."""


class ConverterError(Exception):
    """A model could not be converted; the message names the layer and the option."""


class DelegateLoadError(ValueError, OSError):
    """A delegate library cannot be loaded: tinylite runs no native delegates.

    A ValueError as LiteRT's ``load_delegate`` raises when a delegate fails, and an
    OSError as it raises when the library is missing, so either ``except`` falls
    back to the CPU as it does with LiteRT."""
