"""`TFLiteConverter`: the `tf.lite.TFLiteConverter` API over tinylite's converter.

>>> converter = TFLiteConverter.from_keras_model_file("model.h5")   # doctest: +SKIP
>>> tflite_bytes = converter.convert()                              # doctest: +SKIP

The attribute surface is TensorFlow's (optimizations, target_spec,
representative_dataset, inference_input_type, ...), and the quantization mode
is chosen from it as TensorFlow chooses it (`quantization_config`): dynamic
range, float16, full integer int8 (float fallback, or strict with
TFLITE_BUILTINS_INT8) and 16x8.  tinylite additions: `denylisted_layers` /
`denylisted_ops` keep chosen layers (Keras layer names) or op types in float.
"""
from __future__ import annotations

import enum
import os
import warnings

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


_INT16X8 = "EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8"


def _ops_name(op) -> str:
    return op.value if isinstance(op, OpsSet) else str(op).rsplit(".", 1)[-1]


def _config(settings: dict):
    from .quantize import QuantConfig

    settings = dict(settings)
    mode, strict = settings.pop("mode"), settings.pop("strict")
    cfg = QuantConfig(**settings)
    cfg.mode = mode
    if strict is not None:
        cfg.strict = strict
    return cfg


def _for_signature(settings: dict, model) -> dict:
    """Quantization settings for one signature of a multi-signature model: its samples from
    a representative dataset of (signature_key, dict) pairs (others are skipped)."""
    dataset = settings.get("dataset")
    if dataset is None:
        return settings
    key = model.signature_defs[0].signature_key
    gen = dataset.input_gen if hasattr(dataset, "input_gen") else dataset

    def samples():
        for s in gen():
            if isinstance(s, (list, tuple)) and len(s) == 2 and isinstance(s[0], str) and isinstance(s[1], dict):
                if s[0] == key:
                    yield s
            else:
                yield s
    return dict(settings, dataset=samples)


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
        # tinylite: layers (Keras names) and op types (e.g. "SOFTMAX") kept in float when quantizing.
        self.denylisted_layers: list[str] = []
        self.denylisted_ops: list[str] = []
        self._build = None
        # tinylite: after converting, run the source model in Keras and the file in tinylite
        # on random inputs; fail above the threshold (None: by mode, see converter/verify.py),
        # naming the first diverging layer.  The measurement is left in `verification`.
        self.experimental_verify = False
        self.experimental_verify_threshold: float | None = None
        self.verification = None

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
        """From a SavedModel directory (tf.saved_model.save, Keras model.export), read without
        TensorFlow.  signature_keys: the signatures to convert (default serving_default); tags:
        the MetaGraphDef's tag set (default {"serve"}).

        >>> converter = TFLiteConverter.from_saved_model("saved_model_dir")   # doctest: +SKIP
        >>> tflite_bytes = converter.convert()                                # doctest: +SKIP
        """
        saved_model_dir = os.fspath(saved_model_dir)
        keys = None if signature_keys is None else list(signature_keys)
        tag_list = None if tags is None else sorted(set(tags))

        def build():
            from ..frontends.tf import convert_saved_model

            return convert_saved_model(saved_model_dir, keys, tag_list, merge=False)
        conv = cls(saved_model_dir, _origin=saved_model_dir)
        conv._build = build
        return conv

    @classmethod
    def from_concrete_functions(cls, funcs, trackable_obj=None):
        """From tf.function concrete functions: needs the caller's TensorFlow to trace them; each
        function's GraphDef (with its captured variables' values) is converted by tinylite."""
        funcs = list(funcs) if isinstance(funcs, (list, tuple)) else [funcs]
        if not funcs:
            raise ConverterError("from_concrete_functions: no functions given.")
        for f in funcs:
            if not hasattr(f, "graph") or not hasattr(f.graph, "as_graph_def"):
                raise ConverterError(
                    f"from_concrete_functions: {type(f).__name__} is not a TensorFlow ConcreteFunction "
                    "(tf.function(...).get_concrete_function()). TensorFlow is needed to trace a function; "
                    "without it, save the model (tf.saved_model.save / model.export) and use "
                    "TFLiteConverter.from_saved_model(dir).")

        def build():
            from ..frontends.tf.concrete import convert_concrete_functions

            return convert_concrete_functions(funcs)
        conv = cls(funcs, _origin="concrete functions")
        conv._build = build
        return conv

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

    def quantization_config(self):
        """The quantization mode TensorFlow would choose from these options (a QuantConfig);
        raises ConverterError for combinations TensorFlow refuses or tinylite does not support."""
        return _config(self._quant_settings())

    def _quant_settings(self) -> dict:
        """quantization_config's choice as QuantConfig fields (plus mode and strict), checked; without
        importing the quantizer, which a float conversion does not need."""
        opts = {str(o).rsplit(".", 1)[-1] for o in (self.optimizations or ())}
        unknown = opts - {o.value for o in Optimize}
        if unknown:
            raise ConverterError(f"optimizations: unknown value(s) {sorted(unknown)}; expected tf.lite.Optimize "
                                 "members (DEFAULT).")
        for old in ("OPTIMIZE_FOR_SIZE", "OPTIMIZE_FOR_LATENCY"):
            if old in opts:
                warnings.warn(f"Optimization option {old} is deprecated, please use optimizations="
                              "[Optimize.DEFAULT] instead.", DeprecationWarning, stacklevel=3)
        if "EXPERIMENTAL_SPARSITY" in opts:
            raise ConverterError("optimizations=[EXPERIMENTAL_SPARSITY] is not supported by tinylite; use "
                                 "Optimize.DEFAULT.")
        enabled = bool(opts & {"DEFAULT", "OPTIMIZE_FOR_SIZE", "OPTIMIZE_FOR_LATENCY"})
        ops = {_ops_name(o) for o in (self.target_spec.supported_ops or ())} or {"TFLITE_BUILTINS"}
        unsupported = ops - {"TFLITE_BUILTINS", "SELECT_TF_OPS", "TFLITE_BUILTINS_INT8", _INT16X8}
        if unsupported:
            raise ConverterError(f"target_spec.supported_ops={sorted(unsupported)} is not supported by tinylite.")
        types = {dtype_name(t) for t in (self.target_spec.supported_types or ())}
        bad_types = types - {"float32", "float16", "int8", "int16"}
        if bad_types:
            raise ConverterError(f"target_spec.supported_types={sorted(bad_types)} is not supported; expected "
                                 "float16 or int8.")
        in_t = dtype_name(self.inference_input_type) or "float32"
        out_t = dtype_name(self.inference_output_type) or "float32"
        dataset = self.representative_dataset
        int16x8 = _INT16X8 in ops
        int8_required = "TFLITE_BUILTINS_INT8" in ops or "int8" in types
        allow_float = "TFLITE_BUILTINS" in ops
        settings = dict(input_type=in_t, output_type=out_t, dataset=dataset,
                        per_channel=not self._experimental_disable_per_channel,
                        denylisted_layers=list(self.denylisted_layers or ()),
                        denylisted_ops=list(self.denylisted_ops or ()),
                        input_stats=(getattr(self, "_input_stats", None)
                                     or getattr(self, "quantized_input_stats", None)))
        strict = None
        if not enabled:
            mode = "none"
        elif "float16" in types and not int8_required and not int16x8:
            mode = "float16"
        elif dataset is None:
            if int16x8 or int8_required:
                raise ConverterError(
                    "For full integer quantization, a `representative_dataset` must be specified: "
                    f"target_spec.supported_ops={sorted(ops)} asks for integer-only kernels. Set "
                    "converter.representative_dataset to a generator of input samples, or drop the option "
                    "for dynamic-range quantization.")
            mode = "dynamic"
        else:
            mode = "int16x8" if int16x8 else "int8"
            strict = not allow_float if int16x8 else (int8_required and not allow_float)
        allowed = {"none": {"float32"}, "dynamic": {"float32"}, "float16": {"float32"},
                   "int8": {"float32", "int8", "uint8"}, "int16x8": {"float32", "int16"}}[mode]
        for attr, t in (("inference_input_type", in_t), ("inference_output_type", out_t)):
            if t not in allowed:
                what = {"none": "no quantization (set optimizations=[Optimize.DEFAULT] and a "
                                "representative_dataset for integer inputs/outputs)",
                        "dynamic": "dynamic-range quantization (integer inputs/outputs need a "
                                   "representative_dataset)",
                        "float16": "float16 quantization",
                        "int8": "int8 quantization", "int16x8": "16x8 quantization"}[mode]
                raise ConverterError(f"{attr}={t} is not supported with {what}; supported: {sorted(allowed)}.")
        settings.update(mode=mode, strict=strict)
        return settings

    def _check_options(self) -> None:
        self._quant_settings()

    def _float_model(self, record=None):
        if self._build is not None:
            return self._build()
        from ..frontends.keras import convert

        return convert(self._source, record=record)

    def convert_to_model(self):
        """The converted model as a tinylite.graph.Model (before serialization)."""
        settings = self._quant_settings()
        if self.experimental_verify and self._build is not None:
            raise ConverterError("experimental_verify / --verify compares the file with its source Keras model; "
                                 "a SavedModel or frozen graph source cannot be verified yet. Convert from the "
                                 "Keras model (from_keras_model / a .keras file) to verify.")
        record = [] if self.experimental_verify else None
        model = self._float_model(record)
        parts = model if isinstance(model, list) else [model]
        if settings["mode"] != "none":
            from .quantize import quantize_model

            if len(parts) == 1:
                parts = [quantize_model(parts[0], _config(settings))]
            else:
                parts = [quantize_model(m, _config(_for_signature(settings, m))) for m in parts]
        if len(parts) == 1:
            model = parts[0]
        else:
            from ..frontends.tf.merge import merge_models

            model = merge_models(parts)
        if self.experimental_verify:
            from ..flatbuffer.writer import write_model
            from .verify import THRESHOLDS, verify

            threshold = self.experimental_verify_threshold
            if threshold is None:
                threshold = THRESHOLDS.get(settings["mode"], 1e-4)

            def unoptimized():
                from ..frontends.keras import convert

                plain_record = []
                return write_model(convert(self._source, passes=False, record=plain_record)), plain_record

            self.verification = verify(self._source, write_model(model), record, float(threshold),
                                       unoptimized=unoptimized if settings["mode"] == "none" else None)
        return model

    def convert(self) -> bytes:
        """The .tflite FlatBuffer bytes."""
        return bytes(self._serialized())

    def _serialized(self) -> memoryview:
        """The FlatBuffer as a view of the writer's buffer (tflite_convert writes it to the file
        without copying it into bytes)."""
        from ..flatbuffer.writer import serialize

        data = serialize(self.convert_to_model())
        if self._build is not None:
            _check_runs(data)
        return data


