"""A million contacts on PostgreSQL: every dashboard page, audiences, the digest.

    .venv/bin/python bench/million.py --postgres SERVER_URL
        [--contacts 1000000] [--events 10000000] [--data DIR | --database NAME]
        [--runs 3] [--digest 100000] [--profile-top 3] [--keep]

Issue 21, point 4. Seeds a TinyDB data directory with bench/seed.py (or
reuses one with --data), copies it into a new database on the server with
`polku db migrate --from-tinydb` (timed; or reuses a copied database with
--database NAME and the same --data), then, each as one figure:

- every dashboard page, in-process with Flask's test client: its first
  request and the median of --runs warm ones (goal < 0.5 s warm);
- `polku audiences` in a fresh process, every list in every format (goal
  <= 60 s);
- the digest: send_digest(mode="preview", rate=0) over the first --digest
  confirmed subscribers, each message rendered and built, not sent (goal
  <= 120 s for 100k), after recipients() and their interests (timed apart).

cProfile's top entries are printed for the --profile-top slowest pages.
The database is dropped afterwards unless --keep or --database.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
for path in (REPO, REPO / "plugins"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from bench import common, dashboard, pg  # noqa: E402

PAGE_GOAL, AUDIENCES_GOAL, DIGEST_GOAL = 0.5, 60.0, 120.0
SECRET = "x" * 40


def pages(info: dict) -> list[tuple[str, str]]:
    q = info.get("common_last_name") or "virtanen"
    contact = info.get("rich_contact") or info.get("a_confirmed")
    return [
        ("overview 30d (cold)", "/admin/"),
        ("overview 30d", "/admin/"),
        ("overview 12 months", "/admin/?period=custom&from={year}&to={today}"),
        ("sources (sources.csv)", "/admin/sources.csv"),
        ("campaigns (campaigns.csv)", "/admin/campaigns.csv"),
        ("journey map 30d", "/admin/journey"),
        ("contacts, page 1", "/admin/contacts"),
        ("contacts, page 200", "/admin/contacts?page=200"),
        (f"contacts ?q={q}", f"/admin/contacts?q={q}"),
        ("contacts ?stage=customer", "/admin/contacts?stage=customer"),
        ("one contact (timeline)", f"/admin/contacts/{contact}"),
        ("experiments", "/admin/experiments"),
        ("sequences", "/admin/sequences"),
        ("deliverability", "/admin/deliverability"),
        ("requests (quotes)", "/admin/quotes"),
    ]


def environment(data_dir: str, url: str) -> dict:
    return {
        **os.environ,
        "POLKU_DATA_DIR": data_dir,
        "POLKU_DATABASE_URL": url,
        "POLKU_SECRET_KEY": SECRET,
    }


def migrate(data_dir: str, url: str) -> float:
    """`polku db migrate --from-tinydb DIR`, as an owner moving to PostgreSQL."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "tracker.cli", "db", "migrate", "--from-tinydb"]
        + [data_dir],
        env=environment(data_dir, url),
        cwd=REPO,
        check=True,
    )
    took = time.perf_counter() - started
    with pg.connect(url) as conn:
        conn.execute("VACUUM ANALYZE")
    return took


def dashboard_pages(data_dir: str, info: dict, runs: int, top: int) -> list:
    from datetime import UTC, datetime, timedelta

    today = datetime.now(UTC).date()
    year = today - timedelta(days=364)
    app, client = dashboard.make_client(data_dir)
    print(f"\n{'page':<34} {'status':>6} {'KB':>7} {'first s':>8} {'warm s':>8}  goal")
    results = []
    for name, url in pages(info):
        url = url.format(year=year, today=today)
        first, status, size = dashboard.timed_get(client, url)
        warm = [dashboard.timed_get(client, url)[0] for _ in range(runs)]
        median = statistics.median(warm) if warm and "cold" not in name else first
        results.append((name, url, median))
        ok = "ok" if median < PAGE_GOAL or "cold" in name else "OVER"
        print(
            f"{name:<34} {status:>6} {size / 1024:>7.0f} {first:>8.3f} "
            f"{median:>8.3f}  {ok}",
            flush=True,
        )
    print(f"process max RSS after the pages: {common.maxrss_mb():.0f} MB")
    warm = [r for r in results if "cold" not in r[0]]
    for _, url, _ in sorted(warm, key=lambda r: -r[2])[:top]:
        dashboard.profile(client, url)
    app.extensions["polku.storage"].close()
    return warm


