"""`TFLiteConverter`: the `tf.lite.TFLiteConverter` API over tinylite's converter.

>>> converter = TFLiteConverter.from_keras_model_file("model.h5")   # doctest: +SKIP
>>> tflite_bytes = converter.convert()                              # doctest: +SKIP

The attribute surface is TensorFlow's (optimizations, target_spec,
representative_dataset, inference_input_type, ...).  Quantization is not
implemented yet: setting any quantization option makes `convert()` raise a
ConverterError that says so, instead of silently writing a float model.
"""
from __future__ import annotations

import enum
import os

from ..errors import ConverterError


class Optimize(enum.Enum):
    """Mirrors `tf.lite.Optimize`."""

    DEFAULT = "DEFAULT"
    OPTIMIZE_FOR_SIZE = "OPTIMIZE_FOR_SIZE"
    OPTIMIZE_FOR_LATENCY = "OPTIMIZE_FOR_LATENCY"
    EXPERIMENTAL_SPARSITY = "EXPERIMENTAL_SPARSITY"

    def __str__(self):
        return str(self.value)


class OpsSet(enum.Enum):
    """Mirrors `tf.lite.OpsSet`."""

    TFLITE_BUILTINS = "TFLITE_BUILTINS"
    SELECT_TF_OPS = "SELECT_TF_OPS"
    TFLITE_BUILTINS_INT8 = "TFLITE_BUILTINS_INT8"
    EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8 = \
        "EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8"
    EXPERIMENTAL_STABLEHLO_OPS = "EXPERIMENTAL_STABLEHLO_OPS"

    def __str__(self):
        return str(self.value)

    @staticmethod
    def get_options():
        return [str(o) for o in OpsSet]


class TargetSpec:
    """Mirrors `tf.lite.TargetSpec`."""

    def __init__(self, supported_ops=None, supported_types=None, experimental_select_user_tf_ops=None,
                 experimental_supported_backends=None):
        self.supported_ops = set(supported_ops) if supported_ops is not None else {OpsSet.TFLITE_BUILTINS}
        self.supported_types = set(supported_types) if supported_types is not None else set()
        self.experimental_select_user_tf_ops = set(experimental_select_user_tf_ops or ())
        self.experimental_supported_backends = experimental_supported_backends
        self._experimental_custom_op_registerers = []


class RepresentativeDataset:
    """Mirrors `tf.lite.RepresentativeDataset`: wraps a generator of input lists."""

    def __init__(self, input_gen):
        self.input_gen = input_gen


def dtype_name(dtype) -> str | None:
    """'float32', 'int8', ... for numpy dtypes, tf.DType-like objects and strings."""
    if dtype is None:
        return None
    name = getattr(dtype, "name", None)
    if isinstance(name, str) and not isinstance(dtype, type):
        return name
    try:
        import numpy as np

        return np.dtype(dtype).name
    except TypeError:
        return str(dtype)


def _ops_name(op) -> str:
    return op.value if isinstance(op, OpsSet) else str(op).rsplit(".", 1)[-1]


