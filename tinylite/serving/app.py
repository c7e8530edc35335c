"""The FastAPI application of `tinylite serve`: TF Serving's REST API over tinylite interpreters.

Endpoints (as TF Serving's, plus operations):

- ``GET  /v1/models/{name}[/versions/{v}|/labels/{l}]``           model_version_status
- ``GET  /v1/models/{name}[/versions/{v}|/labels/{l}]/metadata``  signature_def
- ``POST /v1/models/{name}[/versions/{v}|/labels/{l}]:predict``   row or columnar predict
- ``GET  /healthz``, ``GET /metrics`` (also ``/monitoring/prometheus/metrics``), ``GET /openapi.json``

Every error is ``{"error": "..."}`` with TF Serving's status: 400 for a bad
request, 404 for an unknown model, version or route, 405 (with ``Allow``) for a
wrong method, 408 for a body that does not arrive in time, 413 for a body over the
limit, 503 for a model whose every interpreter is stuck, 504 for a prediction over
``--request_timeout_seconds``.

Each model has its own threads (``--pool_size`` of them): a model that never
finishes (an always-true WHILE loop) ties up only its own, its requests get 504
after the timeout and then 503 at once, and ``/healthz`` reports it (503); other
models keep answering.  A body's size is checked against the most its model's
inputs can need for ``--max_request_batch`` rows before it is read or parsed.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field

from fastapi import FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import codec
from .codec import RequestError
from .metrics import Metrics
from .models import Batcher, ModelConfig, Poller, ServedModel

log = logging.getLogger("tinylite.serving")

CONFIG_ENV = "TINYLITE_SERVE_CONFIG"


@dataclass
class ServeConfig:
    models: list = field(default_factory=list)        # of ModelConfig
    pool_size: int = 2
    poll_seconds: float = 1.0
    enable_batching: bool = False
    max_batch_size: int = 32
    batch_timeout_micros: int = 1000
    num_batch_threads: int = 0                          # 0: pool_size
    max_body_bytes: int = 64 << 20
    max_request_batch: int = 4096
    request_timeout: float = 30.0                       # seconds a prediction may run
    body_timeout: float = 10.0                          # seconds a request body may take to arrive
    log_level: str = "info"
    access_log: bool = True

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "ServeConfig":
        d = json.loads(text)
        d["models"] = [ModelConfig(**{**m, "versions": tuple(m["versions"]),
                                      "labels": {k: int(v) for k, v in m["labels"].items()}})
                       for m in d["models"]]
        return cls(**d)


# ------------------------------------------------------------------------------------------
# Structured logs


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg and the record's extra fields."""

    _STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "color_message"}

    def format(self, record: logging.LogRecord) -> str:
        out = {"ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
               "level": record.levelname.lower(), "logger": record.name, "msg": record.getMessage(),
               "pid": record.process}
        for k, v in vars(record).items():
            if k not in self._STANDARD and not k.startswith("_"):
                out[k] = v
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def setup_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name in ("tinylite.serving", "uvicorn", "uvicorn.error"):
        lg = logging.getLogger(name)
        lg.handlers[:] = [handler]
        lg.propagate = False
        lg.setLevel(level.upper())


# ------------------------------------------------------------------------------------------
# Server state


