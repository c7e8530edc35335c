"""Served models: version folders, interpreter pools, server-side batching.

A model is a folder of integer-named version folders, each holding
``model.tflite`` (TF Serving's layout).  A poller thread rescans the folder;
a new version is loaded completely (parsed, one interpreter allocated) before it
is swapped in, and a retired version is only dropped from the table, so
requests already holding it finish on it.  Files still being written are not
loaded until their size and modification time stop changing between two polls.
"""
from __future__ import annotations

import asyncio
import logging
import os
import queue
import re
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from .codec import RequestError, Signature, TensorSpec

log = logging.getLogger("tinylite.serving")

MODEL_FILE = "model.tflite"


# --------------------------------------------------------------------------------------------
# Signatures of a model


def _spec(interp, key: str, details: dict, subgraph_index: int) -> TensorSpec:
    index = int(details["index"])
    tensor = interp.model.subgraphs[subgraph_index].tensors[index]
    dtype = np.dtype(details["dtype"])
    if dtype.kind == "S":
        dtype = np.dtype(object)    # STRING tensors: details say np.bytes_, values are object arrays of bytes
    scales = details["quantization_parameters"]["scales"]
    zero_points = details["quantization_parameters"]["zero_points"]
    scale = zp = None
    if dtype.kind in "iu" and len(scales) == 1 and float(scales[0]) > 0:
        scale, zp = float(scales[0]), int(zero_points[0]) if len(zero_points) else 0
    return TensorSpec(key=key, tensor_name=details["name"], index=index, dtype=dtype, type_code=int(tensor.type),
                      shape=tuple(int(d) for d in details["shape_signature"]), scale=scale,
                      zero_point=zp or 0)


def signatures_of(interp) -> dict[str, Signature]:
    """The model's SignatureDefs; a model without any gets ``serving_default`` over its
    input and output tensors, keyed by tensor name."""
    out = {}
    for key in interp.get_signature_list():
        runner = interp.get_signature_runner(key)
        sg = runner._subgraph_index
        out[key] = Signature(
            key,
            tuple(_spec(interp, n, d, sg) for n, d in runner.get_input_details().items()),
            tuple(_spec(interp, n, d, sg) for n, d in runner.get_output_details().items()),
            sg)
    if not out:
        out["serving_default"] = Signature(
            "serving_default",
            tuple(_spec(interp, d["name"], d, 0) for d in interp.get_input_details()),
            tuple(_spec(interp, d["name"], d, 0) for d in interp.get_output_details()),
            0, from_signature_def=False)
    return out


# --------------------------------------------------------------------------------------------
# One loaded version


class _Slot:
    """One interpreter and what it was last prepared for."""

    def __init__(self, content: bytes):
        from ..interpreter import Interpreter

        self.interp = Interpreter(model_content=content)
        self.interp.allocate_tensors()
        self.runners = {}
        self.shapes = {}

    def run(self, sig: Signature, arrays: dict) -> dict:
        if sig.from_signature_def:
            runner = self.runners.get(sig.key)
            if runner is None:
                runner = self.runners[sig.key] = self.interp.get_signature_runner(sig.key)
            return runner(**arrays)
        ip = self.interp
        changed = False
        for spec in sig.inputs:
            shape = arrays[spec.key].shape
            if self.shapes.get(spec.index) != shape:
                ip.resize_tensor_input(spec.index, shape)
                self.shapes[spec.index] = shape
                changed = True
        if changed:
            ip.allocate_tensors()
        for spec in sig.inputs:
            ip.set_tensor(spec.index, arrays[spec.key])
        ip.invoke()
        return {spec.key: ip.get_tensor(spec.index) for spec in sig.outputs}


