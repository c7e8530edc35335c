"""`tf.compat.v1` names: the TF1 converter (`from_keras_model_file` and the TF1
attributes) under `tinylite.compat.v1.lite` and `tinylite.compat.v1`."""
from __future__ import annotations

import types

from ..converter.api import Optimize, OpsSet, RepresentativeDataset, TargetSpec
from ..converter.api import TFLiteConverterV1 as TFLiteConverter
from ..interpreter import Interpreter

lite = types.SimpleNamespace(
    TFLiteConverter=TFLiteConverter, Interpreter=Interpreter, Optimize=Optimize, OpsSet=OpsSet,
    TargetSpec=TargetSpec, RepresentativeDataset=RepresentativeDataset)

__all__ = ["TFLiteConverter", "Interpreter", "Optimize", "OpsSet", "TargetSpec", "RepresentativeDataset", "lite"]
