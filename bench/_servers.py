"""gunicorn processes for the benchmarks, and their workers' CPU and memory
read from /proc (Linux)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_environment(tree: Path, settings: dict | None = None) -> dict:
    """The environment of a process the benchmark starts on ``tree``: this
    one's without its FLASK_* settings, then ``settings``. A setting of the
    caller's (FLASK_TESTING above all: the tests' cheapest password hashing)
    would otherwise change what is measured."""
    kept = {key: value for key, value in os.environ.items() if not key.startswith("FLASK_")}
    return {**kept, **(settings or {}), "PYTHONPATH": str(tree)}


@dataclass
class Gunicorn:
    """``gunicorn APP`` with ``workers`` sync workers on a free local port."""

    app: str
    cwd: Path
    env: dict = field(default_factory=dict)
    workers: int = 2
    port: int = field(default_factory=free_port)
    log: Path | None = None  # the server's output (mail printed to the console, errors)
    config: Path | None = None  # gunicorn's -c (by default, gunicorn.conf.py of the folder it starts in)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_path: str = "/") -> Gunicorn:
        command = [
            sys.executable, "-m", "gunicorn", self.app,
            "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
            "--worker-class", "sync", "--log-level", "warning",
            # The repository's gunicorn.conf.py recycles workers: that would
            # lose their CPU from the count and reset their memory.
            "--max-requests", "0",
        ]  # fmt: skip
        if self.config is not None:
            command += ["--config", str(self.config)]
        env = process_environment(self.cwd, self.env)
        output = self.log.open("ab") if self.log else subprocess.DEVNULL
        self.process = subprocess.Popen(command, cwd=self.cwd, env=env, stdout=output, stderr=output)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                raise RuntimeError(f"gunicorn {self.app} exited with {code}: {self.tail()}")
            try:
                with urllib.request.urlopen(self.url + ready_path, timeout=5):
                    pass
                if len(self.workers_pids()) == self.workers:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn {self.app} did not answer on {self.url}")

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:] if self.log and self.log.exists() else ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> Gunicorn:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()

    def workers_pids(self) -> list[int]:
        return children(self.process.pid) if self.process else []

    def cpu_seconds(self) -> float:
        """User + system CPU of the workers so far."""
        return sum(cpu_seconds(pid) for pid in self.workers_pids())

    def rss_mb(self) -> list[float]:
        return [rss_mb(pid) for pid in self.workers_pids()]


def children(parent: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if _stat(int(entry.name))[1] == parent:
                    pids.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return sorted(pids)


def _stat(pid: int) -> list[int]:
    """/proc/PID/stat's numeric fields after the command's name: [state, ppid, ...]
    with state as 0."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    return [0] + [int(value) for value in fields[1:]]


def cpu_seconds(pid: int) -> float:
    try:
        fields = _stat(pid)
    except OSError:
        return 0.0
    return (fields[11] + fields[12]) / CLOCK_TICKS  # utime, stime


def rss_mb(pid: int) -> float:
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except OSError:
        return 0.0
    return pages * PAGE_SIZE / 2**20
