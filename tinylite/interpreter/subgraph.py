"""Execution plan of one subgraph.

`allocate()` decides everything that can be decided once: each op's kernel
and output shapes (via the kernel's prepare), which tensors are constant
(weights, and values folded at prepare time, such as the SHAPE -> STRIDED_SLICE
-> PACK chains converters emit), where every other tensor lives in a shared
arena, and the list of (eval, node, inputs, outputs) steps.  `invoke()` is then
a loop over those steps.  Ops whose output shape depends on a value known only
at run time are prepared again at invoke time ("dynamic" steps), as TFLite's
dynamic tensors are.
"""
from __future__ import annotations

import math
import weakref

import numpy as np

from ..errors import InvokeError, PrepareError, TinyliteError, UnsupportedOpError
from ..flatbuffer.schema import OP_NAMES, TENSOR_TYPE_NAMES, numpy_dtype
from ..graph import Model
from ..kernels import kernel_for, optimized, unsupported_detail
from ..kernels.custom import kernel_for_custom
from ..kernels._base import DynamicShape, Node, TensorSpec
from . import fusion, memory, planner
from .hybrid import feeding_hybrid_ops, non_negative_tensors
from .custom_ops import unresolved as unresolved_custom_op
from .tape import Tape, call_name, quiet_context, run_quietly
from .threads import BatchSplit, blas, split_batches
from .validate import validate_subgraph


def _describe(e: BaseException, node: Node | None = None) -> str:
    if isinstance(e, MemoryError):
        return "out of memory (a tensor shape in the model is implausibly large)"
    omitted = [k for k, s in enumerate(node.inputs) if s is None] if node is not None else []
    if omitted and isinstance(e, (AttributeError, TypeError)) and "NoneType" in str(e):
        # An optional input's slot (-1) where this op needs a tensor.
        listed = ", ".join(map(str, omitted))
        return (f"input{'s' if len(omitted) > 1 else ''} {listed} {'are' if len(omitted) > 1 else 'is'} omitted "
                f"(tensor index -1), but this op needs {'them' if len(omitted) > 1 else 'it'} here. The "
                "operator's input list is damaged: the file is corrupt or was written by a broken tool")
    if node is not None and isinstance(e, TypeError) and "cast" in str(e).lower():
        # numpy refused a cast ("Cannot cast ... to dtype('bool')"): the file's types do not fit the op.
        def types(specs):
            return ", ".join("-" if s is None else s.dtype.name.replace("object", "STRING/RESOURCE") for s in specs)
        return (f"it cannot compute outputs of type {types(node.outputs)} from inputs of type {types(node.inputs)}. "
                "The tensor types in the file do not fit this op: the file is corrupt or was written by a broken "
                "tool")
    text = str(e)
    return text if isinstance(e, (ValueError, RuntimeError)) and text else f"{type(e).__name__}: {text}"


_BUILTIN_NAMES = frozenset(OP_NAMES.values())


def _check_object_outputs(node: Node) -> None:
    """A builtin op computes STRING or RESOURCE outputs only from such inputs (VAR_HANDLE
    and HASHTABLE make their handles from nothing): a float op writing an object array means the file
    mistyped its output, and the kernel would store floats as Python objects."""
    if node.op_name in ("VAR_HANDLE", "HASHTABLE") or node.op_name not in _BUILTIN_NAMES:
        return
    if any(s.dtype.hasobject for s in node.outputs) and not any(
            s is not None and s.dtype.hasobject for s in node.inputs):
        out = next(s for s in node.outputs if s.dtype.hasobject)
        raise PrepareError(
            f"Node number {node.index} ({node.op_name}) writes output {out.index} ({out.name!r}) as a "
            f"{TENSOR_TYPE_NAMES.get(node.runner.subgraph.tensors[out.index].type, 'STRING')} tensor, but its inputs "
            f"are {', '.join(s.dtype.name for s in node.inputs if s is not None) or 'none'}: this op cannot make "
            "one from them. The file's tensor types are inconsistent: it is corrupt or was written by a broken "
            "tool.")


def _nbytes(spec: TensorSpec) -> int:
    count = 1
    for d in spec.shape or ():
        count *= max(int(d), 0)
    return count * spec.dtype.itemsize


