"""A throwaway PostgreSQL server for the tests: initdb in a temporary folder,
``postgres`` on 127.0.0.1 and a free port, removed afterwards.

initdb refuses to run as root: as root (CI), the server runs as the
``postgres`` system user, through runuser."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg2

# Debian's layout; the PG_BINDIR environment variable, if set, is used instead.
BINDIR_PATTERN = "/usr/lib/postgresql/*/bin"
START_TIMEOUT = 30.0


class ServerUnavailable(RuntimeError):
    """No PostgreSQL server could be started here."""


def find_bindir() -> Path:
    """The folder of initdb and postgres, the newest version first."""
    if os.environ.get("PG_BINDIR"):
        candidates = [os.environ["PG_BINDIR"]]
    else:
        candidates = sorted(glob.glob(BINDIR_PATTERN), key=_version, reverse=True)
    for candidate in candidates:
        path = Path(candidate)
        if (path / "initdb").is_file() and (path / "postgres").is_file():
            return path
    raise ServerUnavailable(
        "PostgreSQL server binaries (initdb, postgres) not found in "
        f"{os.environ.get('PG_BINDIR') or BINDIR_PATTERN}. Install them with "
        "`apt-get install postgresql` or set PG_BINDIR to their folder."
    )


def _version(path: str) -> tuple[int, ...]:
    name = Path(path).parent.name
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresServer:
    """Start with ``start()``, stop and remove with ``stop()``; or use
    ``running()``."""

    def __init__(self, host_auth: str = "trust") -> None:
        """``host_auth``: how TCP connections authenticate; Debian's is
        ``scram-sha-256`` (the superuser then connects over the socket)."""
        self.host_auth = host_auth
        self.bindir = find_bindir()
        self.as_root = os.geteuid() == 0
        self.root = Path(tempfile.mkdtemp(prefix="pg-test-", dir=self._parent()))
        self.data = self.root / "data"
        self.sockets = self.root / "sockets"
        self.log = self.root / "server.log"
        self.port = 0
        self.process: subprocess.Popen | None = None

    def _parent(self) -> str | None:
        """The system's temporary folder, unless the postgres user could not
        reach it (TMPDIR under /root when we are root): then /tmp."""
        parent = Path(tempfile.gettempdir()).resolve()
        if not self.as_root:
            return None
        reachable = all(folder.stat().st_mode & 0o001 for folder in (parent, *parent.parents))
        return None if reachable else "/tmp"  # noqa: S108 - a private mkdtemp folder inside

    # -- commands, as the postgres user when we are root --------------------------------

    def _command(self, *args: str) -> list[str]:
        if not self.as_root:
            return list(args)
        runuser = shutil.which("runuser")
        if runuser is None:
            raise ServerUnavailable("running as root and runuser is missing: cannot start PostgreSQL")
        return [runuser, "-u", "postgres", "--", *args]

    def _run(self, *args: str, timeout: float = 60) -> None:
        result = subprocess.run(  # noqa: S603 - fixed arguments
            self._command(*args), capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode != 0:
            raise ServerUnavailable(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")

    # -- life cycle ------------------------------------------------------------------

    def start(self) -> PostgresServer:
        """Create the cluster and start the server; on failure nothing is left."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self.sockets.mkdir()
        if self.as_root:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise ServerUnavailable(
                    "running as root and there is no `postgres` user to run the server"
                ) from None
            for path in (self.root, self.sockets):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        self._run(
            str(self.bindir / "initdb"),
            "--pgdata",
            str(self.data),
            "--username",
            "postgres",
            "--auth-local",
            "trust",
            "--auth-host",
            self.host_auth,
            "--encoding",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )
        last_error = ""
        for _attempt in range(3):  # another process may take the free port first
            self.port = free_port()
            try:
                self._start_postmaster()
                return
            except ServerUnavailable as error:
                last_error = str(error)
        raise ServerUnavailable(last_error)

    def _start_postmaster(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
                self._command(
                    str(self.bindir / "postgres"),
                    "-D",
                    str(self.data),
                    "-p",
                    str(self.port),
                    "-k",
                    str(self.sockets),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    "fsync=off",
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "full_page_writes=off",
                    "-c",
                    "shared_buffers=16MB",
                    "-c",
                    "max_connections=50",
                ),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.process = None
                raise ServerUnavailable(f"postgres exited at start:\n{self._log_tail()}")
            try:
                psycopg2.connect(**self.connect_params("postgres"), connect_timeout=1).close()
                return
            except psycopg2.OperationalError:
                time.sleep(0.05)
        self._terminate()
        raise ServerUnavailable(
            f"postgres did not accept connections in {START_TIMEOUT} s:\n{self._log_tail()}"
        )

    def _log_tail(self) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return "(no log)"

    def _terminate(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            pidfile = self.data / "postmaster.pid"
            # The postmaster itself (runuser may not pass signals on): SIGINT
            # is PostgreSQL's fast shutdown.
            with contextlib.suppress(OSError, ValueError, IndexError):
                os.kill(int(pidfile.read_text().splitlines()[0]), 2)
            self.process.send_signal(2)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None

    def stop(self) -> None:
        try:
            self._terminate()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    # -- use -------------------------------------------------------------------------

    def connect_params(self, dbname: str) -> dict:
        host = "127.0.0.1" if self.host_auth == "trust" else str(self.sockets)
        return {"host": host, "port": self.port, "user": "postgres", "dbname": dbname}

    def connect(self, dbname: str = "postgres"):
        """A psycopg2 connection in autocommit mode."""
        connection = psycopg2.connect(**self.connect_params(dbname))
        connection.autocommit = True
        return connection

    def create_database(self, prefix: str = "test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:16]}"
        connection = self.connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()
        return name

    def url(self, dbname: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"


@contextlib.contextmanager
def running() -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()
