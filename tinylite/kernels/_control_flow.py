"""What IF and STABLEHLO_CASE share: both pick one of several subgraphs by
input 0 and run it on inputs 1.. (the branches' outputs are the op's)."""
from __future__ import annotations


def interpreter(node):
    """The Interpreter that owns the node's subgraphs (the branches live there)."""
    ip = node.runner.interpreter
    if ip is None:
        node.fail("control flow needs the Interpreter that owns the subgraphs")
    return ip


def branch(node, ip, label, k):
    """The runner of subgraph ``k``, checked to take inputs 1.. and give the op's outputs."""
    n = len(ip.model.subgraphs)
    if not 0 <= k < n or k == node.runner.index:
        node.fail(f"{label} {k} is not another subgraph of the model (it has {n})")
    sub = ip._runner(k)
    if len(sub.subgraph.inputs) != len(node.inputs) - 1 or len(sub.subgraph.outputs) != len(node.outputs):
        node.fail(f"subgraph {k} takes {len(sub.subgraph.inputs)} inputs and gives {len(sub.subgraph.outputs)} "
                  f"outputs; the op passes {len(node.inputs) - 1} and expects {len(node.outputs)}")
    return sub


def shape_outputs(node, data, pick, eval_static):
    """Set the outputs' shapes and give the eval to use.

    When every branch gives the same known shapes, that is ``eval_static``
    (which picks the branch per invoke).  Otherwise the shapes depend on the
    branch taken, so the one ``pick(value of input 0)`` chooses runs now and
    its results are the op's (the node is prepared again at each invoke)."""
    shapes = [tuple(s.shape) for s in node.inputs[1:]]
    per_branch = [b.output_shapes(shapes) for b in data.branches]
    if all(p == per_branch[0] for p in per_branch) and None not in per_branch[0]:
        for o, shape in zip(node.outputs, per_branch[0]):
            o.shape = shape
        return eval_static
    take = pick(node.value(0))
    data.results = take.run([node.value(i) for i in range(1, len(node.inputs))])
    for o, r in zip(node.outputs, data.results):
        o.shape = r.shape
    return eval_results


def eval_results(node, inputs, outputs):
    for out, value in zip(outputs, node.data.results):
        out[...] = value
