"""`tflite_convert`: TensorFlow's converter command, without TensorFlow.

    tflite_convert --keras_model_file=./mnist_cnn.h5 --output_file=./mnist_cnn.tflite

Accepts TensorFlow's flags.  Keras .h5/.keras files are converted; SavedModel
folders, frozen graphs and the quantization flags raise a clear "not supported
yet" error (never silently ignored).  `tinylite convert` takes the same flags
(`add_arguments` + `convert_command`).
"""
from __future__ import annotations

import argparse
import sys

# TF1 flags that ask for quantization: (flag, value meaning "not asked").
_QUANT_FLAGS = [
    ("inference_type", ("FLOAT", None)),
    ("inference_input_type", ("FLOAT", None)),
    ("mean_values", (None,)),
    ("std_dev_values", (None,)),
    ("default_ranges_min", (None,)),
    ("default_ranges_max", (None,)),
    ("quantize_to_float16", (None, False)),
    ("post_training_quantize", (None, False)),
]


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
    src.add_argument("--saved_model_dir", help="full path of a SavedModel folder (not supported yet)")
    src.add_argument("--graph_def_file", help="a frozen GraphDef (TF1; not supported)")
    parser.add_argument("--enable_v1_converter", action="store_true",
                        help="use the TF1 converter flags (accepted; the conversion is the same)")
    parser.add_argument("--experimental_new_converter", type=_bool, nargs="?", const=True, default=None,
                        help="accepted for compatibility (tinylite has one converter)")
    parser.add_argument("--experimental_new_quantizer", type=_bool, nargs="?", const=True, default=None,
                        help="accepted for compatibility")
    parser.add_argument("--saved_model_tag_set", help="SavedModel tags (with --saved_model_dir)")
    parser.add_argument("--saved_model_signature_key", help="SavedModel signature (with --saved_model_dir)")
    v1 = parser.add_argument_group("TF1 converter flags (with --enable_v1_converter)")
    v1.add_argument("--output_format", choices=["TFLITE", "GRAPHVIZ_DOT"], default=None)
    v1.add_argument("--inference_type", choices=["FLOAT", "QUANTIZED_UINT8", "INT8"], default=None,
                    help="quantization (not supported yet unless FLOAT)")
    v1.add_argument("--inference_input_type", choices=["FLOAT", "QUANTIZED_UINT8", "INT8"], default=None,
                    help="quantization (not supported yet unless FLOAT)")
    v1.add_argument("--input_arrays", help="input names (not supported yet for Keras models)")
    v1.add_argument("--input_shapes", help="input shapes (not supported yet for Keras models)")
    v1.add_argument("--output_arrays", help="output names (not supported yet for Keras models)")
    v1.add_argument("--mean_values", help="quantization input means (not supported yet)")
    v1.add_argument("--std_dev_values", help="quantization input std devs (not supported yet)")
    v1.add_argument("--default_ranges_min", type=float, help="quantization (not supported yet)")
    v1.add_argument("--default_ranges_max", type=float, help="quantization (not supported yet)")
    v1.add_argument("--quantize_to_float16", action="store_true", default=None,
                    help="float16 weights (not supported yet)")
    v1.add_argument("--post_training_quantize", action="store_true", default=None,
                    help="weight quantization (not supported yet)")
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
    parser.add_argument("model", nargs="?", help="Keras .h5 or .keras file (same as --keras_model_file)")
    add_arguments(parser, output_required=False)


class _UsageError(Exception):
    pass


def _check(args) -> None:
    model = getattr(args, "model", None)
    if model:
        if args.keras_model_file and args.keras_model_file != model:
            raise _UsageError(f"two models given: {model!r} and --keras_model_file={args.keras_model_file!r}")
        args.keras_model_file = model
    if not args.output_file and args.keras_model_file:
        import os

        args.output_file = os.path.splitext(args.keras_model_file)[0] + ".tflite"
    asked = [f"--{flag}" for flag, neutral in _QUANT_FLAGS if getattr(args, flag, None) not in neutral]
    targets = [t.strip() for t in (args.target_ops or "").split(",") if t.strip()]
    if set(targets) - {"TFLITE_BUILTINS", "SELECT_TF_OPS"}:
        asked.append(f"--target_ops={args.target_ops}")
    if asked:
        raise _UsageError(f"quantization is not supported yet ({', '.join(asked)}); convert without these flags "
                          "to get a float32 model.")
    if args.saved_model_dir:
        raise _UsageError(f"--saved_model_dir: SavedModel import is not supported yet ({args.saved_model_dir}). "
                          "Save the model as Keras (model.save('model.keras')) and use --keras_model_file.")
    if args.graph_def_file:
        raise _UsageError("--graph_def_file: frozen TF1 graphs are not supported; convert the Keras model "
                          "with --keras_model_file.")
    if not args.keras_model_file:
        raise _UsageError("one of --keras_model_file or --saved_model_dir is required.")
    for flag in ("input_arrays", "input_shapes", "output_arrays", "custom_opdefs", "dump_graphviz_dir",
                 "conversion_summary_dir", "experimental_select_user_tf_ops"):
        if getattr(args, flag, None):
            raise _UsageError(f"--{flag} is not supported yet; the Keras model's own inputs and outputs are "
                              "converted.")
    if args.output_format == "GRAPHVIZ_DOT" or args.dump_graphviz_video:
        raise _UsageError("GraphViz output is not supported; only TFLITE.")


def convert_command(args) -> int:
    """Run a conversion from parsed arguments (for `tinylite convert`)."""
    from .errors import ConverterError

    prog = getattr(args, "prog", None) or \
        ("tinylite convert" if getattr(args, "command", None) == "convert" else "tflite_convert")
    try:
        _check(args)
        from .flatbuffer.writer import atomic_write, write_model
        from .frontends.keras import convert

        data = write_model(convert(args.keras_model_file))
        atomic_write(args.output_file, data)
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
        description="Convert a Keras model (.h5 or .keras) to a TensorFlow Lite FlatBuffer, without TensorFlow.",
        epilog="example: tflite_convert --keras_model_file=./mnist_cnn.h5 --output_file=./mnist_cnn.tflite")
    add_arguments(parser)
    args = parser.parse_args(argv)
    args.prog = "tflite_convert"
    return convert_command(args)


if __name__ == "__main__":
    sys.exit(main())