class ServerState:
    def __init__(self, config: ServeConfig):
        self.config = config
        self.metrics = Metrics()
        self.models = {m.name: ServedModel(m, config.pool_size, self._event) for m in config.models}
        # Decoding and encoding (bounded work) share one pool; predictions run on their
        # model's own pool, so a model that never finishes cannot take another's threads.
        self.executor = ThreadPoolExecutor(max_workers=max(1, config.pool_size), thread_name_prefix="tinylite-codec")
        self.model_executors = {name: ThreadPoolExecutor(max_workers=max(1, config.pool_size),
                                                         thread_name_prefix=f"tinylite-predict-{k}")
                                for k, name in enumerate(self.models)}
        self._running: dict[str, dict[int, float]] = {name: {} for name in self.models}
        self._running_lock = threading.Lock()
        self.poller = None

    def _event(self, event: str, **fields) -> None:
        self.metrics.model_events.labels(fields.get("model", ""), event).inc()
        level = logging.WARNING if event.endswith("failed") else logging.INFO
        log.log(level, event, extra=fields)

    def start(self) -> None:
        for m in self.models.values():
            m.poll(initial=True)
            if not m.available:
                log.warning("no loadable version", extra={"model": m.name, "base_path": m.config.base_path})
        if self.config.poll_seconds > 0:
            self.poller = Poller(list(self.models.values()), self.config.poll_seconds)
            self.poller.start()

    def stop(self) -> None:
        if self.poller:
            self.poller.stop_event.set()
            self.poller.join(timeout=5)
        self.executor.shutdown(wait=False, cancel_futures=True)
        for ex in self.model_executors.values():
            ex.shutdown(wait=False, cancel_futures=True)

    def model(self, name: str, for_status: bool = False) -> ServedModel:
        m = self.models.get(name)
        if m is None:
            if for_status:
                raise RequestError(f"Could not find any versions of model {_clip(name)}", 404)
            raise RequestError(f"Servable not found for request: Latest({_clip(name)})", 404)
        return m

    # -- predictions on the model's own threads, with a time limit --

    def stuck(self, name: str) -> list[float]:
        """Seconds each of the model's predictions past the request timeout has been running."""
        now = time.monotonic()
        with self._running_lock:
            return sorted((now - t for t in self._running[name].values()
                           if now - t > self.config.request_timeout), reverse=True)

    async def run_model(self, name: str, fn, *args):
        """fn(*args) on model `name`'s threads; 503 when all of them are stuck, 504 past the timeout."""
        if len(self.stuck(name)) >= self.config.pool_size:
            raise RequestError(f"model {name} is not answering: all {self.config.pool_size} of its interpreters "
                               f"have been running a prediction for over {self.config.request_timeout:g} s "
                               "(--request_timeout_seconds); see /healthz", 503)
        running, lock = self._running[name], self._running_lock

        def tracked():
            key = threading.get_ident()
            with lock:
                running[key] = time.monotonic()
            try:
                return fn(*args)
            finally:
                with lock:
                    running.pop(key, None)

        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self.model_executors[name], tracked)
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.config.request_timeout)
        except asyncio.TimeoutError:
            raise RequestError(f"model {name} did not answer within {self.config.request_timeout:g} s "
                               "(--request_timeout_seconds)", 504) from None

    def batcher(self, servable, sig) -> Batcher:
        b = servable.batchers.get(sig.key)
        if b is None:
            c = self.config
            on_batch = self.metrics.batch_size.labels(servable.name).observe
            b = servable.batchers[sig.key] = Batcher(servable, sig, c.max_batch_size, c.batch_timeout_micros / 1e6,
                                                     self.model_executors[servable.name],
                                                     c.num_batch_threads or c.pool_size, on_batch)
        return b


# ------------------------------------------------------------------------------------------
# Request helpers


