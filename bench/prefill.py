"""Fill a data directory with N stored events, fast, for the ingest benchmark.

- `prefill_journal(data_dir, n)` writes journal lines directly, in the record
  format `tracker.collect.record()` produces, spread over the last 12 months:
  `<data>/journal/events/<YYYY-MM>/prefill.jsonl`, oldest first within a file.
- `prefill_tinydb(path, n)` writes a TinyDB JSON file (default table) with the
  same N records as documents, built as one JSON stream, not N inserts.
- `write_manifest(data_dir, site_url)` writes the build's manifest.json.
- `count_journal_events(data_dir)` counts the complete stored event lines.

    .venv/bin/python -m bench.prefill DATA_DIR N [--site URL] [--tinydb]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlsplit

from bench.seed import STATUS_PAGES

MONTHS = 12
BATCH = 20_000
POSTS = [
    ("one", "One"),
    ("website-speed", "Why your website is slow, and what to do about it"),
    ("seo-basics", "SEO basics for a small business"),
    ("newsletter-101", "A newsletter people want to read"),
    ("landing-pages", "Landing pages that convert"),
    ("photos", "Product photos on a budget"),
    ("pricing", "How to price a service"),
    ("case-kahvila", "Case study: Kahvila Kettu’s new site"),
    ("accessibility", "Accessibility checklist: 10 things to fix today"),
    ("analytics", "Analytics without cookies"),
]
PAGES = [
    ("/", "Kettu Studio"),
    ("/guide-website-checklist/", "The website checklist"),
    ("/about/", "About us"),
    ("/thanks-signup/", "Thanks for signing up"),
]
REFERRERS = [None] * 6 + [
    "www.google.com",
    "duckduckgo.com",
    "news.example",
    "www.linkedin.com",
    "l.facebook.com",
]
UTMS = [None] * 8 + [
    {"source": "newsletter", "medium": "email", "campaign": "digest"},
    {"source": "facebook", "medium": "paid", "campaign": "spring"},
    {"source": "x"},
]
DEVICES = ["desktop"] * 5 + ["mobile"] * 4 + ["tablet"]
WIDTHS = {
    "desktop": [1280, 1440, 1920, 1536],
    "mobile": [390, 412, 360],
    "tablet": [820, 1024],
}


def _months(now: datetime) -> list[tuple[str, float, float]]:
    """The last MONTHS months, oldest first: (YYYY-MM, start, end) as timestamps."""
    out = []
    year, month = now.year, now.month
    for _ in range(MONTHS):
        start = datetime(year, month, 1, tzinfo=UTC)
        ny, nm = (year + 1, 1) if month == 12 else (year, month + 1)
        end = min(datetime(ny, nm, 1, tzinfo=UTC), now)
        out.append((f"{year:04d}-{month:02d}", start.timestamp(), end.timestamp()))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return out[::-1]


def _split(n: int, parts: int) -> list[int]:
    return [n // parts + (1 if i < n % parts else 0) for i in range(parts)]


class _Records:
    """Makes journal lines (JSON text, no newline) like tracker.collect.record().

    The varying parts are drawn from a pool of pre-rendered record bodies so
    that a million lines take seconds; ids, timestamps and visitors are drawn
    per line.
    """

    POOL_BITS = 12

    def __init__(self, host: str, seed: int = 1) -> None:
        self.rng = r = random.Random(seed)
        host = json.dumps(host)
        pages = [
            (json.dumps(f"/posts/{slug}/"), json.dumps(title, ensure_ascii=False))
            for slug, title in POSTS
        ] + [(json.dumps(p), json.dumps(t, ensure_ascii=False)) for p, t in PAGES]
        self.visitors = [f"{r.getrandbits(128):032x}" for _ in range(50_000)]
        self.pool: list[tuple[str, str | None]] = []
        for _ in range(1 << self.POOL_BITS):
            path, title = r.choice(pages)
            pre = f'"path":{path},"host":{host}'
            roll = r.random()
            if roll < 0.04:  # a crawler: counted apart, no visitor
                self.pool.append((pre + ',"type":"bot"}', None))
                continue
            if roll < 0.07:
                kind, name = "event", r.choice(("signup", "download", "outbound"))
            else:
                kind, name = "pageview", "pageview"
            pre += f',"type":"{kind}","name":"{name}"'
            post = [f',"title":{title}']
            referrer, utm = r.choice(REFERRERS), r.choice(UTMS)
            if referrer:
                post.append(f',"referrer":"{referrer}"')
            elif not utm and r.random() < 0.6:  # a click from another page
                post.append(',"entry":false')
            if utm:
                post.append(',"utm":' + json.dumps(utm, separators=(",", ":")))
            device = r.choice(DEVICES)
            post.append(f',"device":"{device}","width":{r.choice(WIDTHS[device])}')
            if kind == "event":
                post.append(',"props":{"form":"footer"}')
            post.append("}")
            self.pool.append((pre, "".join(post)))

    def line(self, ts: float) -> str:
        r = self.rng
        stamp = datetime.fromtimestamp(ts, UTC).isoformat()
        pre, post = self.pool[r.getrandbits(self.POOL_BITS)]
        head = f'{{"id":"{r.getrandbits(96):024x}","ts":"{stamp}",{pre}'
        if post is None:
            return head
        visitor = self.visitors[int(r.random() * len(self.visitors))]
        return f'{head},"visitor":"{visitor}"{post}'

    def month(self, count: int, start: float, end: float) -> Iterator[str]:
        """count lines with sorted timestamps in [start, end)."""
        span = end - start
        stamps = sorted(start + self.rng.random() * span for _ in range(count))
        for ts in stamps:
            yield self.line(ts)


def _host(site_url: str) -> str:
    return urlsplit(site_url).hostname or "127.0.0.1"


def prefill_journal(
    data_dir: str, n: int, site_url: str = "http://127.0.0.1", writer: str = "prefill"
) -> int:
    """Write n event lines into the journal; returns n."""
    records = _Records(_host(site_url))
    root = os.path.join(data_dir, "journal", "events")
    months = _months(datetime.now(UTC))
    for (month, start, end), count in zip(months, _split(n, len(months)), strict=True):
        if not count:
            continue
        folder = os.path.join(root, month)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, writer + ".jsonl"), "w", encoding="utf-8") as f:
            batch = []
            for line in records.month(count, start, end):
                batch.append(line)
                if len(batch) >= BATCH:
                    f.write("\n".join(batch) + "\n")
                    batch.clear()
            if batch:
                f.write("\n".join(batch) + "\n")
    return n


def prefill_tinydb(path: str, n: int, site_url: str = "http://127.0.0.1") -> int:
    """Write a TinyDB database file whose default table holds n event documents."""
    records = _Records(_host(site_url))
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    months = _months(datetime.now(UTC))
    doc_id = 0
    with open(path, "w", encoding="utf-8") as f:
        f.write('{"_default": {')
        batch = []
        for (_, start, end), count in zip(months, _split(n, len(months)), strict=True):
            for line in records.month(count, start, end):
                doc_id += 1
                batch.append(f'"{doc_id}": {line}')
                if len(batch) >= BATCH:
                    f.write(("" if doc_id == len(batch) else ", ") + ", ".join(batch))
                    batch.clear()
        if batch:
            f.write(("" if doc_id == len(batch) else ", ") + ", ".join(batch))
        f.write("}}")
    return n


def manifest(site_url: str) -> dict:
    """A posts manifest like the build writes (shape of tests/conftest.py's)."""
    return {
        "version": 1,
        "site": {"name": "Kettu Studio", "url": site_url, "lang": "en"},
        "posts": [
            {
                "kind": "article",
                "url": f"posts/{slug}/",
                "title": title,
                "date": "2026-01-01T09:00:00",
                "category": "Websites",
                "tags": ["speed"],
                "summary": "",
                "cta": {"kind": "newsletter"},
            }
            for slug, title in POSTS
        ],
        "guides": {
            "website-checklist": {
                "slug": "website-checklist",
                "title": "The checklist",
                "url": "guide-website-checklist/",
                "summary": "",
                "file": "website-checklist.pdf",
            },
        },
        "status_pages": STATUS_PAGES,
        "consent": {
            "newsletter": "Send me the letter.",
            "ads": "Ads are fine.",
            "version": "v1",
        },
    }


def write_manifest(data_dir: str, site_url: str) -> None:
    os.makedirs(data_dir, exist_ok=True)
    with open(os.path.join(data_dir, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest(site_url), f, ensure_ascii=False)


def count_journal_events(data_dir: str) -> int:
    """Complete lines (ending in a newline) in every events journal file."""
    total = 0
    root = os.path.join(data_dir, "journal", "events")
    for folder, _, names in os.walk(root):
        for name in names:
            if name.endswith(".jsonl"):
                with open(os.path.join(folder, name), "rb") as f:
                    while chunk := f.read(8 << 20):
                        total += chunk.count(b"\n")
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir")
    parser.add_argument("n", type=int)
    parser.add_argument("--site", default="http://127.0.0.1:8000")
    parser.add_argument("--tinydb", action="store_true", help="naive.json instead")
    args = parser.parse_args()
    started = time.perf_counter()
    write_manifest(args.data_dir, args.site)
    if args.tinydb:
        prefill_tinydb(os.path.join(args.data_dir, "naive.json"), args.n, args.site)
    else:
        prefill_journal(args.data_dir, args.n, args.site)
    print(f"{args.n} events in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
