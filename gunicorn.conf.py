"""gunicorn settings for production: ``gunicorn -c gunicorn.conf.py "app:create_app()"``.

Every value can be changed with gunicorn's own flags or GUNICORN_CMD_ARGS.

- workers: 2 per core + 1 (WEB_CONCURRENCY overrides), sync workers: the
  portal's requests are short and do their waiting in the database.
- preload_app = False: each worker imports the app after the fork, so
  ``kill -HUP <master>`` (systemd ``reload``) starts workers on new code while
  the old ones finish their requests; nothing (database connections, mail
  threads, metric files) is shared by accident across the fork. The price is
  a few MB and a second of start-up per worker.
- Metrics: PROMETHEUS_MULTIPROC_DIR is set here, before any worker imports
  prometheus_client, to a folder emptied at each start; ``child_exit`` marks a
  dead worker's files so its live gauges disappear (its counters stay summed).
- worker_exit: a worker leaving (reload, stop, max_requests) lets its mail
  thread finish the delivery under way, so that a mail is neither left
  claimed for its lease nor sent twice.
- Logs: the app writes one line per request itself (request id, redacted path,
  status, duration, account id; JSON with FLASK_LOG_JSON=true), so gunicorn's
  access log is off unless GUNICORN_ACCESS_LOG names a file or ``-``; its
  format then drops the query string and redacts token path segments too
  (logs.redact through RedactingLogger), and percent-encodes control
  characters in every atom (logs.printable).
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import sys
import tempfile

from gunicorn.glogging import Logger

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import logs  # noqa: E402 - needs the folder above on the path

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = 30  # a worker stuck this long is killed and replaced
graceful_timeout = 30  # on stop or reload, requests in flight get this long to finish
keepalive = 5  # behind nginx (keepalive to the upstream)
max_requests = 2000  # recycle workers now and then (slow leaks)
max_requests_jitter = 200
preload_app = False
# gunicorn's control socket (gunicornc) is not used; one per user would be shared.
control_socket_disable = True
forwarded_allow_ips = "127.0.0.1,::1"
proxy_allow_ips = "127.0.0.1,::1"

accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = "info"
# %(U)s is the path without its query string; RedactingLogger redacts tokens in it.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(f)s" "%(a)s"'


class RedactingLogger(Logger):
    """gunicorn's logger, with token-like path segments and query strings
    removed from every atom of the access log that could carry them, and
    control characters percent-encoded in all (a %0A in a path, decoded,
    would start a forged line)."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["U"] = logs.redact(atoms.get("U"))
        atoms["q"] = ""
        atoms["r"] = " ".join(
            logs.redact(part) if index == 1 else part for index, part in enumerate(atoms["r"].split(" "))
        )
        atoms["f"] = logs.redact_url(atoms.get("f"))
        printable = logs.printable
        return {name: printable(value) if isinstance(value, str) else value for name, value in atoms.items()}


logger_class = RedactingLogger

_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if not _metrics_dir:
    _metrics_dir = tempfile.mkdtemp(prefix="portail-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir
os.makedirs(_metrics_dir, exist_ok=True)


def on_starting(server):
    # Files of a previous run would add their counts to this one's.
    for entry in os.listdir(_metrics_dir):
        path = os.path.join(_metrics_dir, entry)
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)


def post_worker_init(worker):
    import serving

    app = worker.wsgi
    if worker.age == 1 and hasattr(app, "config"):
        serving.check_limit_store(app, worker.cfg.workers)


def worker_exit(server, worker):
    # In the worker, as it leaves gracefully: its mail thread finishes first.
    app = getattr(worker, "wsgi", None)  # none when the app failed to load
    if hasattr(app, "extensions"):
        import mailer

        mailer.finish_delivery(app)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
