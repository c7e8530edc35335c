"""`tflite_convert`: TensorFlow's converter command, without TensorFlow.

    tflite_convert --keras_model_file=./mnist_cnn.h5 --output_file=./mnist_cnn.tflite

Accepts TensorFlow's flags.  Keras .h5/.keras files (--keras_model_file), SavedModel
folders (--saved_model_dir, with --saved_model_signature_key / --saved_model_tag_set)
and frozen TF1 graphs (--graph_def_file with --input_arrays, --output_arrays and
optionally --input_shapes) are converted, all without TensorFlow.  The TF1 quantization flags work: --post_training_quantize
(dynamic range), --quantize_to_float16, --inference_type=INT8 (full integer;
calibrated with --calibration, inputs from --mean_values/--std_dev_values when
given).  `tinylite convert` takes the same flags (`add_arguments` +
`convert_command`) plus a friendlier set:

    tinylite convert model.h5 --quantize int8 --calibration data.npz --io-type int8 --keep-float dense_1
"""
from __future__ import annotations

import argparse
import sys

QUANTIZE_MODES = ("dynamic", "float16", "int8", "int16x8")


def _bool(v: str) -> bool:
    if v.lower() in ("1", "true", "yes", "y", "t"):
        return True
    if v.lower() in ("0", "false", "no", "n", "f"):
        return False
    raise argparse.ArgumentTypeError(f"expected a boolean, got {v!r}")


def add_arguments(parser: argparse.ArgumentParser, output_required: bool = True) -> None:
    """TensorFlow's `tflite_convert` flags."""
    parser.add_argument(*(["--output_file"] if output_required else ["-o", "--output_file"]),
                        required=output_required,
                        help="full path of the output .tflite file" +
                             ("" if output_required else " (default: the model's path with .tflite)"))
    src = parser.add_mutually_exclusive_group()
    src.add_argument("--keras_model_file", help="full path of a Keras .h5 or .keras model file")
    src.add_argument("--saved_model_dir", help="full path of a SavedModel folder (saved_model.pb + variables/)")
    src.add_argument("--graph_def_file", help="full path of a frozen GraphDef .pb file (TF1; with --input_arrays "
                                               "and --output_arrays)")
    parser.add_argument("--enable_v1_converter", action="store_true",
                        help="use the TF1 converter flags (accepted; the conversion is the same)")
    parser.add_argument("--experimental_new_converter", type=_bool, nargs="?", const=True, default=None,
                        help="accepted for compatibility (tinylite has one converter)")
    parser.add_argument("--experimental_new_quantizer", type=_bool, nargs="?", const=True, default=None,
                        help="accepted for compatibility")
    parser.add_argument("--saved_model_tag_set", help="comma-separated MetaGraphDef tags (with --saved_model_dir; "
                                                       "default serve)")
    parser.add_argument("--saved_model_signature_key", help="the signature to convert (with --saved_model_dir; "
                                                             "default serving_default)")
    v1 = parser.add_argument_group("TF1 converter flags (with --enable_v1_converter)")
    v1.add_argument("--output_format", choices=["TFLITE", "GRAPHVIZ_DOT"], default=None)
    v1.add_argument("--inference_type", choices=["FLOAT", "QUANTIZED_UINT8", "INT8"], default=None,
                    help="INT8: full integer quantization (needs --calibration); QUANTIZED_UINT8 is not supported")
    v1.add_argument("--inference_input_type", choices=["FLOAT", "QUANTIZED_UINT8", "INT8"], default=None,
                    help="type of the model's inputs with --inference_type=INT8 (default: INT8)")
    v1.add_argument("--input_arrays", help="comma-separated input node names (with --graph_def_file)")
    v1.add_argument("--input_shapes", help="input shapes, colon-separated per input, e.g. 1,224,224,3:1,10 (with "
                                           "--graph_def_file)")
    v1.add_argument("--output_arrays", help="comma-separated output node names (with --graph_def_file)")
    v1.add_argument("--mean_values", help="comma-separated input means: real = (q - mean) / std_dev")
    v1.add_argument("--std_dev_values", help="comma-separated input standard deviations")
    v1.add_argument("--default_ranges_min", type=float, help="dummy quantization ranges (not supported)")
    v1.add_argument("--default_ranges_max", type=float, help="dummy quantization ranges (not supported)")
    v1.add_argument("--quantize_to_float16", action="store_true", default=None,
                    help="float16 weights (with or without --post_training_quantize)")
    v1.add_argument("--post_training_quantize", action="store_true", default=None,
                    help="int8 weights, float activations (dynamic-range quantization)")
    cal = parser.add_argument_group("calibration (tinylite; TensorFlow's CLI has no way to pass data)")
    cal.add_argument("--calibration", metavar="DATA",
                     help="representative inputs for --inference_type=INT8 / --quantize int8|int16x8: a .npz/.npy "
                          "file (one array per model input, samples along the first axis) or a folder of "
                          ".npy/.npz files (one sample each)")
    cal.add_argument("--calibration-samples", "--calibration_samples", dest="calibration_samples", type=int,
                     default=None, metavar="N", help="use the first N calibration samples (default: all)")
    v1.add_argument("--allow_custom_ops", action="store_true", help="accepted (tinylite emits builtin ops only)")
    v1.add_argument("--custom_opdefs", help="not supported")
    v1.add_argument("--target_ops", help="comma-separated OpsSet names (TFLITE_BUILTINS, SELECT_TF_OPS)")
    v1.add_argument("--drop_control_dependency", type=_bool, nargs="?", const=True, default=None)
    v1.add_argument("--reorder_across_fake_quant", type=_bool, nargs="?", const=True, default=None)
    v1.add_argument("--change_concat_input_ranges", type=_bool, nargs="?", const=True, default=None)
    v1.add_argument("--dump_graphviz_dir", help="not supported")
    v1.add_argument("--dump_graphviz_video", action="store_true")
    v1.add_argument("--conversion_summary_dir", help="not supported")
    v1.add_argument("--experimental_select_user_tf_ops", help="not supported")