class Servable:
    """A loaded version: its signatures and a pool of interpreters (one per concurrent request)."""

    def __init__(self, name: str, version: int, path: str, pool_size: int):
        self.name = name
        self.version = version
        self.path = path
        with open(path, "rb") as f:
            self.content = f.read()
        first = _Slot(self.content)   # parses and allocates: a broken file fails here, before the swap
        self.signatures = signatures_of(first.interp)
        self.pool_size = max(1, pool_size)
        self._free: queue.SimpleQueue = queue.SimpleQueue()
        self._free.put(first)
        self._created = 1
        self._lock = threading.Lock()
        self.batchers: dict[str, Batcher] = {}

    def signature(self, name: str) -> Signature:
        key = name or "serving_default"
        sig = self.signatures.get(key)
        if sig is None:
            if not name and len(self.signatures) == 1:
                return next(iter(self.signatures.values()))
            raise RequestError(f'Serving signature name: "{key}" not found in signature def '
                               f"(this model has: {', '.join(sorted(self.signatures))})")
        return sig

    def _acquire(self) -> _Slot:
        try:
            return self._free.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            grow = self._created < self.pool_size
            if grow:
                self._created += 1
        if grow:
            try:
                return _Slot(self.content)
            except BaseException:
                with self._lock:
                    self._created -= 1
                raise
        return self._free.get()

    def predict(self, sig: Signature, arrays: dict) -> dict:
        """Run one batch; fixed-batch models (batch dimension 1 in the signature) run row by row."""
        batch = _batch_size(sig, arrays)
        fixed = _fixed_batch(sig)
        if fixed is not None and batch is not None and batch != fixed:
            if fixed != 1:
                raise RequestError(f"this model has a fixed batch size of {fixed} (signature '{sig.key}'); "
                                   f"got a batch of {batch}")
            parts = [self._run(sig, {k: v[i:i + 1] for k, v in arrays.items()}) for i in range(batch)]
            if any(v.ndim == 0 for v in parts[0].values()):
                raise RequestError(f"this model has a fixed batch size of 1 and an output without a batch "
                                   f"dimension (signature '{sig.key}'); send one row per request")
            return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        return self._run(sig, arrays)

    def _run(self, sig: Signature, arrays: dict) -> dict:
        slot = self._acquire()
        try:
            return slot.run(sig, arrays)
        except (ValueError, RuntimeError) as e:
            # Shapes that pass the signature check but not an op's prepare (free dimensions the
            # graph cannot take) land here: the request's fault, reported with the op's message.
            raise RequestError(f"the model could not run on these inputs: {e}") from None
        finally:
            self._free.put(slot)


def _batch_size(sig: Signature, arrays: dict):
    sizes = {v.shape[0] for v in arrays.values() if v.ndim}
    if len(sizes) == 1 and all(v.ndim for v in arrays.values()):
        return sizes.pop()
    return None


def _fixed_batch(sig: Signature):
    dims = {s.shape[0] if s.shape else None for s in sig.inputs}
    if len(dims) == 1:
        d = dims.pop()
        if d is not None and d > 0:
            return d
    return None


# --------------------------------------------------------------------------------------------
# Server-side batching


class Batcher:
    """Merges concurrent row-compatible requests for one (version, signature) into one invoke.

    A batch closes when it holds ``max_batch_size`` rows or ``timeout`` seconds after its first
    request arrived.  Requests only join a batch whose inputs have the same per-row shapes and
    dtypes; larger requests than ``max_batch_size`` run on their own.
    """

    def __init__(self, servable: Servable, sig: Signature, max_batch_size: int, timeout: float, executor,
                 max_concurrent: int, on_batch=None):
        self.servable, self.sig = servable, sig
        self.max_batch_size, self.timeout = max_batch_size, timeout
        self.executor = executor
        self.on_batch = on_batch
        self._pending: list = []     # (key, rows, arrays, future, arrival time)
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(max_concurrent)
        self._task = None

    async def submit(self, arrays: dict, rows: int) -> dict:
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        key = tuple((k, v.shape[1:], v.dtype.str) for k, v in sorted(arrays.items()))
        self._pending.append((key, rows, arrays, fut, time.monotonic()))
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._loop())
        return await fut

    async def _loop(self):
        while self._pending:
            first_at = self._pending[0][4]
            while sum(p[1] for p in self._pending if p[0] == self._pending[0][0]) < self.max_batch_size:
                remaining = first_at + self.timeout - time.monotonic()
                if remaining <= 0:
                    break
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), remaining)
                except asyncio.TimeoutError:
                    break
            key = self._pending[0][0]
            batch, rest, rows = [], [], 0
            for p in self._pending:
                if p[0] == key and (not batch or rows + p[1] <= self.max_batch_size):
                    batch.append(p)
                    rows += p[1]
                else:
                    rest.append(p)
            self._pending = rest
            await self._slots.acquire()
            asyncio.get_running_loop().create_task(self._execute(batch, rows))

    async def _execute(self, batch, rows):
        loop = asyncio.get_running_loop()
        try:
            if self.on_batch:
                self.on_batch(rows)
            if len(batch) == 1:
                merged = batch[0][2]
            else:
                merged = {k: np.concatenate([p[2][k] for p in batch]) for k in batch[0][2]}
            try:
                out = await loop.run_in_executor(self.executor, self.servable.predict, self.sig, merged)
            except Exception as e:  # noqa: BLE001 - every waiting request gets the error
                for p in batch:
                    _resolve(p[3], exc=e)
                return
            if len(batch) == 1:
                _resolve(batch[0][3], out)
                return
            if any(v.ndim == 0 or v.shape[0] != rows for v in out.values()):
                # Outputs without a batch dimension cannot be split: run each request alone.
                for p in batch:
                    try:
                        _resolve(p[3], await loop.run_in_executor(self.executor, self.servable.predict,
                                                                  self.sig, p[2]))
                    except Exception as e:  # noqa: BLE001
                        _resolve(p[3], exc=e)
                return
            start = 0
            for p in batch:
                _resolve(p[3], {k: v[start:start + p[1]] for k, v in out.items()})
                start += p[1]
        finally:
            self._slots.release()


