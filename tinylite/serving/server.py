"""`tinylite serve`: arguments and start-up.  FastAPI and uvicorn are imported only when the
command runs, so building the `tinylite` argument parser stays free of them."""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile

EXAMPLE = "tinylite serve --model_name mnist --model_base_path models/mnist --port 8501"


def add_serve_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("models (as tensorflow_model_server)")
    g.add_argument("--model_name", help="name of the model in the URLs (/v1/models/NAME)")
    g.add_argument("--model_base_path", help="folder of integer-named version folders, each with model.tflite")
    g.add_argument("--model_config_file", help="TF Serving model config (text protobuf, model_config_list) for "
                   "several models")
    g.add_argument("--file_system_poll_wait_seconds", type=float, default=1.0,
                   help="how often to look for new and removed versions (0: never; default 1)")
    g = p.add_argument_group("server")
    g.add_argument("--port", "--rest_api_port", dest="port", type=int, default=8501, help="default 8501")
    g.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1; 0.0.0.0 to accept other machines)")
    g.add_argument("--workers", type=int, default=1, help="server processes (each loads every model)")
    g.add_argument("--pool_size", type=int, default=max(2, os.cpu_count() or 1),
                   help="interpreters per model version, i.e. concurrent predictions per process "
                        "(default: CPU count, at least 2)")
    g.add_argument("--max_body_bytes", type=int, default=64 << 20, help="largest request body (default 64 MiB)")
    g.add_argument("--max_request_batch", type=int, default=4096, help="most rows in one request (default 4096)")
    g.add_argument("--request_timeout_seconds", type=float, default=30.0,
                   help="a prediction running longer gets 504; a model whose every interpreter is stuck gets 503 "
                        "at once and fails /healthz (default 30)")
    g.add_argument("--body_timeout_seconds", type=float, default=10.0,
                   help="a request body that has not fully arrived by then gets 408 (default 10)")
    g.add_argument("--log_level", default="info", choices=["debug", "info", "warning", "error"])
    g.add_argument("--no_access_log", action="store_true", help="do not log every request (errors still are)")
    g = p.add_argument_group("server-side batching")
    g.add_argument("--enable_batching", action="store_true", help="merge concurrent requests into one invoke")
    g.add_argument("--max_batch_size", type=int, default=32, help="rows per merged batch (default 32)")
    g.add_argument("--batch_timeout_micros", type=int, default=1000,
                   help="how long a batch waits for more requests after its first (default 1000)")
    g.add_argument("--num_batch_threads", type=int, default=0,
                   help="batches run at once (default: --pool_size)")


def build_config(args):
    from .models import ModelConfig, load_model_config

    single = args.model_name or args.model_base_path
    if args.model_config_file and single:
        raise ValueError("use either --model_config_file or --model_name/--model_base_path, not both")
    if args.model_config_file:
        models = load_model_config(args.model_config_file)
    elif args.model_name and args.model_base_path:
        models = [ModelConfig(args.model_name, os.path.abspath(args.model_base_path))]
    else:
        raise ValueError("give --model_name NAME and --model_base_path DIR (DIR/<version>/model.tflite), "
                         "or --model_config_file")
    for m in models:
        if not os.path.isdir(m.base_path):
            raise ValueError(f"model {m.name!r}: base path {m.base_path} is not a folder; expected "
                             f"{m.base_path}/<integer version>/model.tflite")
    for name, value, low in (("--workers", args.workers, 1), ("--pool_size", args.pool_size, 1),
                             ("--max_batch_size", args.max_batch_size, 1), ("--max_body_bytes", args.max_body_bytes, 1),
                             ("--max_request_batch", args.max_request_batch, 1),
                             ("--batch_timeout_micros", args.batch_timeout_micros, 0),
                             ("--num_batch_threads", args.num_batch_threads, 0),
                             ("--request_timeout_seconds", args.request_timeout_seconds, 0.001),
                             ("--body_timeout_seconds", args.body_timeout_seconds, 0.001)):
        if value < low:
            raise ValueError(f"{name} must be >= {low}, got {value}")
    from .app import ServeConfig

    return ServeConfig(models=models, pool_size=args.pool_size, poll_seconds=args.file_system_poll_wait_seconds,
                       enable_batching=args.enable_batching, max_batch_size=args.max_batch_size,
                       batch_timeout_micros=args.batch_timeout_micros, num_batch_threads=args.num_batch_threads,
                       max_body_bytes=args.max_body_bytes, max_request_batch=args.max_request_batch,
                       request_timeout=args.request_timeout_seconds, body_timeout=args.body_timeout_seconds,
                       log_level=args.log_level, access_log=not args.no_access_log)


def serve_command(args) -> int:
    try:
        import uvicorn

        from .app import CONFIG_ENV, create_app, setup_logging
    except ImportError as e:
        raise RuntimeError(f"`tinylite serve` needs the serve extra: pip install 'tinylite[serve]' ({e})") from None
    config = build_config(args)
    setup_logging(config.log_level)
    common = dict(host=args.host, port=args.port, log_config=None, access_log=False,
                  timeout_graceful_shutdown=GRACE_SECONDS, log_level=config.log_level)
    if args.workers == 1:
        uvicorn.run(create_app(config), **common)
        _exit_now()
    # Several processes: each worker rebuilds the app from the environment; metrics aggregate
    # through a shared folder (prometheus-client's multiprocess mode).
    metrics_dir = tempfile.mkdtemp(prefix="tinylite-serve-metrics-")
    os.environ[CONFIG_ENV] = config.to_json()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        uvicorn.run("tinylite.serving.app:app_from_env", factory=True, workers=args.workers, **common)
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


# SIGTERM: uvicorn stops accepting, lets requests in flight finish for this long, then cancels them.
GRACE_SECONDS = 10


def _exit_now():
    """Leave once uvicorn has shut down.  A prediction stuck in a model (an endless WHILE) keeps
    its thread running, and Python's exit would wait for that thread forever: there is
    nothing left to do in this process, so flush and leave without waiting for it."""
    import logging
    import sys

    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