def add_convert_arguments(parser: argparse.ArgumentParser) -> None:
    """`tinylite convert MODEL [-o OUT]`: a positional model file, plus every tflite_convert flag."""
    parser.add_argument("model", nargs="?", help="Keras .h5 or .keras file, SavedModel folder, or frozen GraphDef "
                                                "model.pb (same as --keras_model_file / --saved_model_dir / "
                                                "--graph_def_file)")
    add_arguments(parser, output_required=False)
    q = parser.add_argument_group("quantization (tinylite)")
    q.add_argument("--quantize", choices=QUANTIZE_MODES, default=None,
                   help="dynamic: int8 weights; float16: float16 weights; int8: full integer (needs "
                        "--calibration); int16x8: int16 activations, int8 weights (needs --calibration)")
    q.add_argument("--io-type", choices=["float32", "int8", "uint8", "int16"], default=None,
                   help="type of the model's inputs and outputs with --quantize int8/int16x8 (default float32)")
    q.add_argument("--keep-float", nargs="+", default=[], metavar="LAYER",
                   help="Keras layer names (or op types such as SOFTMAX) to keep in float")
    q.add_argument("--strict", action="store_true",
                   help="integer kernels only: fail instead of falling back to float for an op")


class _UsageError(Exception):
    pass


def _check(args) -> None:
    import os

    model = getattr(args, "model", None)
    if model:
        given = args.keras_model_file or args.saved_model_dir or args.graph_def_file
        if given and given != model:
            raise _UsageError(f"two models given: {model!r} and {given!r}")
        if os.path.isdir(model):
            args.saved_model_dir = model
        elif model.endswith((".pb", ".pbtxt")):
            args.graph_def_file = model
        else:
            args.keras_model_file = model
    source = args.keras_model_file or args.saved_model_dir or args.graph_def_file
    if not source:
        raise _UsageError("one of --keras_model_file, --saved_model_dir or --graph_def_file is required.")
    if not args.output_file:
        args.output_file = os.path.splitext(os.path.normpath(source))[0] + ".tflite"
    if not args.saved_model_dir and (args.saved_model_signature_key or args.saved_model_tag_set):
        raise _UsageError("--saved_model_signature_key and --saved_model_tag_set go with --saved_model_dir.")
    if args.graph_def_file:
        if not args.input_arrays or not args.output_arrays:
            raise _UsageError("--graph_def_file needs --input_arrays and --output_arrays (the names of the graph's "
                              "input placeholders and output nodes).")
    elif args.input_arrays or args.output_arrays or args.input_shapes:
        raise _UsageError("--input_arrays, --output_arrays and --input_shapes go with --graph_def_file; a Keras "
                          "model or SavedModel converts its own inputs and outputs.")
    for flag in ("custom_opdefs", "dump_graphviz_dir", "conversion_summary_dir", "experimental_select_user_tf_ops"):
        if getattr(args, flag, None):
            raise _UsageError(f"--{flag} is not supported.")
    if args.output_format == "GRAPHVIZ_DOT" or args.dump_graphviz_video:
        raise _UsageError("GraphViz output is not supported; only TFLITE.")


