"""Custom ops a user registers with the interpreter, LiteRT's ``AddCustom`` in Python.

A custom op (``BuiltinOperator.CUSTOM`` with a ``custom_code``) runs the kernel
registered under its custom code.  A kernel is what tinylite's builtin kernels
are: ``prepare(node) -> eval``, where ``prepare`` runs in ``allocate_tensors``,
reads ``node.inputs`` (``TensorSpec``: ``shape``, ``dtype``, ``data`` for
constants), sets every ``node.outputs[k].shape`` and returns
``eval(node, inputs, outputs)``, which ``invoke`` calls with numpy arrays and
which writes into the preallocated ``outputs``.  ``node.custom_options`` holds
the op's raw option bytes.  What prepare computes for eval travels in a closure
or in a typed op-data object (``d = node.draft(MyData)`` with a class made by
``tinylite.kernels._base.op_data``, read back as ``node.data``): a node takes no
other attribute.

Register them in one of three ways (later ones win over earlier ones, and all of
them over the custom ops tinylite bundles in ``tinylite/kernels/custom``):

- ``Interpreter(..., custom_ops={"Name": prepare})``;
- ``InterpreterWithCustomOps(..., custom_op_registerers=[registerer])``, as in
  LiteRT: each registerer is called with an ``OpResolver`` and calls
  ``resolver.add_custom("Name", prepare)``.  A registerer may also be given by
  name: ``"package.module.function"`` (imported), or a name registered with
  ``register_registerer`` (LiteRT's registerer names are C symbols; tinylite
  runs no native code, so names resolve to Python functions);
- a kernel may be a ``prepare`` function or an object (a module, a class) with a
  ``prepare`` attribute; such an object may set ``FOLDABLE = True`` to let the
  interpreter run the op once at ``allocate_tensors`` when all its inputs are
  constants (a bare function is always run at ``invoke``).

>>> import numpy as np, tinylite
>>> from tinylite.testing import single_op_model
>>> content = single_op_model("TimesTwo", [("x", [2])], [("y", [2])])
>>> def times_two(node):                       # prepare: runs in allocate_tensors
...     node.outputs[0].shape = node.inputs[0].shape
...     def run(node, inputs, outputs):        # eval: runs in invoke
...         np.multiply(inputs[0], 2, out=outputs[0])
...     return run
>>> interpreter = tinylite.Interpreter(model_content=content, custom_ops={"TimesTwo": times_two})
>>> interpreter.allocate_tensors()
>>> interpreter.set_tensor(0, np.array([1.5, 4], np.float32))
>>> interpreter.invoke()
>>> interpreter.get_tensor(1)
array([3., 8.], dtype=float32)

The same op through a registerer, as ``tf.lite.experimental`` code writes it:

>>> def registerer(resolver):
...     resolver.add_custom("TimesTwo", times_two)
>>> interpreter = tinylite.InterpreterWithCustomOps(model_content=content, custom_op_registerers=[registerer])
>>> interpreter.allocate_tensors()

Without a registration the model fails at ``allocate_tensors``, naming the op:

>>> tinylite.Interpreter(model_content=content).allocate_tensors()
Traceback (most recent call last):
...
tinylite.errors.UnsupportedOpError: Encountered unresolved custom op: TimesTwo. ...
"""
from __future__ import annotations

import importlib
from typing import Callable

from ..errors import UnsupportedOpError

_NAMED: dict[str, Callable] = {}


