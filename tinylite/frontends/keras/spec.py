"""The neutral description of a Keras model that every Keras source (an .h5
file, a .keras zip, a live keras.Model) is read into: layer configs as Keras
serializes them, and each layer's weights as numpy arrays."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class LayerSpec:
    """One Keras layer: its class, name and config as serialized, its weights and its calls."""

    class_name: str
    name: str
    config: dict
    weights: list = field(default_factory=list)      # [(variable name or None, np.ndarray)]
    # Each call of the layer: a list of input references (layer, node, tensor),
    # nested as Keras nests them (a merge layer takes one list), and kwargs.
    calls: list = field(default_factory=list)         # [(args, kwargs)]
    model: "ModelSpec | None" = None                  # a nested model

    def weight(self, names, position: int, required: bool = True):
        """A weight by variable name (one name or a tuple of aliases), else by its
        position in Keras's variable order."""
        names = (names,) if isinstance(names, str) else tuple(names)
        for n, w in self.weights:
            if n is not None and n.rsplit("/", 1)[-1].split(":")[0] in names:
                return w
        if 0 <= position < len(self.weights):
            return self.weights[position][1]
        if required:
            from ...errors import ConverterError

            raise ConverterError(f"layer {self.name!r} ({self.class_name}): weight {names[0]!r} is missing from "
                                 f"the model (found {len(self.weights)} weights)")
        return None


class Ref(tuple):
    """(layer name, node index, tensor index): one tensor of the model graph."""

    __slots__ = ()

    @property
    def layer(self):
        return self[0]


@dataclass
class ModelSpec:
    """A Keras model: its layers in config order and its input and output tensors."""

    name: str
    class_name: str                                   # "Sequential" | "Functional"
    layers: list = field(default_factory=list)        # [LayerSpec], in config order
    inputs: list = field(default_factory=list)        # [Ref]
    outputs: list = field(default_factory=list)       # [Ref]
    keras_version: str = "3"

    def layer(self, name: str) -> LayerSpec:
        for lay in self.layers:
            if lay.name == name:
                return lay
        raise KeyError(name)


def as_float32(a) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype.kind == "f" and a.dtype != np.float32:
        a = a.astype(np.float32)
    return a