def _check_runs(data) -> None:
    """Refuse a file converted from a TensorFlow graph that the runtime cannot prepare, as
    TensorFlow's converter refuses an op on types no TFLite kernel takes (tf.square on int32,
    // on int64, a float16 FULLY_CONNECTED): the frontend maps ops without knowing every
    kernel's types.  Run-time dimensions are given size 1 for the check; where there are some,
    only a type the kernels refuse fails it (a shape error may come from that size alone: a
    slice from length - 2 needs a length of 2)."""
    from ..errors import PrepareError, UnsupportedOpError
    from ..interpreter import Interpreter

    ip = Interpreter(model_content=bytes(data))
    dynamic = False
    try:
        for d in ip.get_input_details():
            sig = d.get("shape_signature")
            if sig is not None and any(int(k) < 0 for k in sig):
                ip.resize_tensor_input(d["index"], [1 if int(k) < 0 else int(k) for k in sig])
                dynamic = True
        try:
            ip.allocate_tensors()
        except PrepareError:
            if not dynamic:
                raise
    except (UnsupportedOpError, PrepareError) as e:
        raise ConverterError(f"the converted model cannot run: {e}. TensorFlow's converter refuses such an "
                             "op too; cast its inputs to a type the op takes (see docs/ops.md) before "
                             "exporting.") from None