def _is_reference(resolver_type) -> bool:
    """Whether an op resolver type (tinylite's or LiteRT's enum, or its name) asks for
    the reference kernels."""
    return getattr(resolver_type, "name", resolver_type) == "BUILTIN_REF"


class _Plan:
    """What the stages of SubgraphRunner.allocate hand on to each other."""

    def __init__(self):
        self.specs: dict[int, TensorSpec] = {}
        self.plans: list = []                       # (node, eval_fn or None, kernel, dynamic)
        self.folded: dict[int, np.ndarray] = {}     # tensor -> value computed at prepare
        self.dynamic_tensors: set[int] = set()      # shapes known only at invoke
        self.aliases: dict[int, int] = {}           # tensor -> the tensor it is a view of
        self.bias_rows: dict[int, np.ndarray] = {}  # tensor -> its one-row buffer ending in a 1 (fusion.py)
        self.elided: dict[int, str] = {}            # tensor no step computes after a rewrite -> the rewrite
        self.allocations: list = []


# allocate_tensors, stage by stage: (what it is doing, for error messages; the method doing it).
STAGES = (
    ("preparing the ops", "_prepare_nodes"),                # prepare each op (and fold the constant ones)
    ("rewriting the plan", "_rewrite_plan"),                # fusion.PATTERNS, before memory is planned
    ("planning memory", "_plan_memory"),                    # the arena, for the rewritten plan
    ("placing tensors in the arena", "_bind"),              # arrays for every tensor, the steps
    ("splitting batches across threads", "_split_batches"),  # num_threads
    ("binding the plan's steps", "_compile"),               # the tape invoke runs
)


