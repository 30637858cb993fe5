"""gunicorn settings for the benchmark's portal servers: the tree's own
``gunicorn.conf.py`` (read from the directory gunicorn starts in, so a
baseline tree runs with its own), plus the CPU each request of a journey
costs its worker.

A journey's requests carry ``X-Bench-Counted`` (« 1 » from bench._journey's
Browser, JavaScript off; « js » from bench._browser, in Chromium). Each
one's CPU (the worker's thread, from gunicorn's ``pre_request``, its headers
read, to its ``post_request``: the body, the app, writing the answer) is
kept by that header's value (its lane), then by kind of request, and each
worker writes what it kept to ``BENCH_REQUEST_CPU_DIR`` as it leaves.
What a worker spends outside its
requests (accepting connections, its mail thread, its heartbeat) is the
difference with its CPU read from /proc."""

from __future__ import annotations

import collections
import json
import os
import re
import time

_CONF = os.path.join(os.getcwd(), "gunicorn.conf.py")
_tree: dict = {"__file__": _CONF, "__name__": "gunicorn_conf"}
if os.path.exists(_CONF):
    with open(_CONF, encoding="utf-8") as source:
        exec(compile(source.read(), _CONF, "exec"), _tree)  # noqa: S102 - the tree's own settings
globals().update({name: value for name, value in _tree.items() if not name.startswith("__")})

# A link's or a challenge's token makes every path its own: one kind each.
_KINDS = (
    (re.compile(r"^/activation/[^/]+$"), "/activation/…"),
    (re.compile(r"^/captcha/[^/]+$"), "/captcha/…"),
)
_spent: dict[str, dict[str, list[float]]] = collections.defaultdict(lambda: collections.defaultdict(list))


def _kind(method: str, path: str) -> str:
    for pattern, name in _KINDS:
        if pattern.match(path):
            path = name
            break
    return f"{method} {path}"


def pre_request(worker, req):
    own = _tree.get("pre_request")
    if own is not None:
        own(worker, req)
    req.bench_started = time.thread_time()


def post_request(worker, req, environ, resp):
    started = getattr(req, "bench_started", None)
    lane = environ.get("HTTP_X_BENCH_COUNTED")
    if started is not None and lane:
        _spent[lane][_kind(req.method, req.path)].append((time.thread_time() - started) * 1000)
    own = _tree.get("post_request")
    if own is not None:
        own(worker, req, environ, resp)


def worker_exit(server, worker):
    own = _tree.get("worker_exit")
    if own is not None:
        own(server, worker)
    folder = os.environ.get("BENCH_REQUEST_CPU_DIR")
    if folder:
        with open(os.path.join(folder, f"{os.getpid()}.json"), "w", encoding="utf-8") as out:
            json.dump(_spent, out)
