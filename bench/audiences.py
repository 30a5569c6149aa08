"""Audience lists benchmark: the plugin's lists.write_lists, 1M events, 100k contacts.

    .venv/bin/python bench/audiences.py [--data DIR] [--events 1000000]
                                        [--contacts 100000] [--tracemalloc]
                                        [--profile] [--keep]

Seeds a data directory with bench/seed.py (or reuses a seeded one with
--data), then, in a fresh process as `polku audiences` or the build's plugin
would, opens the TinyDB storage and runs `write_lists(storage, manifest, None,
out)` with the default audiences in every format into a temp dir. Reported:

- wall time of write_lists (it includes folding the people journal, one pass
  over the observations that are someone's, one over the people, the
  members and the files), goal <= 10 s;
- peak memory as the process's peak resident set size
  (resource.getrusage(RUSAGE_SELF).ru_maxrss), before and after the call:
  what the operating system had to give the whole process;
- the parts, timed one by one in another fresh process (the same steps as
  write_lists, called separately);
- with --tracemalloc, a third process runs write_lists under tracemalloc and
  reports its peak of Python allocations (slower: its time is not the figure);
- with --profile, cProfile's top functions of one more run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
for path in (REPO, REPO / "plugins"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from bench import common  # noqa: E402

GOAL = 10.0


def _open(data_dir: str):
    from tracker.storage import open_storage

    with open(os.path.join(data_dir, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    return open_storage({"DATA_DIR": data_dir}), manifest


def child_run(data_dir: str, out: str, mode: str) -> None:
    """Fresh process: write_lists once (mode: plain, tracemalloc or profile)."""
    from pelican.plugins.polku.lists import write_lists

    storage, manifest = _open(data_dir)
    before = common.maxrss_mb()
    result: dict = {"maxrss_before_mb": before}
    if mode == "tracemalloc":
        import tracemalloc

        tracemalloc.start()
    profiler = None
    if mode == "profile":
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    count, warnings = write_lists(storage, manifest, None, out)
    result["seconds"] = time.perf_counter() - started
    if profiler:
        profiler.disable()
        _print_profile(profiler)
    if mode == "tracemalloc":
        import tracemalloc

        result["tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    result["maxrss_after_mb"] = common.maxrss_mb()
    result["audiences"] = count
    result["warnings"] = len(warnings)
    with open(os.path.join(out, "manifest.json"), encoding="utf-8") as f:
        files = json.load(f)["files"]
    result["files"] = len(files)
    result["rows"] = {f["audience"]: f["rows"] for f in files if f["format"] == "csv"}
    storage.close()
    print(json.dumps(result))


def child_parts(data_dir: str, out: str) -> None:
    """Fresh process: write_lists' steps (find_members' two passes, then the
    files) timed one by one."""
    from pelican.plugins.polku import audiences

    from tracker.audiences import FIELDS
    from tracker.journey import audiences as rules
    from tracker.journey import members as membership
    from tracker.journey import profiles as reading

    storage, manifest = _open(data_dir)
    now = datetime.now(UTC)
    times = {}

    def step(name, fn):
        started = time.perf_counter()
        value = fn()
        times[name] = time.perf_counter() - started
        return value

    step("people view (people.json + journal tail)", storage._refresh)
    chosen = rules.parse_audiences(None, manifest)
    events = step(
        "read every event (iter_events)", lambda: sum(1 for _ in storage.iter_events())
    )

    def observed():
        return storage.observations_of_people(reading.OBSERVED, FIELDS)

    owned = step("observations_of_people", lambda: sum(1 for _ in observed()))
    profiles = step(
        "observations_of_people + profiles",
        lambda: reading.profiles(observed(), None, manifest),
    )
    people = step("stream_people", lambda: sum(1 for _ in storage.stream_people()))
    found = step(
        "stream_people + members_of",
        lambda: membership.members_of(chosen, storage.stream_people(), profiles, now),
    )
    step(
        "write_audiences (4 formats)",
        lambda: audiences.write_audiences(
            out, found, list(audiences.FORMATS), {"contacts": people}, now=now
        ),
    )
    storage.close()
    result = {"parts": times, "events": events, "owned": owned, "contacts": people}
    print(json.dumps(result))


def _print_profile(profiler, top: int = 12) -> None:
    import pstats

    stats = pstats.Stats(profiler)
    rows = []
    for (filename, line, name), (_, nc, tt, ct, _) in stats.stats.items():
        short = filename
        for marker in (str(REPO) + "/", "site-packages/", "lib/python3.11/"):
            if marker in filename:
                short = filename.split(marker, 1)[1]
                break
        rows.append((ct, tt, nc, f"{short}:{line}({name})", filename))
    print("cProfile, top by cumulative time:", file=sys.stderr)
    for ct, tt, nc, where, filename in sorted(rows, reverse=True)[: top + 2]:
        if "bench/" in filename or filename == "~" and "exec" in where:
            continue
        print(f"  {ct:>8.2f}s {tt:>7.2f}s {nc:>9}  {where}", file=sys.stderr)
    print("cProfile, top by own time:", file=sys.stderr)
    for ct, tt, nc, where, _ in sorted(rows, key=lambda r: -r[1])[:top]:
        print(f"  {ct:>8.2f}s {tt:>7.2f}s {nc:>9}  {where}", file=sys.stderr)


def run_child(args: list[str]) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=3600,
    )
    if result.stderr.strip():
        print(result.stderr.rstrip())
    if result.returncode != 0:
        raise SystemExit(f"{args[0]} failed:\n{result.stdout}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = common.argument_parser(__doc__)
    common.add_data_options(parser)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--no-parts", action="store_true")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--child-parts", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_run(*args.child)
        return 0
    if args.child_parts:
        child_parts(*args.child_parts)
        return 0

    common.print_header("audiences")
    with common.work_dir("polku-aud-", args.tmp, args.keep) as work:
        data_dir, info = common.seeded(args.data, work, args.events, args.contacts)
        print(
            f"data: {info['events']:,} events ({info['bytes_events'] / 1e6:.0f} MB), "
            f"{info['contacts']:,} contacts in {info['people_lines']:,} lines "
            f"({info['bytes_people'] / 1e6:.0f} MB)"
        )
        out = os.path.join(work, "audiences")
        run = run_child(["--child", data_dir, out, "plain"])
        verdict = "ok" if run["seconds"] <= GOAL else "OVER"
        print(
            f"write_lists: {run['seconds']:.2f} s wall "
            f"({verdict}, goal <= {GOAL:.0f} s); "
            f"{run['audiences']} audiences, {run['files']} files, "
            f"{run['warnings']} size warnings"
        )
        print(
            "peak memory (ru_maxrss of the process): "
            f"{run['maxrss_after_mb']:.0f} MB "
            f"({run['maxrss_before_mb']:.0f} MB after imports, before the call)"
        )
        print(
            "rows per audience: "
            + ", ".join(f"{k} {v}" for k, v in run["rows"].items())
        )
        if not args.no_parts:
            parts = run_child(["--child-parts", data_dir, out + "-parts"])
            print(
                f"parts (fresh process, {parts['events']:,} events read, "
                f"{parts['owned']:,} of them someone's):"
            )
            for name, seconds in parts["parts"].items():
                print(f"  {name:<40} {seconds:>7.2f} s")
        if args.tracemalloc:
            traced = run_child(["--child", data_dir, out + "-tm", "tracemalloc"])
            print(
                "tracemalloc peak of Python allocations: "
                f"{traced['tracemalloc_peak_mb']:.0f} MB "
                f"(that run took {traced['seconds']:.1f} s under tracemalloc)"
            )
        if args.profile:
            run_child(["--child", data_dir, out + "-prof", "profile"])
        return 0


if __name__ == "__main__":
    sys.exit(main())
