"""Digest benchmark: 10,000 personalised newsletter digests, rendered and built.

    .venv/bin/python bench/digest.py [--data DIR] [--recipients 10000]
                                     [--events 100000] [--serialize]
                                     [--profile N] [--keep]

Seeds a data directory with bench/seed.py (every contact a confirmed
subscriber, so 10,000 contacts are 10,000 recipients; the manifest has three
posts from the last ten days, so a digest has something new), or reuses a
seeded one with --data. Then, inside the tracker's app and a request context
as `polku digest` does (tracker/cli/digest.py), it times:

- recipients(): the confirmed subscribers (folds the people journal);
- interests_by_contact(): what each one read, from one pass over the events;
- send_digest(mode="preview", rate=0) with a deliver() that only counts:
  per recipient, their signed click, unsubscribe, preferences and feedback
  links, pelican.plugins.polku.digest.render (Jinja text + HTML with the CSS
  inlined, once per shape of email: plugins/polku/digest_shapes.py) and
  tracker.mail.build (the multipart message). Goals: <= 20 s for 10,000
  (issue 6) and <= 120 s for 100,000 (issue 21), 1.2 ms an email.

--serialize runs send_digest again with a deliver() that also turns each
message into bytes (what the SMTP client and --dry-run's .eml files cost).
--profile N profiles send_digest over the first N recipients.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
for path in (REPO, REPO / "plugins"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from bench import common  # noqa: E402

GOAL = 20.0  # seconds for 10,000 (issue 6)
GOAL_100K = 120.0  # seconds for 100,000 (issue 21)


def main() -> int:
    parser = common.argument_parser(__doc__)
    common.add_data_options(parser)
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--serialize", action="store_true")
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    args = parser.parse_args()

    from pelican.plugins.polku import digest as content

    from tracker import create_app
    from tracker.audiences import interests_by_contact
    from tracker.db import get_storage
    from tracker.mail import digest as newsletter
    from tracker.web import site as sitemeta

    common.print_header("digest")
    with common.work_dir("polku-digest-", args.tmp, args.keep) as work:
        data_dir, info = common.seeded(
            args.data, work, args.events, args.recipients, confirmed_only=True
        )
        print(
            f"data: {info['events']:,} events, {info['contacts']:,} contacts "
            f"({info['statuses']}), {info['customers']:,} customers"
        )
        app = create_app(
            {
                "DATA_DIR": data_dir,
                "SECRET_KEY": "x" * 40,
                "ADMIN_PASSWORD": "pw",
                "RATELIMIT_ENABLED": False,
            }
        )
        settings = content.DigestSettings.from_mapping(None, lang="en")
        env = content.make_env(str(REPO / "theme"))
        with app.test_request_context():
            storage = get_storage()
            started = time.perf_counter()
            people = newsletter.recipients(storage)
            t_recipients = time.perf_counter() - started
            started = time.perf_counter()
            interests = interests_by_contact(storage, sitemeta.manifest(), people)
            t_interests = time.perf_counter() - started
            print(
                f"recipients(): {len(people):,} in {t_recipients:.2f} s (people "
                f"journal fold); interests_by_contact(): {len(interests):,} "
                f"readers' interests in {t_interests:.2f} s"
            )

            def digest(deliver, only=None):
                return newsletter.send_digest(
                    storage,
                    settings=settings,
                    env=env,
                    interests=lambda c: interests.get(c["id"], {}),
                    deliver=deliver,
                    mode="preview",
                    rate=0,
                    only=only,
                )

            counted = []
            started, cpu = time.perf_counter(), time.process_time()
            outcome = digest(lambda msg: counted.append(1))
            t_render = time.perf_counter() - started
            cpu = time.process_time() - cpu  # less noisy on a shared machine
            if outcome.digest_id is None:
                raise SystemExit("nothing new to send: the manifest has no fresh post")
            n = outcome.sent
            each = t_render / max(n, 1)
            verdict = "ok" if each * 100_000 <= GOAL_100K else "OVER"
            print(
                f"send_digest(preview, rate=0): {n:,} messages "
                f"({outcome.posts} posts, {outcome.recipients:,} recipients) in "
                f"{t_render:.2f} s = {each * 1000:.3f} ms each, "
                f"{each * 10_000:.1f} s per 10,000 (goal <= {GOAL:.0f} s), "
                f"{each * 100_000:.1f} s per 100,000 (goal <= {GOAL_100K:.0f} s: "
                f"{verdict}); process CPU time {cpu / max(n, 1) * 1000:.3f} ms each"
            )
            print(
                f"with recipients() and interests: "
                f"{t_recipients + t_interests + t_render:.2f} s"
            )
            if args.serialize:
                sizes = []
                started = time.perf_counter()
                digest(lambda msg: sizes.append(len(bytes(msg))))
                t_bytes = time.perf_counter() - started
                print(
                    f"again, each message also turned into bytes: {t_bytes:.2f} s "
                    f"({t_bytes / max(len(sizes), 1) * 1000:.2f} ms each, "
                    f"{sum(sizes) / max(len(sizes), 1) / 1024:.0f} KB average)"
                )
            if args.profile:
                import cProfile
                import pstats

                only = people[: args.profile]
                profiler = cProfile.Profile()
                profiler.enable()
                digest(lambda msg: None, only=only)
                profiler.disable()
                print(f"cProfile of send_digest over {len(only):,} recipients:")
                stats = pstats.Stats(profiler, stream=sys.stdout)
                stats.sort_stats("cumulative").print_stats(15)
                stats.sort_stats("tottime").print_stats(12)
            storage.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
