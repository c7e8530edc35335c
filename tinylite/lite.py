"""`tf.lite`-style names, so that code written against TensorFlow reads the same:

    import tinylite as tf_lite          # or: from tinylite import lite
    converter = tf_lite.TFLiteConverter.from_keras_model(model)
    interpreter = tf_lite.Interpreter(model_content=converter.convert())
"""
from __future__ import annotations

from .converter.api import (  # noqa: F401
    Optimize,
    OpsSet,
    RepresentativeDataset,
    TargetSpec,
    TFLiteConverter,
)
from .converter.quantize.debugger import QuantizationDebugger, QuantizationDebugOptions  # noqa: F401
from .errors import ConverterError  # noqa: F401
from .interpreter import Interpreter, InterpreterWithCustomOps, OpResolverType, load_delegate  # noqa: F401

__all__ = ["TFLiteConverter", "Interpreter", "OpResolverType", "Optimize", "OpsSet", "TargetSpec",
           "RepresentativeDataset", "ConverterError", "QuantizationDebugger", "QuantizationDebugOptions",
           "experimental"]


class experimental:  # noqa: N801 - mirrors the tf.lite.experimental namespace
    QuantizationDebugger = QuantizationDebugger
    QuantizationDebugOptions = QuantizationDebugOptions
    OpResolverType = OpResolverType
    load_delegate = staticmethod(load_delegate)
