"""The service under load, started as ``scripts/serve`` starts it: ``intake init-db``, gunicorn
with ``gunicorn.conf.py``, and the background worker (``intake worker``) in versions that have
one, so the same bench measures before and after the worker. Its database is a SQLite file or a
throwaway PostgreSQL server (``scripts/postgres``, as ``scripts/test`` starts one, but with
PostgreSQL's usual durability). Everything lives in the bench's temporary directory.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi", "intake"]
#: Settings of the environment the server must not inherit from whoever runs the bench.
UNSET = ("DATABASE_URL", "TEST_DATABASE_URL", "SECRET_KEY", "AUDIT_KEY", "INTAKE_ENV", "PORT",
         "PUBLIC_BASE_URL", "CLINIC_OPT_INS", "EHR_FHIR_BASE_URL")  # fmt: skip


@dataclass
class Database:
    kind: str
    url: str
    stop: Callable[[], None]
    #: The PostgreSQL server's data directory (its postmaster.pid names its process).
    data: Path | None = None

    def cpu_seconds(self) -> float:
        """CPU time of the PostgreSQL server's processes so far (SQLite's is the service's)."""
        if self.data is None:
            return 0.0
        try:
            postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return 0.0
        return sum(_cpu(pid) for pid in _tree({postmaster}))


@contextmanager
def database(kind: str, tmp: Path) -> Iterator[Database]:
    """A new, empty database of ``kind`` (sqlite or postgresql), removed afterwards."""
    if kind == "sqlite":
        yield Database(kind, f"sqlite:///{tmp / 'load.sqlite3'}", lambda: None)
        return
    script = ["bash", str(ROOT / "scripts" / "postgres")]
    # A directory of its own, directly in the system's: as root, the server runs as the postgres
    # user, who must reach it (scripts/postgres opens it to them), and nothing else of the bench.
    home = Path(tempfile.mkdtemp(prefix="intake-load-pg-"))
    started = subprocess.run(
        [*script, "start", str(home), "intake_load"],
        env={**os.environ, "PG_DURABLE": "1"}, capture_output=True, text=True, check=False,
    )  # fmt: skip

    def stop() -> None:
        subprocess.run([*script, "stop", str(home)], capture_output=True, check=False)
        shutil.rmtree(home, ignore_errors=True)

    if started.returncode != 0:
        stop()
        raise RuntimeError(f"PostgreSQL could not be started: {started.stderr.strip()}")
    try:
        yield Database(kind, started.stdout.strip(), stop, home / "pg" / "data")
    finally:
        stop()


def server_env(database_url: str, port: int) -> dict[str, str]:
    """What ``scripts/serve`` exports for a local run, with keys of this run's own."""
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    env.update(
        INTAKE_ENV="development",
        SECRET_KEY=secrets.token_hex(32),
        AUDIT_KEY=secrets.token_hex(32),
        DATABASE_URL=database_url,
        PORT=str(port),
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
    )
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def init_db(env: dict[str, str], log: Path) -> None:
    with log.open("ab") as out:
        subprocess.run([*FLASK, "init-db"], cwd=ROOT, env=env, stdout=out, stderr=out, check=True)


def has_worker(env: dict[str, str]) -> bool:
    """Whether this version has the background worker (``flask intake worker --help`` works)."""
    done = subprocess.run(
        [*FLASK, "worker", "--help"], cwd=ROOT, env=env, capture_output=True, check=False
    )
    return done.returncode == 0


@dataclass
class Server:
    base_url: str
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)

    @property
    def worker(self) -> bool:
        return "worker" in self.processes

    def cpu_seconds(self) -> float:
        """CPU time of every process of the service so far (web, renderers, worker)."""
        roots = {p.pid for p in self.processes.values()}
        return sum(_cpu(pid) for pid in _tree(roots))

    def log_tail(self, name: str, lines: int = 15) -> str:
        text = self.logs[name].read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


@contextmanager
def serving(env: dict[str, str], tmp: Path) -> Iterator[Server]:
    """gunicorn (and the worker, when there is one) on ``env``'s port until the block ends."""
    server = Server(env["PUBLIC_BASE_URL"])
    try:
        _start(server, "web", [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"],
               env, tmp)  # fmt: skip
        _wait_healthy(server)
        if has_worker(env):  # as scripts/serve starts it, WORKER_PROCESSES included
            processes = env.get("WORKER_PROCESSES", "1")
            _start(server, "worker", [*FLASK, "worker", "--processes", processes], env, tmp)
        yield server
    finally:
        for process in server.processes.values():
            process.send_signal(signal.SIGTERM)
        for process in server.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _start(server: Server, name: str, command: list[str], env: dict[str, str], tmp: Path) -> None:
    log = tmp / f"{name}.log"
    with log.open("ab") as out:
        server.processes[name] = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    server.logs[name] = log


def _wait_healthy(server: Server, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if server.processes["web"].poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{server.log_tail('web')}")
        try:
            if httpx.get(f"{server.base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer /healthz within {timeout:.0f} s")


# --- CPU accounting from /proc -----------------------------------------------------------------
def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()  # the command name may hold spaces


def _tree(roots: set[int]) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            parents[int(entry.name)] = int(fields[1])
    found = set(roots)
    grew = True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in found} - found
        found |= more
        grew = bool(more)
    return found


def _cpu(pid: int) -> float:
    """User and system time of a process and of its children that have ended."""
    fields = _stat(pid)
    if fields is None:
        return 0.0
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])
