"""CALL_ONCE: run the init subgraph (no inputs, no outputs) on the first invoke
only, typically to assign resource variables their initial values."""
FOLDABLE = False


def prepare(node):
    ip = node.runner.interpreter
    if ip is None:
        node.fail("CALL_ONCE needs the Interpreter that owns the subgraphs")
    k = node.options.get("init_subgraph_index", 0)
    if not 0 <= k < len(ip.model.subgraphs) or k == node.runner.index:
        node.fail(f"init_subgraph_index {k} is not another subgraph of the model")
    sub = ip._runner(k)
    if sub.subgraph.inputs or sub.subgraph.outputs:
        node.fail(f"the init subgraph {k} must have no inputs and no outputs")
    node.init = sub
    node.key = ("call_once", node.runner.index, node.index)
    return eval_call_once


def eval_call_once(node, inputs, outputs):
    resources = node.runner.interpreter._resources
    if resources.get(node.key):
        return
    node.init.run([])
    resources[node.key] = True
