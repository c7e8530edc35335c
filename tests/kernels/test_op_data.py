"""Typed op data (kernels/_base.op_data): what a kernel's prepare computes lives
in one frozen dataclass on `node.data`, declared by the kernel; nothing else
is written on a node.

The runtime half: a kernel setting an attribute on its node, or a field its
op data does not declare, fails at allocate_tensors with a message saying
where the value belongs; a prepared node and its op data are read-only.  The
static half (an AST check, like the layout checks): no module of
tinylite/kernels or tinylite/interpreter writes an attribute on a node, and
every field a prepare writes on its draft is declared by the class it drafts."""
import ast
import dataclasses
import importlib
import typing
from pathlib import Path

import numpy as np
import pytest

import tinylite
from tinylite.errors import PrepareError
from tinylite.kernels import _base, abs as abs_kernel, max_pool_2d
from tinylite.testing import single_op_model

ROOT = Path(tinylite.__file__).parent
# Parameter names under which the kernels and the interpreter's rewrites handle nodes.
NODE_NAMES = {"node", "conv", "pool", "pool_node", "prelu_node", "act", "fused"}


def _abs_model():
    return single_op_model("ABS", [("x", [2, 3])], [("y", [2, 3])])


def test_kernel_setting_an_attribute_on_its_node_fails(monkeypatch):
    real = abs_kernel.prepare

    def stray(node):
        fn = real(node)
        node.remembered = 1          # state outside the op data: refused
        return fn
    monkeypatch.setattr(abs_kernel, "prepare", stray)
    ip = tinylite.Interpreter(model_content=_abs_model())
    with pytest.raises(PrepareError, match=r"may not set 'remembered' on its node; put what prepare computes in "
                                           r"the kernel's op data"):
        ip.allocate_tensors()


def test_custom_op_setting_an_attribute_on_its_node_fails():
    content = single_op_model("Stray", [("x", [2])], [("y", [2])])

    def prepare(node):
        node.outputs[0].shape = node.inputs[0].shape
        node.factor = 2.0
        return lambda node, inputs, outputs: None
    ip = tinylite.Interpreter(model_content=content, custom_ops={"Stray": prepare})
    with pytest.raises(PrepareError, match="may not set 'factor' on its node"):
        ip.allocate_tensors()


def test_writing_a_field_the_op_data_does_not_declare_fails(monkeypatch):
    real = max_pool_2d.prepare

    def typo(node):
        fn = real(node)
        node.draft(max_pool_2d.OpData).geometyr = {}
        return fn
    monkeypatch.setattr(max_pool_2d, "prepare", typo)
    content = single_op_model("MAX_POOL_2D", [("x", [1, 4, 4, 1])], [("y", [1, 2, 2, 1])],
                              options=dict(padding="VALID", filter_height=2, filter_width=2, stride_h=2, stride_w=2))
    ip = tinylite.Interpreter(model_content=content)
    with pytest.raises(PrepareError, match=r"max_pool_2d.OpData declares no field 'geometyr'"):
        ip.allocate_tensors()


def test_helper_classes_must_be_combined_by_the_op(monkeypatch):
    """Two op-data classes requested for one node, neither deriving from the
    other: the op's class must subclass each helper's, else a clear error."""
    from tinylite.kernels import _window

    real = abs_kernel.prepare

    def both(node):
        fn = real(node)
        node.draft(_window.WindowData).count = 1
        node.draft(max_pool_2d.OpData).geometry = {}
        return fn
    monkeypatch.setattr(abs_kernel, "prepare", both)
    ip = tinylite.Interpreter(model_content=_abs_model())
    with pytest.raises(PrepareError, match="none derives from all the others"):
        ip.allocate_tensors()


@pytest.mark.parametrize("reference", [False, True])
def test_prepared_nodes_and_their_op_data_are_read_only(reference):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 3, 3, 2)).astype(np.float32)
    content = single_op_model("CONV_2D", [("x", [1, 6, 6, 2]), dict(name="w", data=w),
                                          dict(name="b", data=np.zeros(4, np.float32))], [("y", [1, 6, 6, 4])],
                              options=dict(padding="SAME", stride_h=1, stride_w=1, fused_activation_function="RELU"))
    kwargs = dict(experimental_op_resolver_type=tinylite.OpResolverType.BUILTIN_REF) if reference else {}
    ip = tinylite.Interpreter(model_content=content, **kwargs)
    ip.allocate_tensors()
    (_, node, _, _), = ip._runner(0).steps
    data = node.data
    assert dataclasses.is_dataclass(data) and data.geometry["kh"] == 3 and data.groups == 1
    assert type(data).__module__.endswith("conv_2d")
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.groups = 2
    with pytest.raises(AttributeError, match="is prepared"):
        node.options = {}
    with pytest.raises(AttributeError, match="is prepared"):
        node.data = None
    with pytest.raises(AttributeError, match="may not set 'wmat'"):
        node.wmat = None
    node.cache["buffers"] = 1            # per-array caches stay writable
    copy = node.derived(act=None)
    assert copy.data.act is None and node.data.act is not None and copy.cache == {}
    moved = node.derived(outputs=[])         # a node attribute: replaced on the copy, op data shared
    assert moved.outputs == [] and moved.data is node.data and node.outputs
    ip.set_tensor(0, rng.standard_normal((1, 6, 6, 2)).astype(np.float32))
    ip.invoke()


