"""Regenerate tinylite/kernels/_types.py from the single-op differential tests:
runs tests/kernels/ with a plugin that records, for every model built with
tinylite.testing.single_op_model / chain_model / graph_model (and every op a builder reports
through tinylite.testing.record_op), each op and its input types.
Then regenerate docs/ops.md.

A built model's ops count only once tinylite has invoked that model without an
error: tests also build models only to check that they are refused (a fused
activation LiteRT rejects, a type no kernel takes), and those must not be
listed as checked types.

    python scripts/collect_kernel_types.py
    python -m tinylite.tools.ops_table > docs/ops.md
"""
import os
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
RECORDS = set()
PENDING = {}     # model bytes -> the (op, input types) it would add once it runs
_PARSED = {}     # id(parsed model) -> (model, its bytes); the model is kept so its id stays unique


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

        import tinylite.interpreter.interpreter as I
        from tinylite.interpreter.subgraph import SubgraphRunner

        single, chain, graph = T.single_op_model, T.chain_model, T.graph_model

        def pending(content, records):
            PENDING.setdefault(bytes(content), set()).update(records)
            return content

        def rec_single(op_name, inputs, outputs, *a, **k):
            return pending(single(op_name, inputs, outputs, *a, **k), {(op_name, tuple(_dtype(d) for d in inputs))})

        def rec_chain(x, ops, *a, **k):
            prev, records = _dtype(x), set()
            for op_name, extra, output, _ in ops:
                records.add((op_name, (prev,) + tuple(_dtype(d) for d in extra)))
                prev = _dtype(output)
            return pending(chain(x, ops, *a, **k), records)

        def rec_graph(tensors, ops, *a, **k):
            types = {dict(zip(("name", "shape", "dtype"), d) if isinstance(d, tuple) else d)["name"]: _dtype(d)
                     for d in tensors}
            records = {(op_name, tuple("-" if n is None else types[n] for n in ins)) for op_name, ins, _, _ in ops}
            return pending(graph(tensors, ops, *a, **k), records)

        import tinylite.flatbuffer.reader as R
        import tinylite.flatbuffer.writer as W

        parse, read_model, write_model = R.parse, R.read_model, W.write_model
        invoke, run = SubgraphRunner.invoke, SubgraphRunner.run

        def parsed(model, content):
            _PARSED[id(model)] = (model, content)
            return model

        def rec_parse(content, *a, **k):
            return parsed(parse(content, *a, **k), bytes(content))

        def rec_read_model(source, *a, **k):
            content = Path(source).read_bytes() if isinstance(source, (str, os.PathLike)) else source
            return parsed(read_model(source, *a, **k), bytes(content))

        def rec_write_model(model, *a, **k):
            # A test that reads a built model, edits it and writes it again (adding an LSTM's
            # intermediates) runs the ops it was built with.
            content = write_model(model, *a, **k)
            entry = _PARSED.get(id(model))
            if entry is not None and entry[0] is model and entry[1] in PENDING:
                pending(content, PENDING[entry[1]])
            return content

        def ran(runner):
            entry = _PARSED.get(id(runner.model))
            if entry is not None and entry[0] is runner.model:
                RECORDS.update(PENDING.get(entry[1], ()))

        def rec_invoke(self, *a, **k):
            result = invoke(self, *a, **k)
            ran(self)
            return result

        def rec_run(self, *a, **k):
            result = run(self, *a, **k)
            ran(self)
            return result

        R.parse, R.read_model, W.write_model = rec_parse, rec_read_model, rec_write_model
        I.parse, I.read_model = rec_parse, rec_read_model
        SubgraphRunner.invoke, SubgraphRunner.run = rec_invoke, rec_run
        T.single_op_model, T.chain_model, T.graph_model = rec_single, rec_chain, rec_graph
        # Builders that assemble models themselves report ops without their bytes: counted as built.
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
