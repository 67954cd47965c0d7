"""One load run: a new database and server, the patients invited, the load, then the checks."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import random
import re
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.load_flow import Browser, FlowError, Sample, route_of, run_patient, think_time
from bench.load_patient import VirtualPatient
from bench.load_report import percentile
from bench.load_server import database, free_port, init_db, load_average, server_env, serving
from bench.load_store import answer_count, make_patients, read_only_engine, stored_pdfs, verify


@dataclass(frozen=True)
class RunSettings:
    database: str
    seconds: float
    think: float
    seed: int
    pdf_wait: float
    tmp: Path


@dataclass
class Result:
    """Everything one run measured and checked."""

    settings: RunSettings
    patients: int
    worker: bool = False
    samples: list[Sample] = field(default_factory=list)
    people: list[VirtualPatient] = field(default_factory=list)
    #: Per submission: seconds from pressing "Send" until the bench saw the PDF stored.
    pdf_seen: list[float] = field(default_factory=list)
    #: The same from the server's own clock: pdf_rendered_at - submitted_at.
    pdf_server: list[float] = field(default_factory=list)
    pdf_missing: int = 0
    problems: list[str] = field(default_factory=list)
    answers: int = 0
    #: Patients whose answers were checked (the warm-up ones too), and how many of them sent.
    checked: tuple[int, int] = (0, 0)
    elapsed: float = 0.0
    cpu_server: float = 0.0
    cpu_database: float = 0.0
    cpu_bench: float = 0.0
    load_start: float = 0.0
    load_during: float = 0.0
    load_max: float = 0.0
    pool_ran_out: int = 0
    #: Per route, the time inside gunicorn (its access log): the rest of a request's time is
    #: waiting for a free worker.
    server_times: dict[str, list[float]] = field(default_factory=dict)
    #: The server's log lines that are neither access lines nor routine notices.
    server_notes: list[str] = field(default_factory=list)
    warm_up_errors: list[str] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(not s.expected for s in self.samples)

    def by_route(self) -> dict[str, list[Sample]]:
        out: dict[str, list[Sample]] = {}
        for sample in self.samples:
            out.setdefault(sample.route, []).append(sample)
        return dict(sorted(out.items(), key=lambda kv: (kv[0].split()[1], kv[0])))

    def worst_route(self, exclude: Sequence[str] = ()) -> tuple[str, float]:
        worst = ("none", 0.0)
        for route, samples in self.by_route().items():
            if route not in exclude:
                p95 = percentile([s.seconds for s in samples], 95)
                worst = max(worst, (route, p95), key=lambda w: w[1])
        return worst


_ACCESS = re.compile(r'"(GET|POST) (\S+) HTTP/[\d.]+" (\d+) \S+ (\d+)ms')
_ROUTINE = re.compile(r"\[INFO\]|^\s*$")


def _read_logs(logs: dict[str, Path], start: dict[str, int], result: Result) -> None:
    """The log lines written since ``start`` (byte offsets: the load's, not the warm-up's)."""
    for name, log in logs.items():
        with log.open("rb") as f:
            f.seek(start.get(name, 0))
            text = f.read().decode("utf-8", errors="replace")
        for line in text.splitlines():
            if match := _ACCESS.search(line):
                method, path, _status, millis = match.groups()
                if path != "/healthz":  # the bench's own, before the load
                    times = result.server_times.setdefault(route_of(method, path), [])
                    times.append(int(millis) / 1000)
            elif not _ROUTINE.search(line):
                result.server_notes.append(f"{name}: {line}")


def _app(env: dict[str, str]) -> Any:
    """The app in this process, on the run's database: for the invitations, before the load."""
    os.environ.update(env)
    from intake import create_app

    return create_app()


