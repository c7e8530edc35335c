"""The runnable examples in the public API's docstrings run."""
import doctest
import importlib

import pytest

MODULES = ["tinylite.interpreter.interpreter", "tinylite.testing", "tinylite.tools.inspect",
           "tinylite.flatbuffer.reader", "tinylite.converter.api", "tinylite.tools.metadata",
           "tinylite.interpreter.tensor_values", "tinylite.interpreter.custom_ops", "tinylite.flatbuffer.strings"]
RUNNABLE = {"tinylite.interpreter.interpreter", "tinylite.testing", "tinylite.tools.inspect",
            "tinylite.tools.metadata", "tinylite.interpreter.tensor_values", "tinylite.interpreter.custom_ops",
            "tinylite.flatbuffer.strings"}


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    if name in RUNNABLE:
        assert result.attempted > 0, f"{name} has no runnable example"
