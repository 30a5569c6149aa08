"""Sequence scheduler benchmark: one pass over 100,000 contacts with ~10,000 due.

    .venv/bin/python bench/sequences.py [--data DIR] [--contacts 100000]
                                        [--events 200000] [--keep]

Seeds a data directory with bench/seed.py (or reuses one with --data) and adds
to its manifest one sequence, triggered when a reader becomes a customer
(`stage:customer`, taken from the seed's first day on: about one in ten
contacts, those with newsletter consent enter), whose first email is due at
once. Then, inside the tracker's app as `polku sequences run` does
(tracker/cli/sequences.py), it times:

- a listing pass (`run` without --send): the people fold, the interests of
  everyone who may be emailed (one pass over the events), and
  `enrolment.advance` for every contact: what is due now. Goal: <= 10 s;
- a sending pass (`run --send`) with a deliver() that only counts: the
  claims inside the people lock (durable, in batches), each email rendered
  and built (the writer's Markdown, next reads, signed links, CSS inlined),
  each attempt noted durably, and the answers settled;
- a second sending pass: nothing is due, nothing is sent twice.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
for path in (REPO, REPO / "plugins"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from bench import common  # noqa: E402

GOAL = 10.0


def sequence() -> dict:
    from tracker.journey.sequences import StepSource, definition

    step = StepSource(
        "01-thanks.md",
        {"subject": "Thank you, {{ name or 'friend' }}", "delay": "0"},
        "<p>Hi {{ name or 'there' }}, thank you for your order.</p>{{ next_reads }}",
        "Hi {{ name or 'there' }}, thank you for your order.\n\n{{ next_reads }}\n",
    )
    found = definition(
        "customers", {"trigger": "stage:customer", "since": "2000-01-01"}, [step]
    )
    return found


def main() -> int:
    parser = common.argument_parser(__doc__)
    common.add_data_options(parser)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=200_000)
    args = parser.parse_args()

    from tracker import clock, create_app
    from tracker.cli.sequences import _reading
    from tracker.db import get_storage
    from tracker.mail import sequences as scheduler

    common.print_header("sequences")
    with common.work_dir("polku-sequences-", args.tmp, args.keep) as work:
        started = time.perf_counter()
        data_dir, info = common.seeded(args.data, work, args.events, args.contacts)
        print(
            f"data: {info['events']:,} events, {info['contacts']:,} contacts "
            f"({info['statuses']}), {info['customers']:,} customers "
            f"(seeded in {time.perf_counter() - started:.0f} s)"
        )
        manifest_path = os.path.join(data_dir, "manifest.json")
        with open(manifest_path) as f:
            manifest = json.load(f)
        manifest["site"]["timezone"] = "UTC"
        manifest["journey"] = {"send_window": "00:00-24:00", "max_per_day": 1}
        manifest["sequences"] = [sequence()]
        with open(manifest_path, "w") as f:
            json.dump(manifest, f)
        app = create_app(
            {"DATA_DIR": data_dir, "SECRET_KEY": "x" * 40, "RATELIMIT_ENABLED": False}
        )
        with app.test_request_context():
            storage = get_storage()
            cache: dict = {}

            def interests(contacts):
                cache["found"] = _reading(storage, contacts)
                return cache["found"][0]

            def one(mode, deliver):
                started = time.perf_counter()
                done = scheduler.run(
                    storage,
                    mode=mode,
                    now=clock.now(),
                    deliver=deliver,
                    interests=interests,
                    reads=lambda contacts: cache["found"][1],
                )
                return done, time.perf_counter() - started

            listed, t_list = one(scheduler.LIST, lambda m: None)
            verdict = "ok" if t_list <= GOAL else "OVER"
            print(
                f"listing pass: {info['contacts']:,} contacts, {len(listed.due):,} "
                f"due in {t_list:.2f} s ({verdict}, goal <= {GOAL:.0f} s)"
            )
            counted = []
            sent, t_send = one(scheduler.SEND, counted.append)
            print(
                f"sending pass (claim, render, build, note, settle; no SMTP): "
                f"{len(sent.sent):,} emails in {t_send:.2f} s = "
                f"{t_send / max(len(sent.sent), 1) * 1000:.2f} ms each"
            )
            again, t_again = one(scheduler.SEND, counted.append)
            print(
                f"second sending pass: {len(again.sent)} sent in {t_again:.2f} s "
                f"(messages built in all: {len(counted):,})"
            )
            print(f"peak RSS: {common.maxrss_mb():.0f} MB")
            if len(counted) != len(sent.sent) or again.sent:
                print("FAILED: an email was built twice")
                return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
