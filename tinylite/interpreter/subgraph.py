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

import numpy as np

from ..errors import UnsupportedOpError
from ..flatbuffer.schema import OP_NAMES, TENSOR_TYPE_NAMES, numpy_dtype
from ..graph import Model
from ..kernels import kernel_for, optimized
from ..kernels.custom import kernel_for_custom
from ..kernels._base import DynamicShape, Node, TensorSpec
from . import fusion, planner
from .custom_ops import unresolved as unresolved_custom_op
from .tape import Tape, call_name, quiet_context, run_quietly
from .threads import BatchSplit, blas, split_batches


class PrepareError(RuntimeError):
    """An op could not be prepared; the message names the node and the op, as LiteRT's does."""


def _describe(e: BaseException) -> str:
    if isinstance(e, MemoryError):
        return "out of memory (a tensor shape in the model is implausibly large)"
    text = str(e)
    return text if isinstance(e, (ValueError, RuntimeError)) and text else f"{type(e).__name__}: {text}"


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
        self.bias_rows: dict[int, list] = {}        # tensor -> FULLY_CONNECTED nodes reading it with a 1 after
        self.allocations: list = []


class SubgraphRunner:
    def __init__(self, model: Model, index: int, preserve_all_tensors: bool = False, interpreter=None):
        self.model = model
        self.index = index
        self.subgraph = model.subgraphs[index]
        self.preserve_all_tensors = preserve_all_tensors
        self.interpreter = interpreter
        sg = self.subgraph
        # Current shapes: the file's, until resize_tensor_input changes an input.
        self.shapes: list[tuple | None] = [tuple(int(d) for d in t.shape) for t in sg.tensors]
        self.dtypes = [np.dtype(numpy_dtype(t.type)) for t in sg.tensors]
        self.constants: dict[int, np.ndarray] = {}
        for i, t in enumerate(sg.tensors):
            if not t.is_variable:
                data = model.buffer_array(t)
                if data is not None:
                    self.constants[i] = data
        self.variables: dict[int, np.ndarray] = {}
        self.arrays: list[np.ndarray | None] = [None] * len(sg.tensors)
        self.steps = []
        self.nodes: list[Node] = []
        self.ready = False
        self.arena_bytes = 0
        self.blas_threads = None
        self.quiet = quiet_context()     # where the plan runs: numpy ignores FP errors there
        # OpResolverType.BUILTIN_REF: reference kernels only, no plan rewrites, no bound calls.
        self.reference = _is_reference(getattr(interpreter, "_op_resolver_type", None))
        self.rewrite = not (preserve_all_tensors or self.reference)

    # -- planning --

    def _spec(self, i: int) -> TensorSpec:
        t = self.subgraph.tensors[i]
        data = self.constants.get(i)
        return TensorSpec(i, t.name, self.shapes[i], self.dtypes[i], t.quantization, data, t.is_variable)

    def allocate(self) -> None:
        """Plan the subgraph for its current input shapes: a pipeline of named
        stages, each a method below."""
        self.ready = False
        plan = _Plan()
        self._prepare_nodes(plan)       # prepare each op (and fold the constant ones)
        self._rewrite_plan(plan)        # reshapes as views, one-row biases in the product
        self._plan_memory(plan)         # the arena
        self._bind(plan)                # arrays for every tensor, (eval, node, inputs, outputs) steps
        self._rewrite_steps(plan)       # fused steps, in-place activations, batch splits
        self.tape = Tape(self.steps, self._failed, bind=not self.reference)
        self.ready = True

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
            return specs[i]

        for i, t in enumerate(sg.tensors):
            if t.is_variable and i not in self.variables:
                self.variables[i] = self._initial_variable(i)
        for i in self.variables:
            spec(i).data = None     # variables change at run time
        self.nodes = []
        for oi, op in enumerate(sg.operators):
            op_name = model.op_name(op)
            code = model.operator_codes[op.opcode_index]
            node = Node(oi, op_name, op.builtin_options if op.builtin_options is not None else op.builtin_options_2,
                        [spec(i) for i in op.inputs], [spec(i) for i in op.outputs], code.version,
                        op.custom_options, runner=self,
                        intermediates=[spec(i) for i in (op.intermediates or [])], reference=self.reference)
            self.nodes.append(node)
            kernel = self._kernel(oi, op, op_name)
            is_dynamic = any(s is not None and s.index in plan.dynamic_tensors for s in node.inputs)
            fn = None
            if not is_dynamic:
                try:
                    fn = self._prepare(kernel, node)
                except DynamicShape:
                    is_dynamic = True
                except UnsupportedOpError as e:
                    raise UnsupportedOpError(f"Node number {oi} ({op_name}) failed to prepare: {e}") from None
                except Exception as e:  # noqa: BLE001 - any kernel failure becomes one clear error
                    raise PrepareError(f"Node number {oi} ({op_name}) failed to prepare: {_describe(e)}") from None
            if is_dynamic:
                for s in node.outputs:
                    s.shape = None
                    plan.dynamic_tensors.add(s.index)
                plan.plans.append((node, None, kernel, True))
                continue
            for s in node.outputs:
                if s.shape is None:
                    raise PrepareError(f"Node number {oi} ({op_name}): prepare left output {s.index} without a shape")
                s.shape = tuple(int(d) for d in s.shape)
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
        ins = [None if s is None else (s.data if s.data is not None else np.empty(s.shape, s.dtype))
               for s in node.inputs]
        outs = [np.empty(s.shape, s.dtype) for s in node.outputs]
        try:
            fn(node, ins, outs)
        except Exception as e:  # noqa: BLE001
            raise PrepareError(f"Node number {node.index} ({node.op_name}) failed to prepare: {_describe(e)}") from None
        for s, o in zip(node.outputs, outs):
            o.setflags(write=False)
            s.data = o
            plan.folded[s.index] = o
        return True

    # -- stage 2: plan-level rewrites --

    def _rewrite_plan(self, plan) -> None:
        """Reshapes of intermediates become views of their input (no step, no
        memory), and one-row FULLY_CONNECTED inputs get a bias row (see fusion.py).
        None under preserve_all_tensors or the reference resolver."""
        if not self.rewrite:
            return
        sg = self.subgraph
        keep = (set(sg.inputs) | set(sg.outputs) | set(plan.folded) | set(self.constants) | set(self.variables)
                | plan.dynamic_tensors)
        plan.aliases = fusion.alias_reshapes(plan.plans, keep)
        plan.plans = [p for p in plan.plans if not p[0].outputs or p[0].outputs[0].index not in plan.aliases]
        produced = {s.index for node, _, _, _ in plan.plans for s in node.outputs}
        plan.bias_rows = fusion.bias_rows(plan.plans, plan.aliases, keep, produced)

    # -- stage 3: memory --

    def _plan_memory(self, plan) -> None:
        """Offsets in one arena for every tensor computed at invoke with a known shape."""
        sg = self.subgraph
        plans, aliases = plan.plans, plan.aliases
        producers = {}
        for step, (node, _, _, _) in enumerate(plans):
            for s in node.outputs:
                producers[s.index] = step
        last_use: dict[int, int] = {}
        for step, (node, _, _, _) in enumerate(plans):
            for s in node.inputs:
                if s is not None:
                    last_use[aliases.get(s.index, s.index)] = step
        if self.rewrite:
            fusion.keep_fused_inputs_alive(plans, producers, last_use, aliases)
        end = len(plans)
        allocations = []
        for i in set(producers) | set(sg.inputs):
            if (i in plan.folded or i in self.constants or i in self.variables or i in plan.dynamic_tensors
                    or i in plan.bias_rows):
                continue
            shape = self.shapes[i]
            size = int(np.prod(shape)) * self.dtypes[i].itemsize if shape is not None else 0
            first = producers.get(i, -1)
            last = end if (i in sg.outputs or i in sg.inputs) else max(last_use.get(i, first), first)
            allocations.append(planner.Allocation(i, size, first, last))
        self.arena_bytes = planner.plan(allocations, share=not self.preserve_all_tensors)
        try:
            self.arena = np.empty(max(self.arena_bytes, 1), np.uint8)
        except MemoryError:
            biggest = max(allocations, key=lambda a: a.size)
            raise PrepareError(
                f"the model needs {self.arena_bytes / 2**30:.1f} GiB of activations, more than this machine can "
                f"allocate (largest: tensor {biggest.tensor} {sg.tensors[biggest.tensor].name!r} of shape "
                f"{list(self.shapes[biggest.tensor])}). Check the input shapes given to resize_tensor_input.") from None
        plan.allocations = allocations

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
        with_row = {}
        for i, nodes in plan.bias_rows.items():
            size = int(np.prod(self.shapes[i]))
            row = np.ones((1, size + 1), self.dtypes[i])
            arrays[i] = row[0, :size].reshape(self.shapes[i])
            for node in nodes:
                with_row[id(node)] = node.derived(bias_row=row)
        for i, src in plan.aliases.items():
            arrays[i] = arrays[src].reshape(self.shapes[i])
        self.arrays = arrays
        self.folded = plan.folded
        self.dynamic_tensors = plan.dynamic_tensors
        self.steps = []
        for node, fn, kernel, dynamic in plan.plans:
            if dynamic:
                self.steps.append((self._run_dynamic, node, kernel, None))
            else:
                node = with_row.get(id(node), node)
                ins = [None if s is None else arrays[s.index] for s in node.inputs]
                outs = [arrays[s.index] for s in node.outputs]
                self.steps.append((fn, node, ins, outs))

    # -- stage 5: step rewrites and threads --

    def _rewrite_steps(self, plan) -> None:
        """Conv + max pool fused, PRELU after its pool, clamps moved onto pools
        (see fusion.py), then the heavy batch steps split across threads."""
        if self.rewrite:
            graph_outputs = set(self.subgraph.outputs)
            self.steps = fusion.fuse_conv_max_pool(self.steps, graph_outputs)
            self.steps = fusion.pool_before_prelu(self.steps, graph_outputs)
            self.steps = fusion.move_activations(self.steps, graph_outputs)
        threads = self.num_threads
        # Unset, BLAS runs one thread during invoke (see threads.py: its spinning threads made small models
        # 25x slower on a busy machine).
        self.blas_threads = 1 if threads is None else threads
        if threads is not None and threads > 1 and not self.reference:
            self.steps = split_batches(self.steps, threads, self.interpreter._executor())
            if any(isinstance(fn, BatchSplit) for fn, _, _, _ in self.steps):
                self.blas_threads = 1

    def _prepare(self, kernel, node):
        """The eval function of a node: its kernel's reference prepare, then, unless
        the reference resolver was asked for, the optimized kernel that applies."""
        fn = kernel.prepare(node)
        return fn if self.reference else optimized.select(node, fn)

    def _kernel(self, oi: int, op, op_name: str):
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
            raise UnsupportedOpError(f"Node number {oi} ({op_name}): {e}") from None

    def _initial_variable(self, i: int) -> np.ndarray:
        t = self.subgraph.tensors[i]
        data = self.model.buffer_array(t)
        if data is not None:
            return np.array(data)
        # LiteRT's ResetVariableTensor fills int8 variables with their zero point (others with 0).
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
            raise RuntimeError(f"Node number {node.index} ({node.op_name}) failed to prepare: {_describe(e)}") from None
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
        if self.blas_threads is not None:
            blas().set(self.blas_threads)
        run_quietly(self.quiet, self.tape.run)

    def _failed(self, step: int, e: Exception):
        node = self.steps[step][1]
        raise RuntimeError(f"Node number {node.index} ({node.op_name}) failed to invoke: {_describe(e)}") from None

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

    def invoke_profiled(self, per_call: bool = False) -> list[tuple[int, str, float]]:
        """Run once, timing each step: [(node index, op name, seconds)].  A
        fused step is named after all its ops ("CONV_2D+MAX_POOL_2D"); ops
        that became views (reshapes) take no step and do not appear.  With
        `per_call`, each of a step's calls is timed on its own and named after
        what it runs (see tape.call_name): [(node index, call name, seconds)]."""
        import time

        if not self.ready:
            raise RuntimeError("Invoke called on model that is not ready.")
        if self.blas_threads is not None:
            blas().set(self.blas_threads)
        clock = time.perf_counter

        def timed():
            times = []
            for (_, node, _, _), calls in zip(self.steps, self.tape.groups):
                label = getattr(node, "label", node.op_name)
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
