"""The `tinylite` command."""
from __future__ import annotations

import argparse
import sys


def _demo(args) -> int:
    from .demo import run_demo

    return run_demo(args.output)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="tinylite",
        description="The TensorFlow Lite toolchain in pure Python.",
        epilog="example: tinylite demo -o demo_out",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser("demo", help="run the built-in demo pipeline (no arguments, no network)",
                          epilog="example: tinylite demo -o demo_out")
    demo.add_argument("-o", "--output", default="tinylite_demo", help="output folder (default: tinylite_demo)")
    demo.set_defaults(func=_demo)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except (ValueError, OSError, RuntimeError) as e:
        print(f"tinylite {args.command}: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