# --- static checks over the source ---

def _modules():
    for sub in ("kernels", "interpreter"):
        for path in sorted((ROOT / sub).rglob("*.py")):
            yield path, ast.parse(path.read_text(), str(path))


def _is_node(expr) -> bool:
    return isinstance(expr, ast.Name) and expr.id in NODE_NAMES


def _targets(tree):
    for n in ast.walk(tree):
        if isinstance(n, ast.Assign):
            targets = n.targets
        elif isinstance(n, (ast.AugAssign, ast.AnnAssign)):
            targets = [n.target]
        else:
            continue
        for t in targets:
            yield from (t.elts if isinstance(t, (ast.Tuple, ast.List)) else [t])


def test_no_module_writes_attributes_on_a_node():
    """Kernels and the interpreter's rewrites put what they compute in op data
    (node.draft in prepare, node.derived for a rewritten step), per-array
    buffers in node.cache; nothing writes `node.<attr> = ...` (Node itself,
    in _base.py, is the exception), nor setattr / __dict__ on a node."""
    bad = []
    for path, tree in _modules():
        if path.name == "_base.py" and path.parent.name == "kernels":
            continue
        where = path.relative_to(ROOT.parent)
        for t in _targets(tree):
            if isinstance(t, ast.Attribute) and _is_node(t.value):
                bad.append(f"{where}:{t.lineno}: {ast.unparse(t)} = ...")
        for n in ast.walk(tree):
            if (isinstance(n, ast.Call) and isinstance(n.func, (ast.Name, ast.Attribute))
                    and (getattr(n.func, "id", None) or n.func.attr) in ("setattr", "__setattr__")
                    and any(_is_node(a) for a in n.args)):
                bad.append(f"{where}:{n.lineno}: {ast.unparse(n)}")
            if isinstance(n, ast.Attribute) and n.attr == "__dict__" and _is_node(n.value):
                bad.append(f"{where}:{n.lineno}: {ast.unparse(n)}")
    assert not bad, "attributes written on nodes outside their op data:\n" + "\n".join(bad)


def _drafts(fn):
    """{local name: op-data class expression} of `name = node.draft(Class)` in a function."""
    found = {}
    for n in ast.walk(fn):
        if (isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name)
                and isinstance(n.value, ast.Call) and isinstance(n.value.func, ast.Attribute)
                and n.value.func.attr == "draft" and len(n.value.args) == 1):
            found[n.targets[0].id] = ast.unparse(n.value.args[0])
    return found


def _resolve(module, expr):
    obj = module
    for part in expr.split("."):
        obj = getattr(obj, part)
    return obj


def test_every_field_a_prepare_writes_is_declared():
    """Each `d.<field> = ...` on a draft names a field its op-data class (or a
    base) declares, checked without running the kernel; each module's op-data
    classes are frozen dataclasses whose field types resolve."""
    from tinylite.interpreter.subgraph import SubgraphRunner

    bad, checked, classes = [], 0, 0
    for path, tree in _modules():
        if path.parent.name == "interpreter":
            continue
        name = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts)
        module = importlib.import_module(name)
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, _base.OpDataBase) and obj.__module__ == name:
                assert obj.__dataclass_params__.frozen, f"{name}.{obj.__qualname__} is not frozen"
                # Every field is typed, with a type that names something real.
                typing.get_type_hints(obj, localns={"SubgraphRunner": SubgraphRunner})
                classes += 1
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef):
                continue
            drafts = _drafts(fn)
            for t in _targets(fn):
                if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id in drafts:
                    cls = _resolve(module, drafts[t.value.id])
                    checked += 1
                    if t.attr not in {f.name for f in dataclasses.fields(cls)}:
                        bad.append(f"{name}.{fn.name}:{t.lineno}: {cls.__qualname__} declares no {t.attr!r}")
    assert checked > 200 and classes > 100
    assert not bad, "\n".join(bad)