class SubgraphRunner:
    def __init__(self, model: Model, index: int, preserve_all_tensors: bool = False, interpreter=None):
        self.model = model
        self.index = index
        self.subgraph = model.subgraphs[index]
        self.preserve_all_tensors = preserve_all_tensors
        # A weak reference: the interpreter holds its runners, which must not hold it back (see
        # `interpreter` and `release`: a dropped interpreter is freed at once, without the collector).
        self._interpreter = None if interpreter is None else weakref.ref(interpreter)
        sg = self.subgraph
        # Current shapes: the file's, until resize_tensor_input changes an input.
        self.shapes: list[tuple | None] = [tuple(t.shape.tolist()) if isinstance(t.shape, np.ndarray) else
                                           tuple(int(d) for d in t.shape) for t in sg.tensors]
        self.dtypes = [np.dtype(numpy_dtype(t.type)) for t in sg.tensors]
        self.constants: dict[int, np.ndarray] = {}
        # An op's output is never a constant, even with a buffer index (a zero-size
        # tensor's empty buffer would otherwise read as its value).
        written = {i for op in sg.operators for i in op.outputs}
        for i, t in enumerate(sg.tensors):
            if not t.is_variable and i not in written:
                data = model.buffer_array(t)
                if data is not None:
                    self.constants[i] = data
        self.variables: dict[int, np.ndarray] = {}
        self.arrays: list[np.ndarray | None] = [None] * len(sg.tensors)
        self.steps = []
        self.nodes: list[Node] = []
        self.ready = False
        self.elided: dict[int, str] = {}     # tensors a plan rewrite left uncomputed (get_tensor says so)
        # What stateful kernels keep from one allocate_tensors to the next (the random ops' streams),
        # by node index: LiteRT's AllocateTensors leaves prepared ops alone until an input is
        # resized to another shape, and then prepares them afresh (resize_tensor_input clears it).
        self.op_state: dict = {}
        self.arena_bytes = 0
        self.allocations: dict = {}
        self.blas_threads = None
        self.quiet = quiet_context()     # where the plan runs: numpy ignores FP errors there
        self._validated = False
        self._planned = False     # allocated at least once
        self._stage = ""                 # what allocate is doing, for its error messages
        # OpResolverType.BUILTIN_REF: reference kernels only, no plan rewrites, no bound calls.
        self.reference = _is_reference(getattr(interpreter, "_op_resolver_type", None))
        self.rewrite = not (preserve_all_tensors or self.reference)

    @property
    def interpreter(self):
        """The Interpreter this runner belongs to (None for a runner made without one)."""
        ref = self._interpreter
        return None if ref is None else ref()

    def release(self) -> None:
        """Drop the plan (called when the interpreter goes away).  The nodes point back at the
        runner and the tape's error handler is one of its methods: without this, a dropped
        interpreter's arrays and bound calls would stay in memory until a full collection of the
        cyclic garbage collector."""
        self.ready = False
        for node in self.nodes + [step[1] for step in self.steps]:
            node.release()
        self.nodes = []
        self.steps = []
        self.tape = None
        self.arrays = [None] * len(self.arrays)
        self.op_state = {}

    # -- planning --

    def _spec(self, i: int) -> TensorSpec:
        t = self.subgraph.tensors[i]
        data = self.constants.get(i)
        return TensorSpec(i, t.name, self.shapes[i], self.dtypes[i], t.quantization, data, t.is_variable)

    def allocate(self) -> None:
        """Validate the graph (once), then plan the subgraph for its current input
        shapes as a pipeline of named stages (each a method below).  Whatever fails
        comes out as a tinylite error naming the stage (and the node, where one op
        is at fault), never as a raw exception from inside."""
        replanning = self._planned and not self.ready
        self.ready = False
        # The previous plan's nodes are dropped below: released first (see `release`), or what their
        # op data refers back to them with (a lazy table's fill) keeps them, and their buffers, in
        # reference cycles until a full collection.
        for node in self.nodes + [step[1] for step in self.steps]:
            node.release()
        if not self._validated:
            validate_subgraph(self.model, self.index)
            self._validated = True
        if replanning:
            # As LiteRT: allocate_tensors after a real resize re-plans and resets the variable
            # tensors (an LSTM's state) to their initial values; without one it keeps them.
            self.reset_variables()
        for i in self.subgraph.inputs:
            shape = self.shapes[i]
            if shape is not None and any(d < 0 for d in shape):
                raise PrepareError(
                    f"input tensor {i} ({self.subgraph.tensors[i].name!r}) has shape {list(shape)}, with a "
                    f"dimension of unknown size; give it a size first: resize_tensor_input({i}, [...])")
        plan = _Plan()
        for stage, method in STAGES:
            self._stage = stage
            try:
                getattr(self, method)(plan)
            except TinyliteError:
                raise
            except MemoryError:
                raise PrepareError(f"allocate_tensors ran out of memory while {stage}: a tensor shape in the "
                                   "model is implausibly large. Check the model's shapes and the ones given to "
                                   "resize_tensor_input.") from None
            except Exception as e:  # noqa: BLE001 - a bad model must never surface as a raw exception
                raise PrepareError(f"allocate_tensors failed while {stage}: {_describe(e)}. The model's "
                                   "tensors do not fit together; the file is corrupt or was written by a broken "
                                   "tool.") from None
        self.ready = True
        self._planned = True

    # -- stage 1: prepare --

    def _prepare_nodes(self, plan) -> None:
        """Each op's node and eval function (kernels' prepare, then the optimized
        kernel that applies); constant ops run at once (_fold), dynamic ones are
        left for invoke."""
        model, sg = self.model, self.subgraph
        specs = plan.specs

        def spec(i):
            if i < 0:
                return None
            if i not in specs:
                specs[i] = self._spec(i)
                specs[i].non_negative = i in non_negative
            return specs[i]

        non_negative = non_negative_tensors(model, sg)
        for i, t in enumerate(sg.tensors):
            if t.is_variable and i not in self.variables:
                self.variables[i] = self._initial_variable(i)
        for i in self.variables:
            spec(i).data = None     # variables change at run time
        self.nodes = []
        in_litert_order = feeding_hybrid_ops(model, sg)
        for oi, op in enumerate(sg.operators):
            op_name = model.op_name(op)
            code = model.operator_codes[op.opcode_index]
            node = Node(oi, op_name, op.builtin_options if op.builtin_options is not None else op.builtin_options_2,
                        [spec(i) for i in op.inputs], [spec(i) for i in op.outputs], code.version,
                        op.custom_options, runner=self,
                        intermediates=[spec(i) for i in (op.intermediates or [])], reference=self.reference,
                        litert_order=oi in in_litert_order)
            self.nodes.append(node)
            kernel = self._kernel(oi, op, op_name, node)
            is_dynamic = any(s is not None and s.index in plan.dynamic_tensors for s in node.inputs)
            fn = None
            if not is_dynamic:
                try:
                    fn = self._prepare(kernel, node)
                except DynamicShape:
                    is_dynamic = True
                except UnsupportedOpError as e:
                    raise UnsupportedOpError(f"Node number {oi} ({op_name}) failed to prepare: {e}"
                                             f"{unsupported_detail(op_name, node)}") from None
                except Exception as e:  # noqa: BLE001 - any kernel failure becomes one clear error
                    raise PrepareError(
                        f"Node number {oi} ({op_name}) failed to prepare: {_describe(e, node)}") from None
            if is_dynamic:
                for s in node.outputs:
                    s.shape = None
                    plan.dynamic_tensors.add(s.index)
                plan.plans.append((node, None, kernel, True))
                continue
            _check_object_outputs(node)
            for s in node.outputs:
                if s.shape is None:
                    raise PrepareError(f"Node number {oi} ({op_name}): prepare left output {s.index} without a shape")
                s.shape = tuple(int(d) for d in s.shape)
                if any(d < 0 for d in s.shape):
                    raise PrepareError(
                        f"Node number {oi} ({op_name}) computes output {s.index} ({s.name!r}) of shape "
                        f"{list(s.shape)}, which has a negative dimension, from inputs of shapes "
                        f"{[None if x is None else list(x.shape) for x in node.inputs]}. The op's options or "
                        "constant inputs do not fit its input shapes.")
            if not self._fold(plan, node, fn, kernel):
                plan.plans.append((node, fn, kernel, False))
        # Shapes and dtypes as prepared.
        for i, s in specs.items():
            self.shapes[i] = s.shape
        # A variable written by an op (the FILL that zeroes a stateless LSTM's state)
        # takes its producer's shape, e.g. after resize_tensor_input changed the batch.
        for i in self.variables:
            shape = self.shapes[i]
            if shape is not None and self.variables[i].shape != tuple(shape):
                memory.check(_nbytes(TensorSpec(i, "", shape, self.dtypes[i])),
                             f"Variable tensor {i} of shape {list(shape)}")
                self.variables[i] = np.zeros(shape, self.dtypes[i])

    def _fold(self, plan, node, fn, kernel) -> bool:
        """Run a node whose inputs are all constant now, its outputs becoming
        constants; False when it must run at invoke."""
        value_free = getattr(kernel, "VALUE_FREE_INPUTS", ())
        # An op writing a variable tensor (the FILL that zeroes a stateless LSTM's
        # state) must run on every invoke, however constant its inputs.
        foldable = getattr(kernel, "FOLDABLE", True) and not any(s.is_variable for s in node.outputs) and all(
            s is None or s.data is not None or k in value_free for k, s in enumerate(node.inputs))
        if not foldable:
            return False
        memory.check(sum(_nbytes(s) for s in node.outputs) + sum(b for b, _ in node.scratch),
                     f"Node number {node.index} ({node.op_name}), computed at prepare time,")
        # A value-free input (SHAPE's) needs a shape, not memory: one zero, broadcast.
        ins = [None if s is None else (s.data if s.data is not None else
                                       np.broadcast_to(np.zeros((), s.dtype), s.shape))
               for s in node.inputs]
        outs = [np.empty(s.shape, s.dtype) for s in node.outputs]
        try:
            fn(node, ins, outs)
        except Exception as e:  # noqa: BLE001
            raise PrepareError(
                f"Node number {node.index} ({node.op_name}) failed to prepare: {_describe(e, node)}") from None
        for s, o in zip(node.outputs, outs):
            o.setflags(write=False)
            s.data = o
            plan.folded[s.index] = o
        return True

    # -- stage 2: plan rewrites --

    def _rewrite_plan(self, plan) -> None:
        """The declared patterns of fusion.py (conv + max pool in one step,
        reshapes as views, PRELU after its pool, clamps moved onto pools, bias
        rows), applied before memory planning so that the planner sees the
        rewritten plan.  None under preserve_all_tensors or the reference resolver."""
        if not self.rewrite:
            return
        sg = self.subgraph
        keep = (set(sg.inputs) | set(sg.outputs) | set(plan.folded) | set(self.constants) | set(self.variables)
                | plan.dynamic_tensors)
        plan.plans, done = fusion.apply(plan.plans, keep)
        plan.aliases, plan.bias_rows, plan.elided = done.aliases, done.bias_rows, done.elided

    # -- stage 3: memory --

    def _plan_memory(self, plan) -> None:
        """Offsets in one arena for every tensor computed at invoke with a known shape."""
        sg = self.subgraph
        plans, aliases = plan.plans, plan.aliases
        producers = {}
        for step, (node, _, _, _) in enumerate(plans):
            for s in node.outputs:
                producers.setdefault(s.index, step)     # an in-place step (a PRELU after its pool) writes it again
        last_use: dict[int, int] = {}
        for step, (node, _, _, _) in enumerate(plans):
            for s in node.inputs:
                if s is not None:
                    last_use[aliases.get(s.index, s.index)] = step
        end = len(plans)
        allocations = []
        for i in set(producers) | set(sg.inputs):
            if (i in plan.folded or i in self.constants or i in self.variables or i in plan.dynamic_tensors
                    or i in plan.bias_rows):
                continue
            shape = self.shapes[i]
            size = math.prod(shape) * self.dtypes[i].itemsize if shape is not None else 0
            first = producers.get(i, -1)
            last = end if (i in sg.outputs or i in sg.inputs) else max(last_use.get(i, first), first)
            allocations.append(planner.Allocation(i, size, first, last))
        self.arena_bytes = planner.plan(allocations, share=not self.preserve_all_tensors)
        scratch = [(b, f"Node number {node.index} ({node.op_name})'s {what}") for node, *_ in plans
                   for b, what in node.scratch]
        if scratch:
            biggest = max(scratch)
            memory.check(self.arena_bytes + sum(b for b, _ in scratch),
                         f"The model's activations ({self.arena_bytes} bytes) with its kernels' scratch buffers "
                         f"(largest: {biggest[1]}, {biggest[0]} bytes)")
        else:
            memory.check(self.arena_bytes, "The model's activations")
        try:
            self.arena = np.empty(max(self.arena_bytes, 1), np.uint8)
        except MemoryError:
            biggest = max(allocations, key=lambda a: a.size)
            raise PrepareError(
                f"the model needs {self.arena_bytes / 2**30:.1f} GiB of activations, more than this machine can "
                f"allocate (largest: tensor {biggest.tensor} {sg.tensors[biggest.tensor].name!r} of shape "
                f"{list(self.shapes[biggest.tensor])}). Check the input shapes given to resize_tensor_input.") from None
        plan.allocations = allocations
        self.allocations = {a.tensor: a for a in allocations}   # tensor -> its place in the arena

    # -- stage 4: bind --

    def _bind(self, plan) -> None:
        """The array of every tensor (constants, folded values, variables, arena
        views, bias rows, aliases) and the (eval, node, inputs, outputs) steps."""
        arrays: list[np.ndarray | None] = [None] * len(self.subgraph.tensors)
        for i, data in self.constants.items():
            arrays[i] = data
        for i, data in plan.folded.items():
            arrays[i] = data
        for i, data in self.variables.items():
            arrays[i] = data
        for a in plan.allocations:
            dtype = self.dtypes[a.tensor]
            if dtype.hasobject:
                # RESOURCE/STRING handles are Python objects, which cannot live in a byte arena.
                # A string tensor not written yet reads as empty strings (LiteRT: no strings at all).
                arrays[a.tensor] = np.full(self.shapes[a.tensor], b"" if self.type_name(a.tensor) == "STRING"
                                           else None, dtype)
                continue
            arrays[a.tensor] = np.ndarray(self.shapes[a.tensor], dtype, self.arena, a.offset)
        for i, row in plan.bias_rows.items():
            arrays[i] = row[0, :-1].reshape(self.shapes[i])
        for i, src in plan.aliases.items():
            arrays[i] = arrays[src].reshape(self.shapes[i])
        for i in self.subgraph.outputs:
            if arrays[i] is None and self.shapes[i] is not None and i not in plan.dynamic_tensors:
                arrays[i] = np.zeros(self.shapes[i], self.dtypes[i])   # written by nothing: empty (validated)
        self.arrays = arrays
        self.folded = plan.folded
        self.dynamic_tensors = plan.dynamic_tensors
        self.elided = plan.elided
        self.steps = []
        for node, fn, kernel, dynamic in plan.plans:
            if dynamic:
                self.steps.append((self._run_dynamic, node, kernel, None))
            else:
                ins = [None if s is None else arrays[s.index] for s in node.inputs]
                outs = [arrays[s.index] for s in node.outputs]
                self.steps.append((fn, node, ins, outs))

    # -- stage 5: threads --

    def _split_batches(self, plan) -> None:
        """The heavy batch steps split across num_threads threads (threads.py)."""
        threads = self.num_threads
        # Unset, BLAS runs one thread during invoke (see threads.py: its spinning threads made small models
        # 25x slower on a busy machine).
        self.blas_threads = 1 if threads is None else threads
        if threads is not None and threads > 1 and not self.reference:
            self.steps = split_batches(self.steps, threads, self.interpreter._executor())
            if any(isinstance(fn, BatchSplit) for fn, _, _, _ in self.steps):
                self.blas_threads = 1

    # -- stage 6: compile --

    def _compile(self, plan) -> None:
        """The steps as the tape invoke runs (bound calls, except under the reference resolver)."""
        self.tape = Tape(self.steps, self._failed, bind=not self.reference)

    def _prepare(self, kernel, node):
        """The eval function of a node: its kernel's reference prepare, then, unless
        the reference resolver was asked for, the optimized kernel that applies."""
        node.unseal()
        fn = kernel.prepare(node)
        if not self.reference:
            fn = optimized.select(node, fn)
        node.seal()
        return fn

    def _kernel(self, oi: int, op, op_name: str, node=None):
        """The kernel of an operator: for a custom op, the user's registration first
        (see custom_ops), then the ones tinylite bundles; for a builtin, its module."""
        code = self.model.operator_codes[op.opcode_index]
        if code.custom_code is not None and OP_NAMES.get(code.builtin_code) == "CUSTOM":
            resolver = getattr(self.interpreter, "_op_resolver", None)
            kernel = resolver.find_custom(op_name) if resolver is not None else None
            if kernel is None:
                kernel = kernel_for_custom(op_name)
            if kernel is None:
                sg = self.subgraph
                types = ", ".join(f"{TENSOR_TYPE_NAMES.get(sg.tensors[i].type, '?')}{list(self.shapes[i] or ())}"
                                  if i >= 0 else "(none)" for i in op.inputs) or "(none)"
                raise unresolved_custom_op(op_name, oi, types)
            return kernel
        try:
            return kernel_for(op_name)
        except UnsupportedOpError as e:
            detail = "" if node is None else unsupported_detail(op_name, node)
            raise UnsupportedOpError(f"Node number {oi} ({op_name}): {e}{detail}") from None

    def _initial_variable(self, i: int) -> np.ndarray:
        t = self.subgraph.tensors[i]
        data = self.model.buffer_array(t)
        if data is not None:
            return np.array(data)
        # LiteRT's ResetVariableTensor fills int8 variables with their zero point (others with 0).
        if self.shapes[i] is None or any(d < 0 for d in self.shapes[i]):
            raise PrepareError(f"variable tensor {i} ({t.name!r}) has shape {self.shapes[i]}; a variable needs "
                               "a fixed shape in the file")
        memory.check(_nbytes(TensorSpec(i, t.name, self.shapes[i], self.dtypes[i])),
                     f"Variable tensor {i} ({t.name!r}) of shape {list(self.shapes[i])}")
        value = np.zeros(self.shapes[i], self.dtypes[i])
        q = t.quantization
        if value.dtype == np.int8 and q is not None and q.zero_point is not None and len(q.zero_point):
            value[...] = q.zero_point[0]
        return value

    def reset_variables(self) -> None:
        for i in list(self.variables):
            self.variables[i][...] = self._initial_variable(i)

    def _run_dynamic(self, node: Node, kernel, _unused) -> None:
        arrays = self.arrays
        for s in node.inputs:
            if s is not None:
                a = arrays[s.index]
                s.data = a
                s.shape = a.shape
        try:
            fn = self._prepare(kernel, node)
        except Exception as e:  # noqa: BLE001
            raise PrepareError(f"Node number {node.index} ({node.op_name}) failed to prepare: "
                               f"{_describe(e, node)}") from None
        for s in node.outputs:
            if s.shape is None or any(int(d) < 0 for d in s.shape):
                raise InvokeError(f"Node number {node.index} ({node.op_name}) computes output {s.index} "
                                  f"({s.name!r}) of shape {s.shape}, from inputs of shapes "
                                  f"{[None if x is None else list(x.shape) for x in node.inputs]}")
        memory.check(sum(_nbytes(s) for s in node.outputs) + sum(b for b, _ in node.scratch),
                     f"Node number {node.index} ({node.op_name})", InvokeError)
        ins = [None if s is None else arrays[s.index] for s in node.inputs]
        outs = [np.empty(tuple(int(d) for d in s.shape), s.dtype) for s in node.outputs]
        fn(node, ins, outs)
        for s, o in zip(node.outputs, outs):
            arrays[s.index] = o
            s.shape = o.shape

    # -- running --

    @property
    def num_threads(self) -> int | None:
        return getattr(self.interpreter, "_num_threads", None)

    def invoke(self) -> None:
        if not self.ready:
            raise RuntimeError("Invoke called on model that is not ready.")
        threads = self.blas_threads
        if threads is not None:
            b = blas()
            if b.current != threads:
                b.set(threads)
        quiet = self.quiet
        if quiet is None:
            run_quietly(None, self.tape.run)
            return
        # run_quietly, inlined (a Python call less on every invoke)
        try:
            quiet.run(self.tape.run)
        except RuntimeError as e:
            if str(e).startswith("cannot enter context"):
                run_quietly(quiet, self.tape.run)    # raises its clear error
            raise

    def _failed(self, step: int, e: Exception):
        node = self.steps[step][1]
        if isinstance(e, TinyliteError):
            raise e     # already names the node (a dynamic step's prepare, a control-flow subgraph)
        raise InvokeError(f"Node number {node.index} ({node.op_name}) failed to invoke: {_describe(e, node)}") from None

    # -- called by control-flow kernels (WHILE, IF, CALL_ONCE) --

    def output_shapes(self, input_shapes) -> list[tuple | None]:
        """The output shapes this subgraph gets for these input shapes (None where
        only known at run time), allocating it for them."""
        self._resize_inputs(input_shapes)
        if not self.ready:
            self.allocate()
        return [None if i in self.dynamic_tensors else self.shapes[i] for i in self.subgraph.outputs]

    def run(self, values) -> list[np.ndarray]:
        """Run the subgraph on these input arrays (re-planning when their shapes
        changed) and return copies of its outputs."""
        sg = self.subgraph
        if len(values) != len(sg.inputs):
            raise ValueError(f"subgraph {self.index} takes {len(sg.inputs)} inputs, got {len(values)}")
        self._resize_inputs([np.shape(v) for v in values])
        if not self.ready:
            self.allocate()
        for i, v in zip(sg.inputs, values):
            np.copyto(self.arrays[i], v, casting="unsafe")
        run_quietly(self.quiet, self.tape.run)
        return [np.array(self.arrays[i]) for i in sg.outputs]

    def _resize_inputs(self, shapes) -> None:
        for i, shape in zip(self.subgraph.inputs, shapes):
            shape = tuple(int(d) for d in shape)
            if self.shapes[i] != shape:
                self.shapes[i] = shape
                self.ready = False

    def invoke_profiled(self, per_call: bool = False, clock=None) -> list[tuple[int, str, float]]:
        """Run once, timing each step: [(node index, op name, seconds)].  A
        fused step is named after all its ops ("CONV_2D+MAX_POOL_2D"); ops
        that became views (reshapes) take no step and do not appear.  With
        `per_call`, each of a step's calls is timed on its own and named after
        what it runs (see tape.call_name): [(node index, call name, seconds)].
        `clock`: the timer (default time.perf_counter; time.thread_time for CPU time)."""
        import time

        if not self.ready:
            raise RuntimeError("Invoke called on model that is not ready.")
        if self.blas_threads is not None:
            blas().set(self.blas_threads)
        clock = clock or time.perf_counter

        def timed():
            times = []
            for (_, node, _, _), calls in zip(self.steps, self.tape.groups):
                label = getattr(node.data, "label", None) or node.op_name
                t = clock()
                for call in calls:
                    call()
                    if per_call:
                        now = clock()
                        times.append((node.index, call_name(call, label), now - t))
                        t = now
                if not per_call:
                    times.append((node.index, label, clock() - t))
            return times
        return run_quietly(self.quiet, timed)

    def tensor_array(self, i: int) -> np.ndarray | None:
        return self.arrays[i]

    def type_name(self, i: int) -> str:
        return TENSOR_TYPE_NAMES[self.subgraph.tensors[i].type]
