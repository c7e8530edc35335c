"""Prometheus metrics of `tinylite serve`.

With ``--workers N`` every worker process writes its samples to the folder named
by ``PROMETHEUS_MULTIPROC_DIR`` (set by the serve command before the workers
start) and ``/metrics`` aggregates them, so the numbers cover the whole server
whichever worker answers the scrape.
"""
from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class Metrics:
    def __init__(self):
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("tinylite_serving_requests", "Requests by model, API and HTTP status.",
                                ["model", "api", "code"], registry=r)
        self.errors = Counter("tinylite_serving_request_errors", "Requests answered with an error, by model "
                              "and HTTP status.", ["model", "code"], registry=r)
        self.latency = Histogram("tinylite_serving_request_latency_seconds", "Request latency (body read to "
                                 "response), by model and API.", ["model", "api"], buckets=LATENCY_BUCKETS,
                                 registry=r)
        self.batch_size = Histogram("tinylite_serving_batch_size", "Rows per interpreter invoke (server-side "
                                    "batches when --enable_batching, else per request).", ["model"],
                                    buckets=BATCH_BUCKETS, registry=r)
        self.model_events = Counter("tinylite_serving_model_events", "Version loads, load failures and "
                                    "retirements.", ["model", "event"], registry=r)

    def observe_request(self, model: str, api: str, code: int, seconds: float) -> None:
        self.requests.labels(model, api, str(code)).inc()
        self.latency.labels(model, api).observe(seconds)
        if code >= 400:
            self.errors.labels(model, str(code)).inc()

    def render(self) -> tuple[bytes, str]:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