def run(settings: RunSettings, patients: int) -> Result:
    from forms.loader import get_catalog
    from intake import db

    work = Path(tempfile.mkdtemp(dir=settings.tmp, prefix=f"{settings.database}-{patients}-"))
    result = Result(settings, patients, load_start=load_average())
    catalog = get_catalog()
    with database(settings.database, work) as store:
        env = server_env(store.url, free_port())
        init_db(env, work / "init-db.log")
        app = _app(env)
        shortest = max(0.5, settings.think * 8)  # a fast patient's whole flow, roughly
        per_slot = 2 + math.ceil(settings.seconds / shortest)
        slots = make_patients(app, catalog, patients, per_slot, settings.seed)
        warm = [q[0] for q in make_patients(app, catalog, WARM_UP, 1, settings.seed + 1, "Warm")]
        with app.app_context():
            db.engine().dispose()
        watch = read_only_engine(store.url)
        try:
            with serving(env, work) as server:
                result.worker = server.worker
                asyncio.run(_warm_up(server.base_url, catalog, warm, watch))
                offsets = {name: log.stat().st_size for name, log in server.logs.items()}
                cpu, bench = server.cpu_seconds(), time.process_time()
                cpu_db = store.cpu_seconds()
                asyncio.run(_drive(server.base_url, catalog, slots, settings, watch, result))
                result.cpu_server = server.cpu_seconds() - cpu
                result.cpu_bench = time.process_time() - bench
                result.cpu_database = store.cpu_seconds() - cpu_db
            _read_logs(server.logs, offsets, result)
            result.people = [p for queue in slots for p in queue if p.started or p.sent]
            checked = [p for p in [*result.people, *warm] if p.error is None]
            result.problems = verify(watch, catalog, checked)
            result.answers = answer_count(checked)
            result.checked = (len(checked), sum(p.submitted for p in checked))
            result.warm_up_errors = [p.error for p in warm if p.error]
        finally:
            watch.dispose()
    return result


#: Patients sent through the whole form before the clock starts, one per gunicorn worker
#: (gunicorn.conf.py): each process starts its PDF renderer at its first PDF, a cost the load
#: would otherwise count a few times (a service that has run a while has paid it).
WARM_UP = 2


async def _warm_up(base_url: str, catalog: Any, warm: list[VirtualPatient], watch: Any) -> None:
    """Send the warm-up patients at full speed, and wait (a minute at most) for their PDFs."""
    transport = httpx.AsyncHTTPTransport()

    async def one(patient: VirtualPatient) -> None:
        http = httpx.AsyncClient(transport=transport, base_url=base_url, timeout=120)
        try:
            await run_patient(catalog, patient, Browser(http, [], 0.0), lambda: 0.0, math.inf)
        except FlowError as exc:
            patient.error = str(exc)

    await asyncio.gather(*(one(p) for p in warm))
    await transport.aclose()
    sent = [p.public_id for p in warm if p.submitted]
    end = time.monotonic() + 60
    while time.monotonic() < end and len(await asyncio.to_thread(stored_pdfs, watch, sent)) < len(
        sent
    ):
        await asyncio.sleep(0.25)


async def _drive(
    base_url: str,
    catalog: Any,
    slots: list[list[VirtualPatient]],
    settings: RunSettings,
    watch: Any,
    result: Result,
) -> None:
    transport = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=None))
    started = time.perf_counter()
    deadline = started + settings.seconds
    seen: dict[str, float] = {}
    everyone = [p for queue in slots for p in queue]
    loads: list[float] = []

    async def slot(queue: list[VirtualPatient], rng: random.Random) -> None:
        await asyncio.sleep(rng.uniform(0, settings.think))  # arrivals spread, not one burst
        for patient in queue:
            if time.perf_counter() >= deadline:
                return
            http = httpx.AsyncClient(transport=transport, base_url=base_url, timeout=60)
            browser = Browser(http, result.samples, started)
            try:
                await run_patient(
                    catalog, patient, browser, lambda: think_time(settings.think, rng), deadline
                )
            except FlowError as exc:
                patient.error = str(exc)
        if time.perf_counter() < deadline:
            result.pool_ran_out += 1

    async def pdfs(stop: asyncio.Event) -> None:
        while True:
            waiting = [p for p in everyone if p.submitted and p.public_id not in seen]
            if waiting:
                found = await asyncio.to_thread(stored_pdfs, watch, [p.public_id for p in waiting])
                now = time.perf_counter()
                for p in waiting:
                    if p.public_id in found:
                        seen[p.public_id] = now - (p.submitted_at or now)
                        submitted, rendered = found[p.public_id]
                        result.pdf_server.append((rendered - submitted).total_seconds())
            elif stop.is_set():
                return
            loads.append(load_average())
            await asyncio.sleep(0.25)

    stop = asyncio.Event()
    watcher = asyncio.create_task(pdfs(stop))
    rngs = [random.Random(settings.seed * 100_003 + n) for n in range(len(slots))]
    await asyncio.gather(*(slot(q, r) for q, r in zip(slots, rngs, strict=True)))
    result.elapsed = time.perf_counter() - started
    stop.set()
    with contextlib.suppress(TimeoutError):  # what is still missing then is counted
        await asyncio.wait_for(watcher, timeout=settings.pdf_wait)
    await transport.aclose()
    result.pdf_seen = list(seen.values())
    result.pdf_missing = sum(p.submitted for p in everyone) - len(seen)
    result.load_during = sum(loads) / len(loads) if loads else load_average()
    result.load_max = max(loads, default=result.load_during)
