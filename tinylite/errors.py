"""Exceptions tinylite raises.  Each message says what was received, what was
expected and how to fix it.  They subclass the built-in types LiteRT raises for
the same situations, so code written against tf.lite catches them unchanged."""


class InvalidModelError(ValueError):
    """The bytes given are not a valid .tflite model (corrupt, truncated, wrong file)."""


class UnsupportedOpError(ValueError):
    """The model uses an operator (or an operator variant) tinylite cannot run."""


class ConverterError(Exception):
    """A model could not be converted; the message names the layer and the option."""