def _input_shapes(arrays, text):
    if not text:
        return None
    shapes = []
    for part in str(text).split(":"):
        try:
            shapes.append([int(d) for d in part.split(",") if d.strip() != ""])
        except ValueError:
            raise _UsageError(f"--input_shapes={text!r}: expected comma-separated integers per input, inputs "
                              "separated by ':' (e.g. 1,224,224,3:1,10)") from None
    if len(shapes) != len(arrays):
        raise _UsageError(f"--input_shapes gives {len(shapes)} shapes for {len(arrays)} --input_arrays")
    return dict(zip(arrays, shapes))


def load_calibration(path: str, limit: int | None = None) -> list:
    """Calibration samples from a .npz/.npy file or a folder of them, as lists of arrays
    (one per model input, batch of 1) or dicts by input name."""
    import os

    import numpy as np

    def arrays_of(f):
        data = np.load(f, allow_pickle=False)
        if isinstance(data, np.ndarray):
            return [data]
        keys = list(data.files)
        inputs = sorted(k for k in keys if k.startswith("input"))
        if inputs:
            return [data[k] for k in inputs]
        if "x" in keys:
            return [data["x"]]
        return {k: data[k] for k in keys}

    if os.path.isdir(path):
        files = sorted(os.path.join(path, f) for f in os.listdir(path) if f.endswith((".npy", ".npz")))
        if not files:
            raise _UsageError(f"--calibration {path!r}: the folder has no .npy or .npz files.")
        samples = []
        for f in files[:limit]:
            a = arrays_of(f)
            samples.append(a)
        return samples
    if not os.path.isfile(path):
        raise _UsageError(f"--calibration {path!r}: no such file or folder.")
    a = arrays_of(path)
    if isinstance(a, dict):
        n = min(len(v) for v in a.values())
        return [{k: v[i:i + 1] for k, v in a.items()} for i in range(n if limit is None else min(n, limit))]
    n = min(len(v) for v in a)
    return [[v[i:i + 1] for v in a] for i in range(n if limit is None else min(n, limit))]