def register_registerer(name: str, registerer: Callable | None = None):
    """Make `registerer` findable by `name` in ``custom_op_registerers=[name]``
    (LiteRT finds a C symbol of that name; tinylite, this Python function).
    Usable as a decorator: ``@register_registerer("MyOpsRegisterer")``."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"a registerer name must be a non-empty str, got {name!r}")

    def add(fn):
        if not callable(fn):
            raise ValueError(f"registerer {name!r} must be callable, got {type(fn).__name__}")
        _NAMED[name] = fn
        return fn
    return add if registerer is None else add(registerer)


class _UserKernel:
    """A user's kernel as the interpreter calls it: checks what prepare returns; never
    folded at allocate_tensors unless the kernel object sets FOLDABLE (it may keep state)."""

    def __init__(self, name, kernel):
        self.name = name
        self.kernel = kernel
        obj = kernel if callable(getattr(kernel, "prepare", None)) else None
        self._prepare = obj.prepare if obj is not None else kernel
        self.FOLDABLE = bool(getattr(obj, "FOLDABLE", False))
        self.VALUE_FREE_INPUTS = tuple(getattr(obj, "VALUE_FREE_INPUTS", ()))

    def prepare(self, node):
        fn = self._prepare(node)
        if not callable(fn):
            raise ValueError(f"the prepare function registered for custom op {self.name!r} returned "
                             f"{type(fn).__name__}; it must return eval(node, inputs, outputs)")
        return fn

    def __repr__(self):
        return f"<custom op {self.name!r}: {getattr(self._prepare, '__qualname__', self._prepare)!r}>"


def as_kernel(name, kernel):
    if not isinstance(name, str) or not name:
        raise ValueError(f"a custom op is registered under its custom code, a non-empty str; got {name!r}")
    if isinstance(kernel, _UserKernel):
        return _UserKernel(name, kernel.kernel)
    if callable(getattr(kernel, "prepare", None)) or callable(kernel):
        return _UserKernel(name, kernel)
    raise ValueError(f"custom op {name!r}: expected a prepare(node) function or an object with a prepare "
                     f"attribute, got {type(kernel).__name__}")


class OpResolver:
    """The custom ops of one interpreter; registerers receive it (LiteRT: a MutableOpResolver)."""

    def __init__(self):
        self.custom: dict[str, object] = {}

    def add_custom(self, name: str, kernel) -> None:
        """Run custom op `name` with `kernel` (a prepare function, or an object with `prepare`)."""
        self.custom[name] = as_kernel(name, kernel)

    # LiteRT's C++ spelling, for registerers ported from it.
    AddCustom = add_custom

    def find_custom(self, name: str):
        return self.custom.get(name)


def resolve_registerer(registerer) -> Callable:
    """A registerer given as a callable, a registered name or "module.function"."""
    if callable(registerer):
        return registerer
    if not isinstance(registerer, str):
        raise ValueError(f"custom_op_registerers holds str names or callables, got {type(registerer).__name__} "
                         f"({registerer!r:.60})")
    if registerer in _NAMED:
        return _NAMED[registerer]
    module, _, attr = registerer.rpartition(".")
    if module:
        try:
            found = getattr(importlib.import_module(module), attr)
        except ImportError as e:
            raise ValueError(f"Loading module '{module}' failed with error '{e}'. A registerer name is a "
                             "Python import path (package.module.function) or a name given to "
                             "tinylite.interpreter.custom_ops.register_registerer.") from None
        except AttributeError:
            found = None
        if callable(found):
            return found
    known = ", ".join(sorted(_NAMED)) or "none"
    raise ValueError(f"Looking up symbol '{registerer}' failed with error 'no registerer of that name: tinylite "
                     f"runs no native code, so a name must be a Python import path (package.module.function) "
                     f"or a name given to tinylite.interpreter.custom_ops.register_registerer (registered: "
                     f"{known})'.")


# Custom ops LiteRT 2.3 runs without a registration: its BuiltinOpResolver adds the first
# ones (tflite/core/kernels/register.cc); its default XNNPACK delegate runs MediaPipe's.
LITERT_BUNDLED = ("NumericVerify", "Mfcc", "AudioSpectrogram", "TFLite_Detection_PostProcess",
                  "aeq.hadamard_rotation")
LITERT_XNNPACK = ("Convolution2DTransposeBias", "MaxPoolingWithArgmax2D", "MaxUnpooling2D")


def unresolved(op_name: str, node_index: int, input_types: str) -> UnsupportedOpError:
    """The error for a custom op nothing registered (raised at allocate_tensors)."""
    if op_name in LITERT_BUNDLED:
        litert = "LiteRT runs it without a registration (its builtin op resolver bundles it)"
    elif op_name in LITERT_XNNPACK:
        litert = ("LiteRT runs it only through its default XNNPACK delegate (not with "
                  "BUILTIN_WITHOUT_DEFAULT_DELEGATES or BUILTIN_REF)")
    else:
        litert = "LiteRT needs it registered too (InterpreterWithCustomOps)"
    return UnsupportedOpError(
        f"Encountered unresolved custom op: {op_name}. Node number {node_index} ({op_name}) with inputs "
        f"{input_types} failed to prepare: tinylite bundles no kernel for it; {litert}. Register one: "
        f"tinylite.Interpreter(..., custom_ops={{{op_name!r}: prepare}}), where prepare(node) sets each "
        "node.outputs[k].shape and returns eval(node, inputs, outputs) (see help(tinylite.interpreter.custom_ops)).")