class TFLiteConverterV1(TFLiteConverter):
    """`tf.compat.v1.lite.TFLiteConverter`: the TF1 attributes too (post_training_quantize,
    inference_type INT8 with a representative_dataset and quantized_input_stats, target_ops;
    QUANTIZED_UINT8 and default_ranges_stats raise a clear ConverterError)."""

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

    def _quant_settings(self) -> dict:
        """TF1's attributes on top of TF2's: post_training_quantize (dynamic range), inference_type
        INT8 with a representative dataset (full integer), target_ops."""
        if self.target_ops:
            self.target_spec.supported_ops = set(self.target_ops)
        if self.post_training_quantize and not self.optimizations:
            self.optimizations = {Optimize.DEFAULT}
        itype = dtype_name(self.inference_type)
        if self.default_ranges_stats:
            raise ConverterError("default_ranges_stats (dummy quantization ranges) is not supported by tinylite; "
                                 "use a representative_dataset to calibrate.")
        if itype == "uint8":
            raise ConverterError(
                "inference_type=QUANTIZED_UINT8 (TF1 uint8 models from fake-quant training) is not supported; use "
                "inference_type=INT8 with a representative_dataset (inference_input_type=uint8 gives uint8 I/O).")
        if itype == "int8" and self.representative_dataset is None:
            raise ConverterError(
                f"inference_type={itype.upper()} with quantized_input_stats needs a model trained with fake-quant "
                "ops (TF1 quantization-aware training), which tinylite does not read. For post-training integer "
                "quantization set optimizations=[Optimize.DEFAULT] and a representative_dataset.")
        if itype == "int8":
            self.optimizations = self.optimizations or {Optimize.DEFAULT}
            if self.inference_input_type is None:
                self.inference_input_type = "int8"
            if self.inference_output_type is None:
                self.inference_output_type = "int8"
        elif itype not in (None, "float32"):
            raise ConverterError(f"inference_type={itype} is not supported; use FLOAT or INT8 (with a "
                                 "representative_dataset).")
        return super()._quant_settings()

    @classmethod
    def from_saved_model(cls, saved_model_dir, input_arrays=None, input_shapes=None, output_arrays=None,
                         tag_set=None, signature_key=None):
        """TF1 spelling: one signature (signature_key, default serving_default) of a SavedModel."""
        if input_arrays or output_arrays or input_shapes:
            raise ConverterError("from_saved_model: input_arrays/output_arrays/input_shapes are not supported; "
                                 "the signature's inputs and outputs are converted (choose it with signature_key).")
        return super().from_saved_model(saved_model_dir, None if signature_key is None else [signature_key],
                                        tag_set)

    @classmethod
    def from_frozen_graph(cls, graph_def_file, input_arrays, output_arrays, input_shapes=None):
        """From a frozen GraphDef .pb file (TF1), read without TensorFlow.  input_shapes: {name: shape}
        for inputs whose placeholder shape is not fully known (an unknown batch becomes 1, as in
        TensorFlow's TF1 converter).

        >>> converter = TFLiteConverter.from_frozen_graph("frozen.pb", ["input"], ["output"])  # doctest: +SKIP
        """
        graph_def_file = os.fspath(graph_def_file)
        ins = [str(a) for a in (input_arrays or [])]
        outs = [str(a) for a in (output_arrays or [])]
        shapes = dict(input_shapes or {})

        def build():
            from ..frontends.tf import convert_frozen_graph

            return convert_frozen_graph(graph_def_file, ins, outs, shapes)
        conv = cls(graph_def_file, _origin=graph_def_file)
        conv._build = build
        return conv

    def convert(self) -> bytes:
        fmt = self.output_format
        if fmt is not None and str(fmt).rsplit(".", 1)[-1] not in ("TFLITE",):
            raise ConverterError(f"output_format={fmt} is not supported; only TFLITE")
        return super().convert()