class TFLiteConverter:
    """Converts a Keras model to a .tflite FlatBuffer (`tf.lite.TFLiteConverter`)."""

    def __init__(self, source, _origin: str = "model"):
        self._source = source
        self._origin = _origin
        self.optimizations = set()
        self.representative_dataset = None
        self.target_spec = TargetSpec()
        self.inference_input_type = None
        self.inference_output_type = None
        self.allow_custom_ops = False
        self.exclude_conversion_metadata = False
        self.experimental_new_converter = True
        self.experimental_new_quantizer = True
        self.experimental_enable_resource_variables = True
        self._experimental_disable_per_channel = False
        self._experimental_disable_per_channel_quantization_for_dense_layers = False
        self.experimental_lower_to_saved_model = False

    # -- constructors --

    @classmethod
    def from_keras_model(cls, model):
        """From a live keras.Model (Sequential, Functional or subclassed; any backend)."""
        return cls(model, _origin=f"keras model {getattr(model, 'name', '')!r}")

    @classmethod
    def from_keras_model_file(cls, model_file, *args, **kwargs):
        """From a Keras .h5 or .keras file (read without Keras)."""
        if args or any(v is not None for v in kwargs.values()):
            raise ConverterError(
                "from_keras_model_file: input_arrays, input_shapes, output_arrays and custom_objects are not "
                "supported yet; the model's own inputs and outputs are converted.")
        return cls(os.fspath(model_file), _origin=os.fspath(model_file))

    @classmethod
    def from_saved_model(cls, saved_model_dir, signature_keys=None, tags=None):
        raise ConverterError(
            f"SavedModel import is not supported yet ({saved_model_dir!r}). Convert the Keras model instead: "
            "TFLiteConverter.from_keras_model(model), or save it with model.save('model.keras') and use "
            "from_keras_model_file.")

    @classmethod
    def from_concrete_functions(cls, funcs, trackable_obj=None):
        raise ConverterError("from_concrete_functions needs TensorFlow graphs, which tinylite does not read. "
                             "Convert the Keras model with TFLiteConverter.from_keras_model(model).")

    # -- conversion --

    def _quantization_requests(self) -> list[str]:
        asked = []
        if self.optimizations:
            asked.append(f"optimizations={sorted(str(o) for o in self.optimizations)}")
        if self.representative_dataset is not None:
            asked.append("representative_dataset")
        types = [dtype_name(t) for t in (self.target_spec.supported_types or ())]
        if any(t != "float32" for t in types):
            asked.append(f"target_spec.supported_types={types}")
        ops = {_ops_name(o) for o in (self.target_spec.supported_ops or ())}
        quant_ops = ops - {"TFLITE_BUILTINS", "SELECT_TF_OPS"}
        if quant_ops:
            asked.append(f"target_spec.supported_ops={sorted(quant_ops)}")
        for attr in ("inference_input_type", "inference_output_type"):
            v = dtype_name(getattr(self, attr))
            if v not in (None, "float32"):
                asked.append(f"{attr}={v}")
        return asked

    def _check_options(self) -> None:
        asked = self._quantization_requests()
        if asked:
            raise ConverterError(
                "quantization is not supported yet by tinylite's converter; these options ask for it: "
                + ", ".join(asked) + ". Convert without them to get a float32 model.")

    def convert_to_model(self):
        """The converted model as a tinylite.graph.Model (before serialization)."""
        self._check_options()
        from ..frontends.keras import convert

        return convert(self._source)

    def convert(self) -> bytes:
        """The .tflite FlatBuffer bytes."""
        from ..flatbuffer.writer import write_model

        return write_model(self.convert_to_model())


class TFLiteConverterV1(TFLiteConverter):
    """`tf.compat.v1.lite.TFLiteConverter`: the TF1 attributes too (quantization ones
    raise 'not supported yet' at convert time)."""

    def __init__(self, source, _origin: str = "model"):
        super().__init__(source, _origin)
        self.inference_type = None
        self.quantized_input_stats = None
        self.default_ranges_stats = None
        self.post_training_quantize = False
        self.drop_control_dependency = True
        self.reorder_across_fake_quant = False
        self.change_concat_input_ranges = False
        self.output_format = None
        self.dump_graphviz_dir = None
        self.dump_graphviz_video = False
        self.conversion_summary_dir = None
        self.target_ops = None

    def _quantization_requests(self) -> list[str]:
        asked = super()._quantization_requests()
        if dtype_name(self.inference_type) not in (None, "float32"):
            asked.append(f"inference_type={dtype_name(self.inference_type)}")
        if self.quantized_input_stats:
            asked.append("quantized_input_stats")
        if self.default_ranges_stats:
            asked.append("default_ranges_stats")
        if self.post_training_quantize:
            asked.append("post_training_quantize")
        ops = {_ops_name(o) for o in (self.target_ops or ())} - {"TFLITE_BUILTINS", "SELECT_TF_OPS"}
        if ops:
            asked.append(f"target_ops={sorted(ops)}")
        return asked

    def convert(self) -> bytes:
        fmt = self.output_format
        if fmt is not None and str(fmt).rsplit(".", 1)[-1] not in ("TFLITE",):
            raise ConverterError(f"output_format={fmt} is not supported; only TFLITE")
        return super().convert()
