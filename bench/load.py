"""Load mode: N virtual patients filling in the whole form against a real server, each figure
printed next to its target with PASS or FAIL.

    .venv/bin/python bench/load.py                                 # 200 patients, 180 s, SQLite
    .venv/bin/python bench/load.py --database postgresql           # the same on PostgreSQL
    .venv/bin/python bench/load.py --database both                 # both, and their ratio
    .venv/bin/python bench/load.py --find-max [--exclude-route 'POST /submit']

The bench starts the service as ``scripts/serve`` does (gunicorn with ``gunicorn.conf.py``, and
the background worker where this version has one) on a new database in a temporary directory:
SQLite, or a throwaway PostgreSQL server (``scripts/postgres``). Each virtual patient opens their
private link, confirms their date of birth, answers every step (lists, "Add more detail",
follow-ups), reviews and sends, with a think time around ``--think`` seconds before each button;
a slot whose patient has sent starts the next patient. The first patient of each slot comes back
part-way through (see ``load_store``), so the load is steady from the start.

Reported: per-route p50/p95/p99 and errors, throughput and submits, how long after "Send" each
PDF was stored (the database watched read-only), and whether every answer sent is stored exactly
(drafts, detail switches and the frozen answers, compared item by item). With ``--find-max``: the
largest number of patients that keeps every route's p95 under 300 ms with no error.

Exit status 0 whatever the figures; ``--strict`` makes a FAIL exit 1.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # bench.* and the app

from bench.load_report import ROUTE_P95, compare, emit, failures, heading, report
from bench.load_run import Result, RunSettings, run


def probe(settings: RunSettings, patients: int, exclude: list[str]) -> tuple[bool, Result]:
    """One short run at ``patients``: whether every route's p95 stays under 300 ms, error-free."""
    result = run(settings, patients)
    worst = result.worst_route(exclude)
    ok = result.errors == 0 and worst[1] < ROUTE_P95
    rate = len(result.samples) / (result.elapsed or 1)
    print(
        f"  {patients:>4} patients: worst p95 {worst[1] * 1000:,.0f} ms ({worst[0]}), "
        f"{result.errors} errors, {rate:.0f} requests/s, "
        f"{sum(p.submitted for p in result.people)} sent, load average "
        f"{result.load_during:.1f}  {'PASS' if ok else 'FAIL'}",
        flush=True,
    )
    return ok, result


def find_max(settings: RunSettings, exclude: list[str], start: int, ceiling: int) -> None:
    """Double until a probe fails, then halve the gap to within 10% (noise: 2 shared cores)."""
    heading(
        f"Largest load with every route's p95 < 300 ms and 0 errors ({settings.seconds:.0f} s "
        f"per probe, {settings.database}" + (f", not counting {', '.join(exclude)}" if exclude else "")
        + ")"
    )  # fmt: skip
    good, bad = 0, None
    n = start
    while n <= ceiling:
        ok, _ = probe(settings, n, exclude)
        if not ok:
            bad = n
            break
        good, n = n, n * 2
    while bad is not None and bad - good > max(1, good // 10):
        middle = (good + bad) // 2
        ok, _ = probe(settings, middle, exclude)
        good, bad = (middle, bad) if ok else (good, middle)
    if bad is None:
        figure = f"at least {good} (the search stops at {ceiling})"
    elif good == 0:
        figure = f"none: {bad} already fails"
    else:
        figure = f"{good} ({bad} fails)"
    emit("largest load under target", figure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=200, help="concurrent patients (200)")
    parser.add_argument("--seconds", type=float, default=180, help="length of the load (180)")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--think", type=float, default=5.0, help="mean think time, s (5)")
    parser.add_argument("--seed", type=int, default=1, help="answers and timings (1)")
    parser.add_argument(
        "--pdf-wait", type=float, default=60,
        help="after the load, how long to wait for PDFs still being made (60 s)",
    )  # fmt: skip
    parser.add_argument("--find-max", action="store_true", help="search for the largest load")
    parser.add_argument("--probe-seconds", type=float, default=60, help="per probe (60)")
    parser.add_argument("--search-from", type=int, default=10, help="first probe's patients (10)")
    parser.add_argument(
        "--exclude-route", action="append", default=[], metavar="ROUTE",
        help="leave a route out of the search's p95, e.g. 'POST /submit' (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--keep", action="store_true",
        help="keep the temporary directory (server logs, SQLite database) and print where",
    )  # fmt: skip
    parser.add_argument("--strict", action="store_true", help="exit 1 when any target FAILs")
    args = parser.parse_args(argv)
    if min(args.patients, args.search_from) < 1 or min(args.seconds, args.probe_seconds) <= 0:
        parser.error("--patients, --search-from, --seconds and --probe-seconds must be positive")
    if args.think < 0:
        parser.error("--think must not be negative")

    print(
        f"intake load bench: Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
        f"load average {Path('/proc/loadavg').read_text().split()[0]} at the start"
    )
    kinds = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    tmp = Path(tempfile.mkdtemp(prefix="intake-load-"))
    try:
        if args.find_max:
            for kind in kinds:
                settings = RunSettings(kind, args.probe_seconds, args.think, args.seed,
                                       args.pdf_wait, tmp)  # fmt: skip
                find_max(settings, args.exclude_route, start=args.search_from, ceiling=800)
        else:
            results = []
            for kind in kinds:
                settings = RunSettings(
                    kind, args.seconds, args.think, args.seed, args.pdf_wait, tmp
                )
                started = time.monotonic()
                result = run(settings, args.patients)
                report(result)
                print(f"  (run took {time.monotonic() - started:.0f} s in all)")
                results.append(result)
            if len(results) == 2:
                compare(results[0], results[1])
    finally:
        if args.keep:
            print(f"\nserver logs and databases kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    failed = failures()
    print(f"\n{len(failed)} targets missed" + (": " + ", ".join(failed) if failed else ""))
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    sys.exit(main())
