"""The `tinylite` command: demo, convert, run, bench, inspect, export-c."""
from __future__ import annotations

import argparse
import json
import sys

EXAMPLES = {
    "demo": "tinylite demo -o demo_out",
    "convert": "tinylite convert model.h5 -o model.tflite   (or a SavedModel folder, or a frozen graph.pb)",
    "run": "tinylite run model.tflite --input x.npy --labels labels.txt --top-k 5",
    "bench": "tinylite bench model.tflite --runs 100 --batch 8 --op-profile --compare-litert",
    "inspect": "tinylite inspect model.tflite --json",
    "export-c": "tinylite export-c model.tflite -o model_data.cc",
    "report": "tinylite report model_int8.tflite --compare model_float.tflite --data eval.npz -o report.html",
    "metadata": "tinylite metadata model.tflite -o model_meta.tflite --name digits --mean 0 --std 255 --labels labels.txt",
    "serve": "tinylite serve --model_name mnist --model_base_path models/mnist --port 8501",
}


def _demo(args) -> int:
    from .demo import run_demo

    return run_demo(args.output)


def _convert(args) -> int:
    from .tflite_convert import convert_command

    return convert_command(args)


def _run(args) -> int:
    import numpy as np

    from .tools.run import load_labels, model_metadata, run_model, top_k

    # The model's TFLite Metadata supplies image normalization and, without --labels, the labels.
    meta = model_metadata(args.model)
    outs, values = run_model(args.model, args.input, meta)
    labels = load_labels(args.labels, meta)
    if args.output:
        np.savez(args.output, **{f"output{i}": v for i, v in enumerate(values)})
    for d, v in zip(outs, values):
        if args.top_k and v.ndim <= 2 and v.shape[-1] > 1:
            print(f"{d['name']} (top {args.top_k}):")
            for n, row in enumerate(top_k(v, args.top_k, labels)):
                print(f"  sample {n}: " + ", ".join(f"{name} {score:.4f}" for _, name, score in row))
        else:
            with np.printoptions(precision=6, suppress=True, threshold=200):
                print(f"{d['name']} {list(v.shape)} {v.dtype}:\n{v}")
    return 0


def _bench(args) -> int:
    from .tools.bench import benchmark, render

    result = benchmark(args.model, runs=args.runs, warmup=args.warmup, batch=args.batch,
                       op_profile=args.op_profile, compare_litert=args.compare_litert, num_threads=args.num_threads)
    print(json.dumps(result, indent=2) if args.json else render(result))
    return 0


def _inspect(args) -> int:
    from .tools.inspect import inspect_file, render

    info = inspect_file(args.model)
    print(json.dumps(info, indent=2) if args.json else render(info, args.model))
    return 0


def _export_c(args) -> int:
    from .tools.export_c import export_c

    source, header = export_c(args.model, args.output, args.name)
    print(f"wrote {source} and {header}")
    return 0


def _report(args) -> int:
    from .tools.report import write_report

    print(f"wrote {write_report(args.model, args.output, compare=args.compare, data=args.data)}")
    return 0


def _metadata(args) -> int:
    from .tools.metadata import render, write_metadata

    meta = write_metadata(args.model, args.output, name=args.name, description=args.description,
                          version=args.model_version, author=args.author, license=args.license,
                          mean=args.mean, std=args.std, labels_file=args.labels)
    print(f"wrote {args.output}\n{render(meta)}")
    return 0


def _serve(args) -> int:
    from .serving.server import serve_command

    return serve_command(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tinylite", description="The TensorFlow Lite toolchain in pure Python.",
                                     epilog="examples:\n  " + "\n  ".join(EXAMPLES.values()),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name, help_text, func):
        p = sub.add_parser(name, help=help_text, description=help_text, epilog=f"example: {EXAMPLES[name]}")
        p.set_defaults(func=func)
        return p

    p = add("demo", "convert, quantize and evaluate the built-in digits model (no arguments, no network)", _demo)
    p.add_argument("-o", "--output", default="tinylite_demo", help="output folder (default: tinylite_demo)")

    p = add("convert", "convert a Keras .h5/.keras model, a SavedModel folder or a frozen GraphDef .pb to .tflite", _convert)
    try:
        from .tflite_convert import add_convert_arguments

        add_convert_arguments(p)
    except ImportError:
        p.add_argument("model")
        p.add_argument("-o", "--output_file")

    p = add("run", "run a model on inputs from .npy/.npz/image files", _run)
    p.add_argument("model", help=".tflite file")
    p.add_argument("--input", "-i", action="append", required=True, help="input file (repeat for several inputs)")
    p.add_argument("--labels", help="text file, one label per line")
    p.add_argument("--top-k", type=int, default=0, help="print the k best classes instead of raw outputs")
    p.add_argument("--output", "-o", help="also save outputs to this .npz")

    p = add("bench", "latency statistics, per-op profile, LiteRT comparison", _bench)
    p.add_argument("model")
    p.add_argument("--runs", type=int, default=50)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--batch", type=int, help="batch size (models with a -1 batch dimension)")
    p.add_argument("--num-threads", type=int, default=None)
    p.add_argument("--op-profile", action="store_true", help="per-op time table")
    p.add_argument("--compare-litert", action="store_true", help="also time ai-edge-litert in this process")
    p.add_argument("--json", action="store_true")

    p = add("inspect", "ops, tensors, quantization, sizes, MACs, signatures, metadata", _inspect)
    p.add_argument("model")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = add("export-c", "write the model as a C array (+ header) for TFLite Micro", _export_c)
    p.add_argument("model")
    p.add_argument("-o", "--output", required=True, help="the .cc/.c file; the header goes beside it")
    p.add_argument("--name", help="C identifier of the array (default: <model>_tflite)")
    p = add("report", "a self-contained HTML page: graph, sizes, latency, accuracy, per-tensor error", _report)
    p.add_argument("model")
    p.add_argument("-o", "--output", default="report.html")
    p.add_argument("--compare", help="a reference model (usually the float one) for per-tensor errors")
    p.add_argument("--data", help=".npz with x (and y labels) for accuracy and error measurements")

    p = add("metadata", "write TFLite Metadata (name, normalization, labels) that the Android support "
            "libraries read", _metadata)
    p.add_argument("model", help=".tflite file")
    p.add_argument("-o", "--output", required=True, help="the model with metadata (may be the input file)")
    p.add_argument("--name", help="model name")
    p.add_argument("--description", help="what the model does")
    p.add_argument("--model-version", help="version string of the model")
    p.add_argument("--author")
    p.add_argument("--license")
    p.add_argument("--mean", type=float, nargs="+", help="input normalization (x - mean) / std: one value or "
                   "one per channel, e.g. 127.5")
    p.add_argument("--std", type=float, nargs="+", help="see --mean, e.g. 127.5")
    p.add_argument("--labels", help="text file, one label per line, packed into the model for the first output")

    p = add("serve", "serve .tflite models over TensorFlow Serving's REST API (needs the serve extra)", _serve)
    from .serving.server import add_serve_arguments

    add_serve_arguments(p)
    return parser


def main(argv=None) -> int:
    from .errors import ConverterError

    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except (ValueError, OSError, RuntimeError, KeyError, ConverterError) as e:
        print(f"tinylite {args.command}: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
