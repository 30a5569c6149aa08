"""Dashboard benchmark: every admin page over 1M events and 100k contacts.

    .venv/bin/python bench/dashboard.py [--data DIR] [--events 1000000]
                                        [--contacts 100000] [--runs 5]
                                        [--keep-snapshot] [--keep] [--no-profile]

Seeds a data directory with bench/seed.py (or reuses a seeded one with
--data), creates the tracker with `tracker.create_app({...})` on the TinyDB
backend, logs in with Flask's test client and times each page in-process
(no HTTP server, no network):

- "first": the page's first request. The very first one (/admin/, 30 days)
  is the cold one: it folds the period's months of the events journal into
  the aggregates (or loads aggregates/) and the people journal into the contacts
  view (or loads people.json). Later pages' first runs only pay for what
  they alone compute.
- "warm": the median of --runs further requests.

Then, with the storage closed (the snapshots, aggregates/ and people.json,
are on disk), a fresh process times its first /admin/ and /admin/contacts
(the cold start of a restarted server), and another fresh process times the
parts: loading the snapshots of the overview's months, their events' tail,
and the people view (people.json plus the journal's tail).

Last, cProfile runs on the slowest warm page and prints the top functions by
cumulative and by own time. Goal: < 0.5 s per page.

A reused --data directory loses its snapshots first (unless
--keep-snapshot), so that the cold run does fold the journals; only a
directory bench/seed.py wrote (it holds bench-seed.json) is touched.

--postgres SERVER_URL runs the same pages on the PostgreSQL backend: the
seeded directory is copied (as `polku db migrate --from-tinydb` does, timed)
into a new database on that server, dropped afterwards unless --keep; the
cold request folds the events into the shared aggregates, the fresh process
reads them back; the TinyDB-only parts are left out.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
for path in (REPO, REPO / "plugins"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from bench import common  # noqa: E402

GOAL = 0.5
PASSWORD = "pw"


DATABASE = "BENCH_DATABASE_URL"  # set by --postgres, read by the children too


def config(data_dir: str) -> dict:
    return {
        "DATA_DIR": data_dir,
        "DATABASE_URL": os.environ.get(DATABASE, ""),
        "SECRET_KEY": "x" * 40,
        "ADMIN_PASSWORD": PASSWORD,
        "RATELIMIT_ENABLED": False,
    }


def make_client(data_dir: str):
    from tracker import create_app

    app = create_app(config(data_dir))
    client = app.test_client()
    answer = client.post("/admin/login", data={"password": PASSWORD})
    if answer.status_code != 303:
        raise SystemExit(f"login failed: {answer.status_code}")
    return app, client


def pages(info: dict) -> list[tuple[str, str]]:
    today = datetime.now(UTC).date()
    year_ago = today - timedelta(days=364)
    q = info.get("common_last_name") or "virtanen"
    contact = info.get("rich_contact") or info.get("a_confirmed")
    return [
        ("overview 30d (cold)", "/admin/"),
        ("overview today", "/admin/?period=today"),
        ("overview 7d", "/admin/?period=7d"),
        ("overview this month", "/admin/?period=month"),
        (
            "overview custom 12 months",
            f"/admin/?period=custom&from={year_ago}&to={today}",
        ),
        ("overview 30d ?source=facebook", "/admin/?source=facebook"),
        ("overview 30d, last touch", "/admin/?touch=last"),
        ("journey map 30d", "/admin/journey"),
        (
            "journey map 12 months",
            f"/admin/journey?period=custom&from={year_ago}&to={today}",
        ),
        ("quote requests", "/admin/quotes"),
        ("contacts", "/admin/contacts"),
        (f"contacts ?q={q}", f"/admin/contacts?q={q}"),
        ("contacts ?stage=customer", "/admin/contacts?stage=customer"),
        ("one contact (timeline)", f"/admin/contacts/{contact}"),
        ("sources.csv (30d)", "/admin/sources.csv"),
        ("contacts.csv (everyone)", "/admin/contacts.csv"),
    ]


def timed_get(client, url: str) -> tuple[float, int, int]:
    started = time.perf_counter()
    answer = client.get(url)
    body = answer.get_data()
    seconds = time.perf_counter() - started
    if answer.status_code != 200:
        print(f"  !! {url}: HTTP {answer.status_code}: {body[:300]!r}", flush=True)
    return seconds, answer.status_code, len(body)


# -- the fresh processes ---------------------------------------------------------


def child_cold(data_dir: str) -> None:
    """In a fresh process: create the app, log in, first /admin/ and /admin/contacts."""
    started = time.perf_counter()
    app, client = make_client(data_dir)
    created = time.perf_counter() - started
    overview, status, _ = timed_get(client, "/admin/")
    contacts, status2, _ = timed_get(client, "/admin/contacts")
    again, _, _ = timed_get(client, "/admin/")
    print(
        json.dumps(
            {
                "import_create_login_s": created,
                "first_overview_s": overview,
                "first_overview_status": status,
                "then_contacts_s": contacts,
                "contacts_status": status2,
                "overview_again_s": again,
                "maxrss_mb": common.maxrss_mb(),
            }
        )
    )


def child_parts(data_dir: str) -> None:
    """In a fresh process: the parts of a cold start, one by one."""
    from tracker import clock
    from tracker.storage.tinydb_store import TinyDBStorage

    storage = TinyDBStorage(data_dir)
    held = storage.aggregates  # the overview's 30 days and the 30 before them
    today = clock.now().date()
    months = held._months((today - timedelta(days=59)).isoformat(), str(today))
    started = time.perf_counter()
    for month in sorted(months):
        held._load(month)
    snapshot = time.perf_counter() - started
    days = len(held.stats.days)
    cells = sum(len(d.cube) for d in held.stats.days.values())
    started = time.perf_counter()
    tail = sum(1 for _ in storage.events.read(held.offsets, months=months))
    tail_s = time.perf_counter() - started
    started = time.perf_counter()
    view = storage._refresh()
    people = time.perf_counter() - started
    contacts = len(view)
    started = time.perf_counter()
    list(storage.iter_people())
    iter_people = time.perf_counter() - started
    print(
        json.dumps(
            {
                "snapshot_load_s": snapshot,
                "snapshot_days": days,
                "snapshot_cells": cells,
                "events_tail": tail,
                "events_tail_s": tail_s,
                "people_fold_s": people,
                "contacts": contacts,
                "iter_people_s": iter_people,
                "maxrss_mb": common.maxrss_mb(),
            }
        )
    )


def run_child(flag: str, data_dir: str) -> dict:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, __file__, flag, data_dir],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=1800,
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{flag} failed:\n{result.stdout}\n{result.stderr}")
    data = json.loads(result.stdout.strip().splitlines()[-1])
    data["process_wall_s"] = wall
    return data


def copy_to_postgres(server: str, database: str, data_dir: str) -> None:
    """Copy the seeded directory into a new database; the app then runs on it."""
    from bench import pg
    from tracker.storage.postgres import PostgresStorage
    from tracker.storage.transfer import copy_tinydb

    url = pg.create_database(server, database)
    storage = PostgresStorage(url)
    started = time.perf_counter()
    try:
        counts = copy_tinydb(data_dir, storage)
    finally:
        storage.close()
    with pg.connect(url) as conn:
        conn.execute("VACUUM ANALYZE")
    os.environ[DATABASE] = url
    copied = ", ".join(f"{c.table} {c.destination:,}" for c in counts)
    print(
        f"PostgreSQL: copied into {database} in {time.perf_counter() - started:.1f} s"
        f" ({copied}); the first request folds the aggregates"
    )


def aggregates_mb(url: str) -> float:
    from bench import pg

    with pg.connect(url) as conn:
        query = "SELECT pg_total_relation_size('aggregate_days')"
        return conn.execute(query).fetchone()[0] / 1e6


# -- profile -----------------------------------------------------------------------

PLUMBING = ("/werkzeug/", "/flask/", "/click/", "contextlib.py", "<string>", "bench/")


def profile(client, url: str, top: int = 10) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    client.get(url).get_data()
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = max(
        (v[3] for v in stats.stats.values()), default=0.0
    )  # the outermost cumulative time
    rows = []
    for (filename, line, name), (_, nc, tt, ct, _) in stats.stats.items():
        where = f"{_short(filename)}:{line}({name})"
        rows.append((ct, tt, nc, where, filename))
    print(
        f"\ncProfile of GET {url} (one warm request, {total:.2f} s under the profiler)"
    )
    print("top by cumulative time (Flask/Werkzeug plumbing left out):")
    print(f"  {'cumulative':>10} {'own':>8} {'calls':>9}  function")
    shown = 0
    for ct, tt, nc, where, filename in sorted(rows, reverse=True):
        if any(p in filename for p in PLUMBING) or filename == "~":
            continue
        print(f"  {ct:>9.3f}s {tt:>7.3f}s {nc:>9}  {where}")
        shown += 1
        if shown == top:
            break
    print("top by own time:")
    for ct, tt, nc, where, _ in sorted(rows, key=lambda r: -r[1])[:top]:
        print(f"  {ct:>9.3f}s {tt:>7.3f}s {nc:>9}  {where}")


def _short(filename: str) -> str:
    for marker in (str(REPO) + "/", "site-packages/", "lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


# -- main --------------------------------------------------------------------------


def main() -> int:
    parser = common.argument_parser(__doc__)
    common.add_data_options(parser)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5, help="warm runs per page")
    parser.add_argument(
        "--keep-snapshot",
        action="store_true",
        help="reuse --data's aggregates/ and people.json for the first request",
    )
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument(
        "--postgres",
        metavar="SERVER_URL",
        help="run on PostgreSQL, in a database made on this server, "
        "e.g. postgresql://postgres@127.0.0.1/test",
    )
    parser.add_argument(
        "--profile-top",
        type=int,
        default=1,
        metavar="K",
        help="profile the K slowest pages (default 1)",
    )
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="experiment: gc.freeze() after the cold request (not what the "
        "tracker does), to measure the garbage collector's share",
    )
    parser.add_argument("--child-cold", help=argparse.SUPPRESS)
    parser.add_argument("--child-parts", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_cold:
        child_cold(args.child_cold)
        return 0
    if args.child_parts:
        child_parts(args.child_parts)
        return 0

    common.print_header("dashboard")
    made = None if args.data else tempfile.mkdtemp(prefix="polku-dash-", dir=args.tmp)
    data_dir, info = common.seeded(args.data, made, args.events, args.contacts)
    if args.data:
        print(
            f"reusing {data_dir}: {info['events']:,} events, "
            f"{info['contacts']:,} contacts"
        )
        for name in ("aggregates.json", "aggregates", "people.json"):
            snapshot = os.path.join(data_dir, name)
            if os.path.exists(snapshot) and not args.keep_snapshot:
                remove = shutil.rmtree if os.path.isdir(snapshot) else os.remove
                remove(snapshot)  # a cache: the journals hold everything
                print(f"removed its {name}: the first request folds the journal")
    print(
        f"data: {info['events']:,} events ({info['bytes_events'] / 1e6:.0f} MB), "
        f"{info['contacts']:,} contacts in {info['people_lines']:,} people-journal "
        f"lines ({info['bytes_people'] / 1e6:.0f} MB)"
    )

    database = f"polku_bench_dash_{os.getpid()}"
    if args.postgres:
        copy_to_postgres(args.postgres, database, data_dir)
    try:
        app, client = make_client(data_dir)
        results = []
        if args.gc_freeze:
            print("EXPERIMENT: gc.freeze() after the cold request")
        print(
            f"\n{'page':<34} {'status':>6} {'KB':>7} {'first s':>8} {'warm s':>8}  goal"
        )
        for name, url in pages(info):
            first, status, size = timed_get(client, url)
            if args.gc_freeze and not results:
                import gc

                gc.collect()
                gc.freeze()
            warm = [timed_get(client, url)[0] for _ in range(args.runs)]
            median = statistics.median(warm) if warm else first
            results.append((name, url, status, size, first, median, warm))
            ok = "ok" if median < GOAL else "OVER"
            print(
                f"{name:<34} {status:>6} {size / 1024:>7.0f} {first:>8.3f} "
                f"{median:>8.3f}  {ok}",
                flush=True,
            )
        print(f"process max RSS after the pages: {common.maxrss_mb():.0f} MB")

        if not args.no_profile:
            for slow in sorted(results, key=lambda r: -r[5])[: args.profile_top]:
                profile(client, slow[1])

        storage = app.extensions.get("polku.storage")
        if storage is not None:
            storage.close()  # writes aggregates/ if anything is unsaved
        if args.postgres:
            print(f"\naggregate_days: {aggregates_mb(os.environ[DATABASE]):.1f} MB")
        else:
            folder = os.path.join(data_dir, "aggregates")
            names = os.listdir(folder) if os.path.isdir(folder) else []
            size = sum(os.path.getsize(os.path.join(folder, n)) for n in names)
            print(f"\naggregates/: {size / 1e6:.1f} MB in {len(names)} months")

        cold = run_child("--child-cold", data_dir)
        print(
            "fresh process, snapshot on disk: "
            f"import + create_app + login {cold['import_create_login_s']:.2f} s, "
            f"first /admin/ {cold['first_overview_s']:.2f} s "
            f"(HTTP {cold['first_overview_status']}), then /admin/contacts "
            f"{cold['then_contacts_s']:.2f} s, /admin/ again "
            f"{cold['overview_again_s']:.2f} s; max RSS {cold['maxrss_mb']:.0f} MB"
        )
        if not args.postgres:  # the parts of the embedded backend's cold start
            parts = run_child("--child-parts", data_dir)
            print(
                "  its parts: the overview's months' snapshots "
                f"{parts['snapshot_load_s']:.2f} s ({parts['snapshot_days']} days, "
                f"{parts['snapshot_cells']:,} cube cells), events tail "
                f"{parts['events_tail']:,} lines in {parts['events_tail_s']:.2f} s, "
                "people view (people.json + journal tail) "
                f"{parts['people_fold_s']:.2f} s "
                f"({parts['contacts']:,} contacts), iter_people "
                f"{parts['iter_people_s']:.2f} s; max RSS {parts['maxrss_mb']:.0f} MB"
            )

        over = [r for r in results if r[5] >= GOAL]
        print(
            f"\nsummary: {len(results) - len(over)} of {len(results)} pages under "
            f"{GOAL} s warm; cold first request {results[0][4]:.2f} s; "
            f"fresh-process first /admin/ {cold['first_overview_s']:.2f} s"
        )
        return 0
    finally:
        if args.postgres and not args.keep:
            from bench import pg

            pg.drop_database(args.postgres, database)
        if made and not args.keep:
            shutil.rmtree(made, ignore_errors=True)
        elif made:
            print(f"kept {data_dir} (reuse with --data {data_dir})")


if __name__ == "__main__":
    sys.exit(main())
