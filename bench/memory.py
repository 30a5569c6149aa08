"""Memory benchmark: what a tracker process holds at 100k contacts, and the journal.

    .venv/bin/python bench/memory.py [--data DIR] [--events 1000000]
                                     [--contacts 100000] [--beacons 20000]
                                     [--workers 2] [--src OLD_CHECKOUT] [--keep]

Over a data directory bench/seed.py wrote, first as seeded ("before"), then
after `polku db compact`'s code ran on it ("after"):

1. the people journal on disk: bytes per contact (before: the whole contact
   appended on every change; after: each contact once, every decision kept)
   and how long compacting took;
2. the people view in a fresh process: the RSS it adds and the Python heap it
   holds (tracemalloc, in a second process), folded from the journal, then
   loaded from its snapshot (people.json), and the time each took;
3. the tracker under gunicorn (`-w WORKERS`, sync workers, then gthread with
   4 threads): the RSS of each worker after booting, after BEACONS requests
   (POST /api/event, and a tenth each of pixels and of GET /api/next, which
   asks whose browser it is), after one signup (the worker
   that answers it loads the people view) and after the dashboard's overview;
4. the cold start: a fresh process's create_app, login and first GET /admin/
   (bench/dashboard.py --child-cold), the snapshots on disk.

--src DIR runs the "before" processes (view, server, cold start) from another
checkout, e.g. the code before the compact view:
`mkdir OLD && git archive <commit> tracker bench plugins | tar -x -C OLD`.
A reused --data directory must be uncompacted (as seeded); it is compacted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
SRC = "BENCH_MEMORY_SRC"  # a child's checkout (--src), else this one
for path in (Path(os.environ.get(SRC) or REPO), REPO / "plugins"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from bench import common  # noqa: E402
from bench.memory_server import Server  # noqa: E402


def journal_bytes(data_dir: str) -> int:
    folder = Path(data_dir) / "journal" / "people"
    return sum(p.stat().st_size for p in folder.glob("*.jsonl"))


# -- 2. the view in a fresh process ---------------------------------------------


def child_view(data_dir: str, trace: bool) -> None:
    """Open the storage, then load the people view; print what it added."""
    import gc
    import tracemalloc

    from tracker.storage.tinydb_store import TinyDBStorage

    storage = TinyDBStorage(data_dir)
    gc.collect()
    before = common.rss_mb()
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    view = storage._refresh()
    seconds = time.perf_counter() - started
    heap = tracemalloc.get_traced_memory()[0] / 2**20 if trace else None
    old = isinstance(getattr(view, "contacts", None), dict)  # the whole contacts
    contacts = len(view.contacts if old else view)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "rss_added_mb": common.rss_mb() - before,
                "heap_mb": heap,
                "contacts": contacts,
            }
        )
    )
    storage.close()


def run_child(args: list[str], src: str | None) -> dict:
    root = src or str(REPO)
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLKU_")}
    env["PYTHONPATH"] = os.pathsep.join([root, os.path.join(root, "plugins")])
    env[SRC] = root
    result = subprocess.run(
        [sys.executable, *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if result.returncode != 0:
        raise SystemExit(f"{args} failed:\n{result.stdout}\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def view_figures(data_dir: str, src: str | None, label: str) -> None:
    me = [str(BENCH / "memory.py")]
    snapshot = Path(data_dir) / "people.json"
    snapshot.unlink(missing_ok=True)
    folded = run_child([*me, "--child-view", data_dir], src)
    traced = run_child([*me, "--child-view", data_dir, "--trace"], src)
    ensure_snapshot(data_dir, src)
    loaded = run_child([*me, "--child-view", data_dir], src)
    heap = run_child([*me, "--child-view", data_dir, "--trace"], src)
    n = max(folded["contacts"], 1)
    print(
        f"  view ({label}), {folded['contacts']:,} contacts: folded from the journal "
        f"in {folded['seconds']:.2f} s, +{folded['rss_added_mb']:.0f} MB RSS "
        f"(heap {traced['heap_mb']:.0f} MB); from people.json "
        f"({snapshot.stat().st_size / 1e6:.1f} MB) in {loaded['seconds']:.2f} s, "
        f"+{loaded['rss_added_mb']:.0f} MB RSS, heap {heap['heap_mb']:.0f} MB = "
        f"{heap['heap_mb'] * 2**20 / n:.0f} B per contact",
        flush=True,
    )


def ensure_snapshot(data_dir: str, src: str | None) -> None:
    """Fold once and save the snapshots (what a running server leaves): the
    aggregates, the people view, and where the tree has them the facts and
    the people index."""
    code = (
        "import sys; from tracker.storage.tinydb_store import TinyDBStorage\n"
        "s = TinyDBStorage(sys.argv[1]); s.summary(); s._refresh()\n"
        "getattr(s.people, 'refresh_facts', lambda: None)()\n"
        "s.visitor_owner('nobody')\n"
        "save = getattr(s, '_save_people', None) or s.people.save_snapshot\n"
        "save(); s.close(); print('{}')\n"
    )
    run_child(["-c", code, data_dir], src)


# -- 3. the server ----------------------------------------------------------------


def server_figures(data_dir: str, args, src: str | None, label: str) -> None:
    for kind in ("sync", "gthread"):
        server = Server(data_dir, args.workers, kind, src)
        try:
            booted = server.rss()
            ok = server.beacons(args.beacons)
            after_beacons = server.rss()
            status = server.signup()
            after_signup = server.rss()
            shown, seconds = server.overview()
            after_overview = server.rss()
            total = sum(after_overview) + common.rss_mb(server.proc.pid)
        finally:
            server.stop()
        print(
            f"  gunicorn -w {args.workers} {kind} ({label}), worker RSS MB: booted "
            f"{fmt(booted)}; after {ok:,} beacons, pixels and blocks (8:1:1) "
            f"{fmt(after_beacons)}; "
            f"after a signup ({status}) {fmt(after_signup)}; after the overview "
            f"({shown}, {seconds:.2f} s) {fmt(after_overview)}; the whole tracker "
            f"(master and workers) {total:.0f} MB",
            flush=True,
        )


def fmt(values: list[float]) -> str:
    return " / ".join(f"{v:.0f}" for v in values)


# -- 4. the cold start ------------------------------------------------------------


def cold_figures(data_dir: str, src: str | None, label: str) -> None:
    root = Path(src) if src else REPO
    cold = run_child(
        [str(root / "bench" / "dashboard.py"), "--child-cold", data_dir], src
    )
    print(
        f"  cold start ({label}): import + create_app + login "
        f"{cold['import_create_login_s']:.2f} s, first /admin/ "
        f"{cold['first_overview_s']:.2f} s (HTTP {cold['first_overview_status']}), "
        f"max RSS {cold['maxrss_mb']:.0f} MB",
        flush=True,
    )


# -- main ------------------------------------------------------------------------


def compact(data_dir: str) -> None:
    from tracker.storage.tinydb_store import TinyDBStorage

    storage = TinyDBStorage(data_dir)
    done = storage.compact_people()
    storage.close()
    print(
        f"  compacted in {done.seconds:.1f} s: {done.contacts:,} contacts, "
        f"{done.decisions:,} decisions kept",
        flush=True,
    )


def journal_figures(data_dir: str, contacts: int, label: str) -> None:
    size = journal_bytes(data_dir)
    print(
        f"  people journal ({label}): {size / 1e6:.1f} MB = "
        f"{size / max(contacts, 1):,.0f} B per contact",
        flush=True,
    )


def main() -> int:
    parser = common.argument_parser(__doc__)
    common.add_data_options(parser)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--beacons", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--src", help="another checkout for the 'before' processes")
    parser.add_argument(
        "--after-only", action="store_true", help="a compacted --data: no 'before'"
    )
    parser.add_argument("--child-view", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_view:
        child_view(args.child_view, args.trace)
        return 0
    common.print_header("memory")
    with common.work_dir("polku-memory-", args.tmp, args.keep) as work:
        data_dir, info = common.seeded(args.data, work, args.events, args.contacts)
        contacts = info.get("contacts") or args.contacts
        print(f"data: {data_dir}, {contacts:,} contacts", flush=True)
        if not args.after_only:
            ensure_snapshot(data_dir, args.src)  # aggregates too: a running site's
            journal_figures(data_dir, contacts, "before")
            view_figures(data_dir, args.src, "before")
            server_figures(data_dir, args, args.src, "before")
            cold_figures(data_dir, args.src, "before")
            compact(data_dir)
        journal_figures(data_dir, contacts, "after")
        view_figures(data_dir, None, "after")
        server_figures(data_dir, args, None, "after")
        cold_figures(data_dir, None, "after")
    return 0


if __name__ == "__main__":
    sys.exit(main())