def make_converter(args):
    """A TFLiteConverter configured from the parsed flags (TF1 flags and tinylite's)."""
    import numpy as np

    from .converter.api import Optimize, OpsSet, TFLiteConverter

    if args.saved_model_dir:
        key = args.saved_model_signature_key
        tags = [t.strip() for t in args.saved_model_tag_set.split(",")] if args.saved_model_tag_set else None
        conv = TFLiteConverter.from_saved_model(args.saved_model_dir, None if key is None else [key], tags)
    elif args.graph_def_file:
        from .converter.api import TFLiteConverterV1

        ins = [a.strip() for a in args.input_arrays.split(",") if a.strip()]
        outs = [a.strip() for a in args.output_arrays.split(",") if a.strip()]
        conv = TFLiteConverterV1.from_frozen_graph(args.graph_def_file, ins, outs,
                                                   _input_shapes(ins, args.input_shapes))
    else:
        conv = TFLiteConverter.from_keras_model_file(args.keras_model_file)
    calibration = getattr(args, "calibration", None)
    if calibration:
        samples = load_calibration(calibration, getattr(args, "calibration_samples", None))
        conv.representative_dataset = lambda: iter(samples)
    mode = getattr(args, "quantize", None)
    targets = [t.strip() for t in (args.target_ops or "").split(",") if t.strip()]
    if targets:
        try:
            conv.target_spec.supported_ops = {OpsSet[t] for t in targets}
        except KeyError as e:
            raise _UsageError(f"--target_ops: unknown OpsSet {e.args[0]!r}; expected {OpsSet.get_options()}") from None
    if args.default_ranges_min is not None or args.default_ranges_max is not None:
        raise _UsageError("--default_ranges_min/max (dummy quantization) are not supported; calibrate with "
                          "--calibration instead.")
    itype = args.inference_type
    if itype == "QUANTIZED_UINT8":
        raise _UsageError("--inference_type=QUANTIZED_UINT8 (TF1 uint8 models from fake-quant training) is not "
                          "supported; use --inference_type=INT8 with --calibration, or --quantize int8 "
                          "--io-type uint8.")
    if itype == "INT8":
        if not calibration:
            raise _UsageError("--inference_type=INT8 needs calibration data: add --calibration data.npz (a "
                              "representative set of inputs); TF1's fake-quant ranges are not read.")
        mode = mode or "int8"
        io = "float32" if args.inference_input_type == "FLOAT" else "int8"
        conv.inference_input_type = io
        conv.inference_output_type = io
    elif args.inference_input_type not in (None, "FLOAT"):
        raise _UsageError(f"--inference_input_type={args.inference_input_type} needs --inference_type=INT8.")
    if (args.mean_values is None) != (args.std_dev_values is None):
        raise _UsageError("--mean_values and --std_dev_values go together (one value per input).")
    if args.mean_values is not None:
        if itype != "INT8":
            raise _UsageError("--mean_values/--std_dev_values describe integer inputs: use them with "
                              "--inference_type=INT8.")
        means = [float(v) for v in str(args.mean_values).split(",")]
        stds = [float(v) for v in str(args.std_dev_values).split(",")]
        if len(means) != len(stds):
            raise _UsageError(f"{len(means)} --mean_values but {len(stds)} --std_dev_values.")
        conv._input_stats = list(zip(means, stds))
    if args.post_training_quantize and not args.quantize_to_float16:
        mode = mode or "dynamic"
    if args.quantize_to_float16:
        mode = mode or "float16"
    if mode is not None:
        conv.optimizations = [Optimize.DEFAULT]
    if mode == "float16":
        conv.target_spec.supported_types = [np.float16]
    elif mode in ("int8", "int16x8"):
        if not calibration:
            raise _UsageError(f"--quantize {mode} needs calibration data: --calibration data.npz (a "
                              "representative set of the model's inputs, e.g. 64 samples).")
        if mode == "int16x8":
            conv.target_spec.supported_ops = (
                {OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8} if getattr(args, "strict", False)
                else {OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8, OpsSet.TFLITE_BUILTINS})
        elif getattr(args, "strict", False):
            conv.target_spec.supported_ops = {OpsSet.TFLITE_BUILTINS_INT8}
    elif mode == "dynamic" and calibration:
        conv.representative_dataset = None
    io_type = getattr(args, "io_type", None)
    if io_type:
        conv.inference_input_type = io_type
        conv.inference_output_type = io_type
    keep = getattr(args, "keep_float", None) or []
    conv.denylisted_ops = [k for k in keep if k.isupper()]
    conv.denylisted_layers = [k for k in keep if not k.isupper()]
    return conv


def convert_command(args) -> int:
    """Run a conversion from parsed arguments (for `tinylite convert`)."""
    from .errors import ConverterError

    prog = getattr(args, "prog", None) or \
        ("tinylite convert" if getattr(args, "command", None) == "convert" else "tflite_convert")
    try:
        _check(args)
        from .flatbuffer.writer import atomic_write

        converter = make_converter(args)
        atomic_write(args.output_file, converter._serialized())
    except (_UsageError, ConverterError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"{prog}: error: cannot write {args.output_file!r}: {e.strerror or e}", file=sys.stderr)
        return 1
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="tflite_convert",
        description="Convert a Keras model (.h5 or .keras), a SavedModel or a frozen GraphDef to a TensorFlow Lite "
                    "FlatBuffer, without TensorFlow.",
        epilog="example: tflite_convert --keras_model_file=./mnist_cnn.h5 --output_file=./mnist_cnn.tflite")
    add_arguments(parser)
    args = parser.parse_args(argv)
    args.prog = "tflite_convert"
    return convert_command(args)


if __name__ == "__main__":
    sys.exit(main())