def _clip(text: str, limit: int = 100) -> str:
    """A name or path from the request, cut short: a 100 KB model name is not echoed back."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def error_response(message: str, status: int, headers=None) -> Response:
    return Response(codec.dumps({"error": message}), status_code=status, media_type="application/json",
                    headers=headers)


async def read_body(request: Request, limit: int, why: str = "(--max_body_bytes)", timeout: float = 10.0) -> bytes:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise RequestError(f"request body is {int(length)} bytes; this server accepts at most {limit} bytes "
                           f"{why}", 413)
    chunks, size = [], 0

    async def receive():
        nonlocal size
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise RequestError(f"request body is over {limit} bytes, the limit of this server {why}", 413)
            chunks.append(chunk)

    try:
        await asyncio.wait_for(receive(), timeout)
    except asyncio.TimeoutError:
        declared = f" of the {length} its Content-Length declares" if length else ""
        raise RequestError(f"request body incomplete: {size} bytes{declared} arrived within {timeout:g} s",
                           408) from None
    return b"".join(chunks)


def body_limit(servable, config) -> tuple[int, str]:
    """The most bytes a predict body for this servable may have, and why."""
    bounds = [codec.max_request_bytes(sig, config.max_request_batch) for sig in servable.signatures.values()]
    if bounds and None not in bounds and max(bounds) < config.max_body_bytes:
        return max(bounds), (f"(its inputs, --max_request_batch={config.max_request_batch} rows, "
                             f"{codec.BYTES_PER_ELEMENT} bytes per value)")
    return config.max_body_bytes, "(--max_body_bytes)"


def _rows(arrays: dict):
    dims = {a.shape[0] if a.ndim else None for a in arrays.values()}
    return dims.pop() if len(dims) == 1 else None


def _decode(servable, body: bytes, max_rows: int):
    doc = codec.parse_body(body)
    sig = servable.signature(codec.signature_name(doc))
    raw = codec.raw_integers(doc)
    arrays, fmt = codec.decode_predict(doc, sig, raw, max_rows)
    return sig, raw, arrays, fmt


class ErrorBody(BaseModel):
    error: str


ERRORS = {400: {"model": ErrorBody, "description": "Malformed request (body, shape, dtype, signature)"},
          404: {"model": ErrorBody, "description": "Unknown model, version, label or route"}}

PREDICT_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {
        "type": "object",
        "description": "TF Serving predict request: exactly one of 'instances' (row format) or 'inputs' "
                       "(columnar format).",
        "oneOf": [{"required": ["instances"], "not": {"required": ["inputs"]}},
                  {"required": ["inputs"], "not": {"required": ["instances"]}}],
        "properties": {
            "signature_name": {"type": "string", "description": "default: serving_default"},
            "instances": {"type": "array", "items": {},
                          "description": "one entry per batch row; objects keyed by input name for several inputs"},
            "inputs": {"description": "a tensor (nested lists) or an object of named tensors"},
            "raw_integers": {"type": "boolean",
                             "description": "quantized models: exchange stored integers instead of real values"},
        },
    }}},
}


# ------------------------------------------------------------------------------------------
# The application


def create_app(config: ServeConfig) -> FastAPI:
    state = ServerState(config)

    @asynccontextmanager
    async def lifespan(app):
        await asyncio.get_running_loop().run_in_executor(None, state.start)
        try:
            yield
        finally:
            state.stop()

    app = FastAPI(title="tinylite serve", version="1",
                  description="TensorFlow Serving's REST API for .tflite models, served by tinylite (pure Python).",
                  lifespan=lifespan)
    app.state.tinylite = state

    @app.exception_handler(RequestError)
    async def _request_error(request, exc: RequestError):
        return error_response(exc.message, exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request, exc):
        message = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
        if exc.status_code == 404:
            message = f"Malformed request: {request.method} {_clip(request.url.path, 200)} ({message})"
        return error_response(message, exc.status_code, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request, exc):
        parts = [f"{'.'.join(str(x) for x in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors()]
        return error_response("Malformed request: " + "; ".join(parts), 400)

    @app.exception_handler(Exception)
    async def _internal(request, exc):
        log.error("internal error", exc_info=exc, extra={"path": request.url.path})
        return error_response(f"internal error: {type(exc).__name__}: {exc}", 500)

    @app.middleware("http")
    async def _observe(request: Request, call_next):
        t0 = time.perf_counter()
        request.state.info = info = {}
        try:
            response = await call_next(request)
        except Exception as exc:  # noqa: BLE001 - counted and logged like any other response
            log.error("internal error", exc_info=exc, extra={"path": request.url.path})
            response = error_response(f"internal error: {type(exc).__name__}: {exc}", 500)
        seconds = time.perf_counter() - t0
        if "api" in info:
            model = info.get("model")
            state.metrics.observe_request(model if model in state.models else "", info["api"],
                                          response.status_code, seconds)
        if config.access_log or response.status_code >= 500:
            log.log(logging.ERROR if response.status_code >= 500 else logging.INFO, "request",
                    extra={"method": request.method, "path": request.url.path, "status": response.status_code,
                           "ms": round(seconds * 1e3, 3), **info})
        return response

    # -- operations --

    @app.get("/healthz", tags=["operations"], responses={503: {"description": "a model has no available version"}})
    async def healthz():
        models = {name: sorted(m.available) for name, m in state.models.items()}
        stuck = {name: [round(s, 1) for s in state.stuck(name)] for name in state.models}
        stuck = {k: v for k, v in stuck.items() if v}
        ok = all(models.values()) and not stuck
        doc = {"status": "ok" if ok else "unavailable", "models": models}
        if stuck:
            doc["stuck"] = stuck    # seconds each prediction past --request_timeout_seconds has run
        return JSONResponse(doc, status_code=200 if ok else 503)

    @app.get("/metrics", tags=["operations"], response_class=Response)
    @app.get("/monitoring/prometheus/metrics", tags=["operations"], response_class=Response, include_in_schema=False)
    async def metrics():
        body, ctype = state.metrics.render()
        return Response(body, media_type=ctype)

    # -- status --

    def _status(request, model_name, version=None, label=None):
        request.state.info.update(model=model_name, api="status")
        m = state.model(model_name, for_status=True)
        return Response(codec.dumps({"model_version_status": m.status(version, label)}),
                        media_type="application/json")

    @app.get("/v1/models/{model_name}", tags=["model status"], responses=ERRORS)
    async def model_status(request: Request, model_name: str):
        return _status(request, model_name)

    @app.get("/v1/models/{model_name}/versions/{version}", tags=["model status"], responses=ERRORS)
    async def model_version_status(request: Request, model_name: str, version: int = Path(ge=0)):
        return _status(request, model_name, version)

    @app.get("/v1/models/{model_name}/labels/{label}", tags=["model status"], responses=ERRORS)
    async def model_label_status(request: Request, model_name: str, label: str):
        return _status(request, model_name, label=label)

    # -- metadata --

    def _metadata(request, model_name, version, label, raw):
        request.state.info.update(model=model_name, api="metadata")
        servable = state.model(model_name).servable(version, label)
        request.state.info["version"] = servable.version
        doc = {"model_spec": {"name": model_name, "signature_name": "", "version": str(servable.version)},
               "metadata": {"signature_def": {"signature_def": {
                   k: codec.signature_def(s, raw) for k, s in servable.signatures.items()}}}}
        return Response(codec.dumps(doc), media_type="application/json")

    RAW_QUERY = Query(False, description="quantized models: describe stored integer dtypes instead of DT_FLOAT")

    @app.get("/v1/models/{model_name}/metadata", tags=["model metadata"], responses=ERRORS)
    async def model_metadata(request: Request, model_name: str, raw_integers: bool = RAW_QUERY):
        return _metadata(request, model_name, None, None, raw_integers)

    @app.get("/v1/models/{model_name}/versions/{version}/metadata", tags=["model metadata"], responses=ERRORS)
    async def model_version_metadata(request: Request, model_name: str, version: int = Path(ge=0),
                                     raw_integers: bool = RAW_QUERY):
        return _metadata(request, model_name, version, None, raw_integers)

    @app.get("/v1/models/{model_name}/labels/{label}/metadata", tags=["model metadata"], responses=ERRORS)
    async def model_label_metadata(request: Request, model_name: str, label: str, raw_integers: bool = RAW_QUERY):
        return _metadata(request, model_name, None, label, raw_integers)

    # -- predict --

    async def _predict(request: Request, model_name: str, version=None, label=None) -> Response:
        request.state.info.update(model=model_name, api="predict")
        servable = state.model(model_name).servable(version, label)
        request.state.info["version"] = servable.version
        limit, why = body_limit(servable, config)
        body = await read_body(request, limit, why, config.body_timeout)
        loop = asyncio.get_running_loop()
        max_rows = config.max_request_batch
        sig, raw, arrays, fmt = await loop.run_in_executor(state.executor, _decode, servable, body, max_rows)
        rows = _rows(arrays)
        if config.enable_batching and rows is not None and rows <= config.max_batch_size:
            batcher = state.batcher(servable, sig)
            try:
                out = await asyncio.wait_for(batcher.submit(arrays, rows), config.request_timeout)
            except asyncio.TimeoutError:
                raise RequestError(f"model {model_name} did not answer within {config.request_timeout:g} s "
                                   "(--request_timeout_seconds)", 504) from None
        else:
            state.metrics.batch_size.labels(servable.name).observe(rows or 1)
            out = await state.run_model(servable.name, servable.predict, sig, arrays)
        payload = await loop.run_in_executor(state.executor, lambda: codec.dumps(
            codec.encode_predict(out, sig, fmt, raw)))
        return Response(payload, media_type="application/json")

    PREDICT = dict(tags=["predict"], responses=ERRORS | {413: {"model": ErrorBody, "description": "body too large"}},
                   openapi_extra={"requestBody": PREDICT_BODY})

    @app.post("/v1/models/{model_name}:predict", **PREDICT)
    async def predict(request: Request, model_name: str):
        return await _predict(request, model_name)

    @app.post("/v1/models/{model_name}/versions/{version}:predict", **PREDICT)
    async def predict_version(request: Request, model_name: str, version: int = Path(ge=0)):
        return await _predict(request, model_name, version=version)

    @app.post("/v1/models/{model_name}/labels/{label}:predict", **PREDICT)
    async def predict_label(request: Request, model_name: str, label: str):
        return await _predict(request, model_name, label=label)

    def openapi():
        # FastAPI's document, narrowed to this server: the model names, labels and versions it
        # serves, and an example request per predict route, so that a client (or a fuzzer)
        # generated from it reaches the models rather than 404s.
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes)
            names = sorted(state.models)
            labels = sorted({lb for m in state.models.values() for lb in m.config.labels})
            for item in schema.get("paths", {}).values():
                for op in item.values():
                    for param in op.get("parameters", []):
                        if param.get("name") == "model_name" and names:
                            param["schema"]["enum"] = names
                        elif param.get("name") == "label" and labels:
                            param["schema"]["enum"] = labels
                    body = op.get("requestBody", {}).get("content", {}).get("application/json")
                    example = _example_request(state)
                    if body is not None and example is not None:
                        body["example"] = example
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi
    return app


def _example_request(state: ServerState):
    """A valid row-format request for the first model's default signature (zeros, two rows)."""
    import numpy as np

    for m in state.models.values():
        if not m.available:
            continue
        sig = next(iter(m.servable().signatures.values()))
        if any(len(s.shape) == 0 for s in sig.inputs):
            return None

        def row(spec):
            shape = [1 if d == -1 else d for d in spec.shape[1:]]
            return np.zeros(shape, spec.wire_dtype(False)).tolist()

        if len(sig.inputs) == 1:
            return {"instances": [row(sig.inputs[0])] * 2}
        return {"instances": [{s.key: row(s) for s in sig.inputs}] * 2}
    return None


def app_from_env() -> FastAPI:
    """The uvicorn factory used by ``--workers N``: the configuration comes from the environment."""
    config = ServeConfig.from_json(os.environ[CONFIG_ENV])
    setup_logging(config.log_level)
    return create_app(config)