def _resolve(fut, result=None, exc=None):
    if fut.done():   # the client went away and its request was cancelled
        return
    if exc is not None:
        fut.set_exception(exc)
    else:
        fut.set_result(result)


# --------------------------------------------------------------------------------------------
# A model: its folder, version policy and loaded versions


@dataclass
class ModelConfig:
    name: str
    base_path: str
    policy: str = "latest"          # latest | all | specific
    num_versions: int = 1
    versions: tuple = ()
    labels: dict = field(default_factory=dict)


@dataclass
class VersionState:
    state: str
    error_code: str = "OK"
    error_message: str = ""


class ServedModel:
    def __init__(self, config: ModelConfig, pool_size: int, on_event=None):
        self.config = config
        self.name = config.name
        self.pool_size = pool_size
        self.available: dict[int, Servable] = {}       # replaced whole, never mutated: readers need no lock
        self.states: dict[int, VersionState] = {}
        self._seen_stat: dict[int, tuple] = {}
        self._failed_stat: dict[int, tuple] = {}
        self._lock = threading.Lock()
        self.on_event = on_event or (lambda *a, **k: None)

    # -- folder scanning --

    def _scan(self) -> dict[int, tuple]:
        found = {}
        try:
            entries = os.listdir(self.config.base_path)
        except OSError as e:
            log.warning("cannot list model folder", extra={"model": self.name, "error": str(e)})
            return found
        for entry in entries:
            if not re.fullmatch(r"\d{1,18}", entry):
                continue
            path = os.path.join(self.config.base_path, entry, MODEL_FILE)
            try:
                st = os.stat(path)
            except OSError:
                continue
            found[int(entry)] = (path, st.st_size, st.st_mtime_ns)
        return found

    def _wanted(self, found: dict) -> list[int]:
        versions = sorted(found, reverse=True)
        c = self.config
        if c.policy == "all":
            return versions
        if c.policy == "specific":
            return [v for v in versions if v in c.versions]
        return versions

    def poll(self, initial: bool = False) -> None:
        """Load new versions, retire old ones.  One poll at a time (the poller thread, or start-up)."""
        with self._lock:
            found = self._scan()
            candidates = self._wanted(found)
            loaded = dict(self.available)
            keep: list[int] = []
            limit = self.config.num_versions if self.config.policy == "latest" else len(candidates)
            for v in candidates:
                if len(keep) >= limit:
                    break
                path, size, mtime = found[v]
                stat = (size, mtime)
                if v in loaded and loaded[v].stat == stat:
                    keep.append(v)
                    continue
                previous = self._seen_stat.get(v)
                self._seen_stat[v] = stat
                if not initial and previous != stat:
                    # New or changed since the last poll: it may still be being written; wait a poll.
                    if v in loaded:
                        keep.append(v)
                    continue
                if self._failed_stat.get(v) == stat:
                    continue
                self.states[v] = VersionState("LOADING")
                t0 = time.perf_counter()
                try:
                    servable = Servable(self.name, v, path, self.pool_size)
                except Exception as e:  # noqa: BLE001 - any broken file is reported, never fatal
                    self._failed_stat[v] = stat
                    self.states[v] = VersionState("END", "UNKNOWN", f"could not load {path}: {e}")
                    self.on_event("version_load_failed", model=self.name, version=v, error=str(e))
                    if v in loaded:
                        keep.append(v)
                    continue
                servable.stat = stat
                self._failed_stat.pop(v, None)
                loaded[v] = servable
                keep.append(v)
                self.states[v] = VersionState("AVAILABLE")
                self.on_event("version_loaded", model=self.name, version=v,
                              load_ms=round((time.perf_counter() - t0) * 1e3, 2))
            new = {v: loaded[v] for v in keep}
            if not new and self.available:
                # Nothing loadable right now (folder emptied or every file broken): keep serving.
                return
            retired = [v for v in self.available if v not in new]
            self.available = new
            for v in retired:
                self.states[v] = VersionState("END")
                self.on_event("version_retired", model=self.name, version=v)

    # -- lookups --

    def servable(self, version: int | None = None, label: str | None = None) -> Servable:
        available = self.available
        if label is not None:
            if label not in self.config.labels:
                raise RequestError(f"Unrecognized servable version label: {label}", 404)
            version = self.config.labels[label]
        if version is None:
            if not available:
                raise RequestError(f"Servable not found for request: Latest({self.name})", 404)
            return available[max(available)]
        s = available.get(version)
        if s is None:
            raise RequestError(f"Servable not found for request: Specific({self.name}, {version})", 404)
        return s

    def status(self, version: int | None = None, label: str | None = None) -> list[dict]:
        states = dict(self.states)
        if label is not None:
            if label not in self.config.labels:
                raise RequestError(f"Unrecognized servable version label: {label}", 404)
            version = self.config.labels[label]
        if version is not None:
            if version not in states:
                raise RequestError(f"Could not find version {version} of model {self.name}", 404)
            states = {version: states[version]}
        if not states:
            raise RequestError(f"Could not find any versions of model {self.name}", 404)
        return [{"version": str(v), "state": s.state,
                 "status": {"error_code": s.error_code, "error_message": s.error_message}}
                for v, s in sorted(states.items(), reverse=True)]


