"""The load bench's report: per-route table, then each figure next to its target (as bench/run.py
prints them), and the PostgreSQL-to-SQLite ratios when both ran."""

from __future__ import annotations

import os
import statistics
from collections import Counter
from typing import TYPE_CHECKING

from bench.report import Report, percentile

if TYPE_CHECKING:
    from bench.load_run import Result

ROUTE_P95 = 0.300
SUBMIT_P95 = 0.050
PDF_P95 = 5.0
PG_RATIO = 1.2


_printed = Report(widths=(44, 18))
emit = _printed.emit
heading = _printed.heading
failures = _printed.failures


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds >= 0.1 else f"{seconds * 1000:.1f} ms"


def _p95(result: Result, route: str | None = None) -> float:
    samples = result.samples if route is None else result.by_route().get(route, [])
    return percentile([s.seconds for s in samples], 95)


def report(result: Result) -> None:
    s = result.settings
    pdf = "a background worker" if result.worker else "inside the submit request (no worker)"
    heading(
        f"{result.patients} virtual patients for {s.seconds:.0f} s on {s.database} (think time "
        f"around {s.think:g} s before each button; gunicorn.conf.py; PDF made by {pdf})"
    )
    print(
        f"  {'route':<26} {'requests':>8} {'p50':>10} {'p95':>10} {'p99':>10} {'errors':>7}"
        f"   {'in gunicorn: p50':>16} {'p95':>9}"
    )
    everything = [t for times in result.server_times.values() for t in times]
    for route, samples in [*result.by_route().items(), ("all requests", result.samples)]:
        times = [x.seconds for x in samples]
        bad = sum(not x.expected for x in samples)
        inside = everything if route == "all requests" else result.server_times.get(route, [])
        print(
            f"  {route:<26} {len(times):>8,} {ms(percentile(times, 50)):>10} "
            f"{ms(percentile(times, 95)):>10} {ms(percentile(times, 99)):>10} {bad:>7}"
            f"   {ms(percentile(inside, 50)):>16} {ms(percentile(inside, 95)):>9}"
        )
    print("  (times as the patients' browsers saw them; 'in gunicorn' from its access log)")
    submits = sum(p.submitted for p in result.people)
    elapsed = result.elapsed or 1.0
    emit(
        "throughput",
        f"{len(result.samples) / elapsed:.0f} requests/s, {submits} sent "
        f"({submits / elapsed * 60:.0f} a minute)",
    )
    route, worst = result.worst_route()
    emit("every route's p95", f"{ms(worst)} (worst: {route})", "< 300 ms", worst < ROUTE_P95)
    errors = result.errors
    emit("errors", f"{errors} of {len(result.samples):,} requests", "0", errors == 0)
    if errors:
        _errors(result)
    submit = _p95(result, "POST /submit")
    emit("POST /submit p95", ms(submit), "<= 50 ms", submits > 0 and submit <= SUBMIT_P95)
    seen = result.pdf_seen
    pdf_p95 = percentile(seen, 95)
    emit(
        "PDF stored after Send, p95",
        f"{pdf_p95:.2f} s (p50 {percentile(seen, 50):.2f}, max {max(seen, default=0):.2f})",
        "<= 5 s",
        bool(seen) and pdf_p95 <= PDF_P95,
    )
    server = result.pdf_server
    emit(
        "  the same by the server's clock",
        f"{percentile(server, 95):.2f} s p95 (rendered - submitted)",
    )
    emit(
        "PDFs stored",
        f"{len(seen)} of {submits} sent (wait {s.pdf_wait:.0f} s after the load)",
        "all",
        result.pdf_missing == 0,
    )
    people, sent = result.checked
    emit(
        "answers stored exactly",
        f"{people} patients, {result.answers:,} answers, {sent} sent, "
        f"{len(result.problems)} differences",
        "all",
        not result.problems and people > 0,
    )
    if result.warm_up_errors:
        print(f"    warm-up (not counted above) stopped: {'; '.join(result.warm_up_errors)}")
    for problem in result.problems[:10]:
        print(f"    {problem}")
    finished = sum(p.done for p in result.people)
    emit("patients", f"{len(result.people)} took part, {finished} finished, "
         f"{sum(p.error is not None for p in result.people)} stopped by an error")  # fmt: skip
    pressed: Counter[str] = Counter()
    for p in result.people:
        pressed.update(p.pressed)
    names = {"next": "Save and continue", "more": "Add more detail", "add": "Save and add another"}
    emit(
        "step buttons pressed",
        ", ".join(f"{names.get(k, k)} {n:,}" for k, n in pressed.most_common()),
    )
    if result.server_notes and not result.errors:
        emit("server log lines of note", f"{len(result.server_notes)} (first below)")
        for note in result.server_notes[:5]:
            print(f"    {note}")
    if result.pool_ran_out:
        emit("slots out of invited patients", str(result.pool_ran_out))
    emit(
        "load average (1 min)",
        f"{result.load_start:.1f} before, {result.load_during:.1f} mean during, "
        f"{result.load_max:.1f} max",
    )
    cpus = os.cpu_count() or 1
    emit(
        "CPU during the load",
        f"service {result.cpu_server:.0f} s, "
        + (f"PostgreSQL {result.cpu_database:.0f} s, " if s.database == "postgresql" else "")
        + f"bench {result.cpu_bench:.0f} s "
        f"(of {elapsed * cpus:.0f} s on {cpus} CPUs)",
    )


def _errors(result: Result) -> None:
    bad = [s for s in result.samples if not s.expected]
    kinds = Counter((s.route, s.status) for s in bad)
    for (route, status), count in kinds.most_common(8):
        print(f"    {count:>5} x {route} answered {status or 'nothing (timeout or refused)'}")
    print(
        f"    between {min(s.at for s in bad):.0f} s and {max(s.at for s in bad):.0f} s into the load"
    )
    messages = Counter(p.error for p in result.people if p.error)
    for message, count in messages.most_common(3):
        print(f"    {count:>5} patients stopped: {message}")
    for note in result.server_notes[:15]:
        print(f"    {note}")


def compare(sqlite: Result, postgresql: Result) -> None:
    heading("PostgreSQL against SQLite at the same load (the two runs above, one after the other)")
    a, b = _p95(sqlite), _p95(postgresql)
    ratio = b / a if a else float("inf")
    emit("all requests p95, PG / SQLite", f"{ratio:.2f}x ({ms(b)} / {ms(a)})", "<= 1.2x",
         ratio <= PG_RATIO)  # fmt: skip
    ratios = []
    for route in sqlite.by_route():
        x, y = _p95(sqlite, route), _p95(postgresql, route)
        if x and y:
            ratios.append((y / x, route))
    if ratios:
        worst, route = max(ratios)
        emit("  worst route's p95 ratio", f"{worst:.2f}x ({route})")
        emit("  median route's p95 ratio", f"{statistics.median(r for r, _ in ratios):.2f}x")
    inside = [
        percentile([t for times in r.server_times.values() for t in times], 95)
        for r in (sqlite, postgresql)
    ]
    if inside[0]:
        emit(
            "  inside gunicorn p95, PG / SQLite",
            f"{inside[1] / inside[0]:.2f}x ({ms(inside[1])} / {ms(inside[0])})",
        )
    rate = (len(postgresql.samples) / postgresql.elapsed) / (len(sqlite.samples) / sqlite.elapsed)
    emit("throughput, PG / SQLite", f"{rate:.2f}x")
    emit(
        "load average during, SQLite / PG",
        f"{sqlite.load_during:.1f} / {postgresql.load_during:.1f}",
    )
