"""Regenerate tinylite/kernels/_types.py from the single-op differential tests:
runs tests/kernels/ with a plugin that records, for every model built with
tinylite.testing.single_op_model / chain_model / graph_model (and every op a builder reports
through tinylite.testing.record_op), each op and its input types.
Then regenerate docs/ops.md.

    python scripts/collect_kernel_types.py
    python -m tinylite.tools.ops_table > docs/ops.md
"""
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
RECORDS = set()


def _dtype(desc):
    if desc is None:
        return "-"
    if isinstance(desc, tuple):
        name = np.dtype(desc[2] if len(desc) > 2 else np.float32).name
        return "bytes" if name == "object" else name
    d = dict(desc)
    if isinstance(d.get("dtype"), str) and d["dtype"] == "resource":
        return "resource"
    data = d.get("data")
    name = np.dtype(d.get("dtype", data.dtype if isinstance(data, np.ndarray) else np.float32)).name
    return "bytes" if name == "object" else name     # a STRING tensor, given as bytes or as an object array


class Recorder:
    def pytest_configure(self, config):
        import tinylite.testing as T

        single, chain, graph = T.single_op_model, T.chain_model, T.graph_model

        def rec_single(op_name, inputs, outputs, *a, **k):
            RECORDS.add((op_name, tuple(_dtype(d) for d in inputs)))
            return single(op_name, inputs, outputs, *a, **k)

        def rec_chain(x, ops, *a, **k):
            prev = _dtype(x)
            for op_name, extra, output, _ in ops:
                RECORDS.add((op_name, (prev,) + tuple(_dtype(d) for d in extra)))
                prev = _dtype(output)
            return chain(x, ops, *a, **k)

        def rec_graph(tensors, ops, *a, **k):
            types = {dict(zip(("name", "shape", "dtype"), d) if isinstance(d, tuple) else d)["name"]: _dtype(d)
                     for d in tensors}
            for op_name, ins, _, _ in ops:
                RECORDS.add((op_name, tuple("-" if n is None else types[n] for n in ins)))
            return graph(tensors, ops, *a, **k)

        T.single_op_model, T.chain_model, T.graph_model = rec_single, rec_chain, rec_graph
        T.record_op = lambda op_name, types: RECORDS.add((op_name, tuple(types)))


def main():
    code = pytest.main(["-q", "-p", "no:cacheprovider", str(ROOT / "tests" / "kernels")], plugins=[Recorder()])
    if code != 0:
        sys.exit(f"kernel tests failed (exit {code}); fix them before regenerating")
    by_op = defaultdict(set)
    for op, types in RECORDS:
        by_op[op].add(types)
    lines = ['"""The input types each kernel is checked on: every (op, input types) here has a',
             'single-op differential test against LiteRT in tests/kernels/ (collected from those',
             'tests by scripts/collect_kernel_types.py; "-" is an omitted optional input).',
             'docs/ops.md is generated from this and the kernel registry (tinylite.tools.ops_table)."""',
             "", "INPUT_TYPES = {"]
    for op in sorted(by_op):
        lines.append(f"    {op!r}: [")
        lines += [f"        {c!r}," for c in sorted(by_op[op])]
        lines.append("    ],")
    lines.append("}")
    (ROOT / "tinylite" / "kernels" / "_types.py").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