def audiences(data_dir: str, url: str, out: str) -> tuple[float, float]:
    """`polku audiences` in a fresh process (from the repository: its
    pelicanconf): its wall time, and its own peak RSS in MB (wait4's, not the
    largest of every child, which would be the migration's)."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "tracker.cli", "audiences", "--out", out],
        env=environment(data_dir, url),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(child.pid, 0)
    took = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise subprocess.CalledProcessError(child.returncode, child.args)
    return took, usage.ru_maxrss / 1024


def digest(data_dir: str, count: int) -> float:
    """Render and build count personalised digests, as `polku digest` would."""
    from pelican.plugins.polku import digest as content

    from tracker import create_app
    from tracker.audiences import interests_by_contact
    from tracker.db import get_storage
    from tracker.mail import digest as newsletter
    from tracker.web import site as sitemeta

    app = create_app(dashboard.config(data_dir))
    settings = content.DigestSettings.from_mapping(None, lang="en")
    env = content.make_env(str(REPO / "theme"))
    with app.test_request_context():
        storage = get_storage()
        started = time.perf_counter()
        people = newsletter.recipients(storage)[:count]
        interests = interests_by_contact(storage, sitemeta.manifest(), people)
        before = time.perf_counter() - started
        started = time.perf_counter()
        outcome = newsletter.send_digest(
            storage,
            settings=settings,
            env=env,
            interests=lambda c: interests.get(c["id"], {}),
            deliver=lambda msg: None,
            mode="preview",
            rate=0,
            only=people,
        )
        took = time.perf_counter() - started
        storage.close()
    print(
        f"digest: recipients() and interests of {len(people):,} in {before:.1f} s; "
        f"send_digest rendered {outcome.sent:,} messages in {took:.1f} s "
        f"= {took / max(outcome.sent, 1) * 1e5:.0f} s per 100k "
        f"({'ok' if took <= DIGEST_GOAL * outcome.sent / 100_000 else 'OVER'}, "
        f"goal <= {DIGEST_GOAL:.0f} s for 100k)"
    )
    return took


def main() -> int:
    parser = common.argument_parser(__doc__)
    common.add_data_options(parser)
    parser.add_argument("--postgres", required=True, metavar="SERVER_URL")
    parser.add_argument("--database", help="a database already copied from --data")
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--digest", type=int, default=100_000)
    parser.add_argument("--profile-top", type=int, default=3)
    parser.add_argument(
        "--only",
        default="pages,audiences,digest",
        help="what to measure (each in turn: at 1M the pages' process holds "
        "everyone, so run them apart where memory is short)",
    )
    args = parser.parse_args()

    common.print_header("million")
    made = None if args.data else tempfile.mkdtemp(prefix="polku-1m-", dir=args.tmp)
    started = time.perf_counter()
    data_dir, info = common.seeded(args.data, made, args.events, args.contacts)
    if made:
        print(f"seeded in {time.perf_counter() - started:.0f} s")
    print(f"data: {info['events']:,} events, {info['contacts']:,} contacts")
    name = args.database or f"polku_bench_1m_{os.getpid()}"
    url = pg.database_url(args.postgres, name)
    try:
        if not args.database:
            pg.create_database(args.postgres, name)
            print(f"polku db migrate --from-tinydb: {migrate(data_dir, url):.0f} s")
        os.environ[dashboard.DATABASE] = url
        only = args.only.split(",")
        if "pages" in only:
            warm = dashboard_pages(data_dir, info, args.runs, args.profile_top)
            over = [n for n, _, s in warm if s >= PAGE_GOAL]
            print(f"{len(warm) - len(over)} of {len(warm)} pages under 0.5 s warm")
        if "audiences" in only:
            with tempfile.TemporaryDirectory(dir=args.tmp) as out:
                took, peak = audiences(data_dir, url, out)
            verdict = "ok" if took <= AUDIENCES_GOAL else "OVER"
            print(
                f"polku audiences: {took:.1f} s ({verdict}, goal <= 60 s), "
                f"peak RSS {peak:,.0f} MB"
            )
        if "digest" in only:
            digest(data_dir, args.digest)
        return 0
    finally:
        if not (args.keep or args.database):
            pg.drop_database(args.postgres, name)
        if made and not args.keep:
            shutil.rmtree(made, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