class Poller(threading.Thread):
    def __init__(self, models: list[ServedModel], interval: float):
        super().__init__(name="tinylite-serve-poller", daemon=True)
        self.models, self.interval = models, interval
        self.stop_event = threading.Event()

    def run(self):
        while not self.stop_event.wait(self.interval):
            for m in self.models:
                try:
                    m.poll()
                except Exception:  # noqa: BLE001 - the poller must survive anything a folder does
                    log.exception("poll failed", extra={"model": m.name})


# --------------------------------------------------------------------------------------------
# --model_config_file: TF Serving's ModelServerConfig in protobuf text format (the subset that
# matters here: name, base_path, model_platform, model_version_policy, version_labels).


_TOKEN = re.compile(r"\s+|#[^\n]*|(?P<tok>[{}:<>]|'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[A-Za-z0-9_.+\-/]+)")


def _tokens(text: str):
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise ValueError(f"model config: unexpected character {text[pos]!r} at offset {pos}")
        pos = m.end()
        if m.group("tok") is not None:
            yield m.group("tok")


def parse_text_proto(text: str) -> dict:
    toks = list(_tokens(text))
    pos = 0

    def message(end):
        nonlocal pos
        out: dict = {}
        while pos < len(toks) and toks[pos] != end:
            name = toks[pos]
            pos += 1
            if pos < len(toks) and toks[pos] == ":":
                pos += 1
            if pos >= len(toks):
                raise ValueError(f"model config: field {name!r} has no value")
            if toks[pos] in "{<":
                close = "}" if toks[pos] == "{" else ">"
                pos += 1
                value = message(close)
                if pos >= len(toks):
                    raise ValueError(f"model config: missing {close!r} after field {name!r}")
                pos += 1
            else:
                value = toks[pos]
                pos += 1
                if value[:1] in "'\"":
                    value = value[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")
            out.setdefault(name, []).append(value)
        return out

    result = message(None)
    if pos < len(toks):
        raise ValueError(f"model config: unexpected {toks[pos]!r}")
    return result


def load_model_config(path: str) -> list[ModelConfig]:
    with open(path, encoding="utf-8") as f:
        doc = parse_text_proto(f.read())
    lists = doc.get("model_config_list")
    if not lists:
        raise ValueError(f"{path}: expected a 'model_config_list {{ config {{ name: ... base_path: ... }} }}' "
                         "(TF Serving's model config file format)")
    configs = []
    base_dir = os.path.dirname(os.path.abspath(path))
    for cfg in lists[0].get("config", []):
        def one(key, default=None, c=cfg):
            v = c.get(key)
            return v[0] if v else default

        name, base = one("name"), one("base_path")
        if not name or not base:
            raise ValueError(f"{path}: every config needs a name and a base_path, got {cfg}")
        platform = one("model_platform", "tflite")
        if platform not in ("tflite", "tensorflow"):
            raise ValueError(f"{path}: model {name!r} has model_platform {platform!r}; tinylite serves 'tflite'")
        mc = ModelConfig(name, base if os.path.isabs(base) else os.path.join(base_dir, base))
        policy = one("model_version_policy")
        if policy:
            if "all" in policy:
                mc.policy = "all"
            elif "specific" in policy:
                mc.policy = "specific"
                mc.versions = tuple(int(v) for v in policy["specific"][0].get("versions", []))
            elif "latest" in policy:
                mc.num_versions = int(policy["latest"][0].get("num_versions", ["1"])[0])
        for entry in cfg.get("version_labels", []):
            mc.labels[entry["key"][0]] = int(entry["value"][0])
        configs.append(mc)
    if not configs:
        raise ValueError(f"{path}: model_config_list has no config entries")
    names = [c.name for c in configs]
    if len(set(names)) != len(names):
        raise ValueError(f"{path}: model names must be unique, got {names}")
    return configs
