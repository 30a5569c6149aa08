"""Seed a realistic Polku data directory directly in the journal format, fast.

    .venv/bin/python bench/seed.py DATA_DIR [--events 1000000] [--contacts 100000]
                                   [--months 12] [--seed 1] [--confirmed-only]

`seed(data_dir, events, contacts, months)` writes, without going through HTTP:

- `manifest.json`: 40 posts in 4 categories (the newest three in the last ten
  days, so a digest has something new), the guide download landing page and the
  guide itself (`guides/website-checklist.pdf`), shaped like the build's
  manifest (tests/conftest.py TEST_MANIFEST), site `https://kettu.example`;
- `journal/events/<YYYY-MM>/seed.jsonl`: about `events` observation lines over
  the last `months` months, oldest first, in the format tracker.collect.record()
  and forms.click() write. Traffic grows over the year and dips at weekends and
  at night; visits (1-8 pageviews, 30-minute visit rule) come from direct,
  search, social, paid campaigns (UTM, a campaign per quarter), referrers and
  the newsletter; visitor ids are cookieless-style daily ids (a new random id
  per browser per day); ~2 % bot hits and a few named events; posts are read
  only once published, with a long tail of popularity and a boost when new;
- `journal/people/000001.jsonl`, ...: `contacts` people, each line
  `{"ts", "contact": {the whole contact}, "event": {timeline event}|null}` as
  `storage.transaction()` writes them, replayed in time order: signup (pending,
  consent proof), confirm (status, consent with wording, lead_at, ref_code,
  first/last touch from their stitched visits, lead_page, device), guide
  downloads, purchases (~10 % customers), unsubscribes, feedback scores and
  referrals. About 78 % confirmed, 8 % unsubscribed, 12 % identified without a
  subscription (guide downloaders), 2 % pending (signed up in the last 14
  days); a quarter of the subscribers also gave the separate ads consent. Each
  contact has 1-4 stitched visitor ids whose visits are in the events journal,
  and subscribers' clicks from the digest (`type: click`, their contact id) are
  there too, followed by pageviews;
- `bench-seed.json`: what was written and a few handy ids for the benchmarks
  (the tracker ignores it).

Everything derives from `--seed`; only "now" moves between runs.
"""

from __future__ import annotations

import argparse
import bisect
import gc
import json
import os
import random
import shutil
import sys
import time
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate

from tracker.journey import attribution

SITE = "https://kettu.example"
HOST = "kettu.example"
WRITER = "seed"
INFO = "bench-seed.json"
DAY = 86400

CATEGORIES = {
    "Websites": ["speed", "design", "hosting", "seo"],
    "Accessibility": ["accessibility", "forms", "content", "design"],
    "Marketing": ["newsletter", "seo", "analytics", "privacy", "content"],
    "Case studies": ["local", "design", "speed", "newsletter"],
}
TOPICS = [
    "slow pages",
    "form labels",
    "local search",
    "a newsletter people read",
    "cookie banners",
    "alt text",
    "a redesign",
    "the check-up",
    "page titles",
    "contact forms",
    "booking flows",
    "image sizes",
    "web fonts",
    "menus",
    "contrast",
    "headings",
    "meta descriptions",
    "a privacy policy",
    "analytics without cookies",
    "landing pages",
    "the price page",
    "reviews",
    "opening hours",
    "a blog",
    "a sitemap",
    "mobile menus",
    "checkout",
    "an about page",
    "photos",
    "testimonials",
    "keyboard users",
    "captions",
    "a domain name",
    "email deliverability",
    "a welcome email",
    "hosting",
    "backups",
    "a staging site",
    "a style guide",
    "plain language",
]
PAGES = {  # path -> title: pages of the demo site beside the posts
    "/": "Kettu Studio",
    "/about/": "About Kettu Studio",
    "/newsletter/": "The Kettu letter",
    "/guide-website-checklist/": "The small business website checklist",
    "/thanks-signup/": "Thanks for signing up",
    "/thanks-confirmed/": "You are subscribed",
    "/thanks-download/": "Your guide is on its way",
    "/archives/": "Archives",
    "/privacy/": "Privacy",
}
GUIDE = "website-checklist"
GUIDE_PAGE = "/guide-website-checklist/"
WORDING = {  # plugins/polku/settings.py CONSENT_WORDING["en"]
    "newsletter": "Send me the Kettu letter: new posts about twice a month. "
    "I can unsubscribe with one click in every email.",
    "ads": "I also agree that my email address, hashed, may be used to show me "
    "our ads on Meta, Google and LinkedIn. Optional; withdraw any time.",
}
CONSENT_VERSION = "2026-11-01"
STATUS_PAGES = {  # the page each form outcome leads to (prefill.py shares it)
    "signup": "thanks-signup/",
    "confirmed": "thanks-confirmed/",
    "download": "thanks-download/",
    "unsubscribed": "thanks-unsubscribed/",
    "feedback": "thanks-feedback/",
    "error": "oops/",
}

FIRST = (
    "Aino Eino Helmi Juhani Kaisa Lauri Maija Niko Olivia Pekka Riikka Sami "
    "Tuuli Ville Anna Mikko Laura Jari Sanna Timo Emma Oskari Sofia Leo Ella "
    "Elias Iida Onni Noora Matias Julia Aleksi Venla Joonas Sara Eetu Lotta "
    "Anton Kerttu Veeti Maria John Sarah David Emily Lucas Mia Noah Grace"
).split()
LAST = (
    "Virtanen Korhonen Mäkinen Nieminen Mäkelä Hämäläinen Laine Heikkinen "
    "Koskinen Järvinen Lehtonen Lehtinen Saarinen Salminen Heinonen Niemi "
    "Heikkilä Kinnunen Salonen Turunen Salo Laitinen Tuominen Rantanen Karjalainen "
    "Jokinen Mattila Savolainen Lahtinen Ahonen Smith Jones Brown Taylor Wilson"
).split()
DOMAINS = (
    ["gmail.com"] * 6
    + ["outlook.com"] * 2
    + ["hotmail.com", "yahoo.com"]
    + ["elisanet.fi", "kolumbus.fi", "kahvila-example.fi", "studio-example.com"]
)
ASCII = str.maketrans({"ä": "a", "ö": "o", "å": "a"})

# Visit sources: (weight, key, referrer host, utm maker, landing kind).
# utm makers get (quarter) and return a dict or None.
QUARTER_FB = ["winter-offer", "spring-sale", "summer-checkup", "autumn-guide"]
SOURCES = [
    (30, "direct", None, None, "direct"),
    (27, "google", "www.google.com", None, "search"),
    (3, "duckduckgo", "duckduckgo.com", None, "search"),
    (3, "bing", "www.bing.com", None, "search"),
    (4, "facebook-organic", "l.facebook.com", None, "social"),
    (3, "linkedin-organic", "www.linkedin.com", None, "social"),
    (3, "x", "t.co", None, "social"),
    (5, "news", "news.example", None, "search"),
    (2, "forum", "forum.example.fi", None, "search"),
    (
        6,
        "facebook-paid",
        None,
        lambda q, r: {
            "source": "facebook",
            "medium": "paid",
            "campaign": QUARTER_FB[q] if r.random() < 0.7 else "retarget-readers",
        },
        "paid",
    ),
    (
        3,
        "instagram-paid",
        None,
        lambda q, r: {
            "source": "instagram",
            "medium": "paid",
            "campaign": QUARTER_FB[q],
        },
        "paid",
    ),
    (
        2,
        "linkedin-paid",
        None,
        lambda q, r: {
            "source": "linkedin",
            "medium": "cpc",
            "campaign": "b2b-checklist",
        },
        "paid",
    ),
    (
        1,
        "google-ads",
        None,
        lambda q, r: {"source": "google", "medium": "cpc", "campaign": "brand"},
        "paid",
    ),
]
SOURCE_CUM = list(accumulate(s[0] for s in SOURCES))
DEVICES = [  # (weight, class, widths)
    (45, "desktop", (1280, 1366, 1440, 1536, 1920)),
    (47, "mobile", (360, 375, 390, 393, 412, 430)),
    (6, "tablet", (768, 810, 820, 1024)),
    (2, "other", (0,)),
]
DEVICE_CUM = list(accumulate(d[0] for d in DEVICES))
HOURS = [1, 1, 1, 1, 2, 4, 6, 8, 9, 9, 9, 8, 8, 8, 8, 8, 7, 7, 7, 8, 7, 5, 3, 2]
HOUR_CUM = list(accumulate(HOURS))
PAGEVIEWS = [(50, 1), (20, 2), (12, 3), (8, 4), (5, 5), (3, 6), (2, 8)]
PV_CUM = list(accumulate(w for w, _ in PAGEVIEWS))
NAMED = ("outbound", "cta-view", "copy-code", "scroll-75")


def _pick(rng: random.Random, cum: list[float]) -> int:
    return bisect.bisect_right(cum, rng.random() * cum[-1])


def _dumps(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _stamp(day: date, seconds: float) -> str:
    """ISO timestamp like datetime.now(UTC).isoformat() (always microseconds).

    A visit that runs past midnight stays in its day, at 23:59:59.999999.
    """
    seconds = min(seconds, DAY - 1e-6)
    s = int(seconds)
    us = int((seconds - s) * 1e6)
    return (
        f"{day.isoformat()}T{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"
        f".{us:06d}+00:00"
    )


def _ts_at(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="microseconds")


# -- the manifest ------------------------------------------------------------


def make_posts(rng: random.Random, now: datetime, months: int, count: int = 40):
    """Posts over the period, the newest three in the last ten days."""
    span = months * 30.4 * DAY
    ages = sorted(rng.random() * (span - 12 * DAY) + 12 * DAY for _ in range(count - 3))
    ages += [rng.uniform(1, 10) * DAY for _ in range(3)]
    ages.sort(reverse=True)  # oldest first
    posts = []
    cats = list(CATEGORIES)
    for i, age in enumerate(ages):
        topic = TOPICS[i % len(TOPICS)]
        category = cats[i % len(cats)]
        tags = rng.sample(CATEGORIES[category], 2)
        slug = topic.replace(" ", "-").replace("'", "") + f"-{i + 1}"
        when = (now - timedelta(seconds=age)).replace(microsecond=0)
        posts.append(
            {
                "kind": "article",
                "url": f"posts/{slug}/",
                "title": f"{topic.capitalize()}: what a small business needs to know",
                "date": when.isoformat(),
                "category": category,
                "tags": tags,
                "summary": f"A practical look at {topic} for small business "
                "websites, with a checklist you can use today.",
                "cta": {"kind": "newsletter"}
                if i % 3
                else {"kind": "guide", "slug": GUIDE},
                "lang": "en",
            }
        )
    return posts


def make_manifest(posts: list[dict], site: str = SITE) -> dict:
    return {
        "version": 1,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "site": {"name": "Kettu Studio", "url": site, "lang": "en"},
        "posts": posts
        + [
            {
                "kind": "landing",
                "url": GUIDE_PAGE.strip("/") + "/",
                "title": PAGES[GUIDE_PAGE],
                "date": None,
                "category": None,
                "tags": [],
                "summary": "A free PDF with 25 practical checks.",
                "cta": None,
                "lang": "en",
            }
        ],
        "guides": {
            GUIDE: {
                "slug": GUIDE,
                "title": "The small business website checklist",
                "url": GUIDE_PAGE.strip("/") + "/",
                "summary": "A free PDF with 25 practical checks.",
                "file": f"{GUIDE}.pdf",
            }
        },
        "status_pages": STATUS_PAGES,
        "consent": {**WORDING, "version": CONSENT_VERSION},
        "consent_mode": "cookieless",
    }


# -- traffic -----------------------------------------------------------------


class Traffic:
    """Days, their weights, and the choices a visit makes on a given day."""

    def __init__(self, rng: random.Random, now: datetime, months: int, posts: list):
        self.rng = rng
        self.now = now
        first = (now - timedelta(days=round(months * 30.4))).date() + timedelta(days=1)
        self.days = [
            first + timedelta(days=i) for i in range((now.date() - first).days + 1)
        ]
        self.index = {d: i for i, d in enumerate(self.days)}
        self.start_epoch = datetime(first.year, first.month, first.day, tzinfo=UTC)
        self.start_epoch = self.start_epoch.timestamp()
        self.today_seconds = (
            now - now.replace(hour=0, minute=0, second=0, microsecond=0)
        ).total_seconds()
        n = len(self.days)
        spikes = set(rng.sample(range(n), max(1, n // 30)))
        weights = []
        for i, d in enumerate(self.days):
            w = 0.6 + 0.8 * i / max(n - 1, 1)
            w *= 0.7 if d.weekday() >= 5 else 1.0
            w *= rng.uniform(0.85, 1.15) * (2.0 if i in spikes else 1.0)
            if i == n - 1:
                w *= max(self.today_seconds / DAY, 0.01)
            weights.append(w)
        self.weights = weights
        self.day_cum = list(accumulate(weights))
        # Posts: published ones only, long tail of popularity, boost when new.
        self.posts = sorted(
            (
                datetime.fromisoformat(p["date"]).timestamp(),
                "/" + p["url"],
                p["title"],
                p["category"],
            )
            for p in posts
            if p["kind"] == "article"
        )
        popularity = list(range(1, len(self.posts) + 1))
        rng.shuffle(popularity)
        self.popularity = [1.0 / r**0.9 for r in popularity]
        self.categories = sorted({p[3] for p in self.posts})
        self._day_posts: dict[int, tuple[list, list, list]] = {}

    def day_end(self, i: int) -> float:
        return self.today_seconds if i == len(self.days) - 1 else float(DAY)

    def epoch(self, i: int, seconds: float) -> float:
        return self.start_epoch + i * DAY + seconds

    def day_posts(self, i: int) -> tuple[list, list, list]:
        """(paths, cumulative weights, newest five paths) published by day i."""
        cached = self._day_posts.get(i)
        if cached:
            return cached
        end = self.epoch(i, DAY)
        live = [
            (p, w)
            for p, w in zip(self.posts, self.popularity, strict=True)
            if p[0] < end
        ]
        if not live:
            live = [(self.posts[0], 1.0)]
        weights = [w * (4.0 if end - p[0] < 14 * DAY else 1.0) for p, w in live]
        paths = [p[1] for p, _ in live]
        found = (paths, list(accumulate(weights)), paths[-5:])
        self._day_posts[i] = found
        return found

    def post(self, i: int) -> str:
        paths, cum, _ = self.day_posts(i)
        return paths[_pick(self.rng, cum)]

    def landing(self, i: int, kind: str) -> str:
        r = self.rng.random()
        if kind == "direct":
            if r < 0.5:
                return "/"
            if r < 0.9:
                return self.post(i)
            return "/about/" if r < 0.95 else "/newsletter/"
        if kind == "search":
            return self.post(i) if r < 0.85 else ("/" if r < 0.95 else GUIDE_PAGE)
        if kind == "social":
            return self.recent(i) if r < 0.8 else "/"
        if kind == "paid":
            if r < 0.6:
                return GUIDE_PAGE
            return "/newsletter/" if r < 0.8 else self.post(i)
        if kind == "newsletter":
            return self.recent(i) if r < 0.9 else "/"
        return self.post(i)

    def recent(self, i: int) -> str:
        return self.rng.choice(self.day_posts(i)[2])

    def next_page(self, i: int) -> str:
        r = self.rng.random()
        if r < 0.55:
            return self.post(i)
        if r < 0.70:
            return "/"
        if r < 0.80:
            category = self.rng.choice(self.categories)
            return f"/category/{category.lower().replace(' ', '-')}/"
        if r < 0.87:
            return GUIDE_PAGE
        if r < 0.92:
            return "/about/"
        if r < 0.96:
            return "/newsletter/"
        return "/archives/" if r < 0.98 else "/privacy/"

    def source(self, i: int):
        """Return (key, referrer, utm, landing kind) of a new visit on day i."""
        key, referrer, make_utm, kind = SOURCES[_pick(self.rng, SOURCE_CUM)][1:]
        utm = make_utm(((self.days[i].month - 1) // 3), self.rng) if make_utm else None
        return key, referrer, utm, kind


def touch_of(visit) -> dict:
    """What tracker.journey.stages._touch makes of a visit's first pageview."""
    utm = visit.utm or {}
    referrer = visit.referrer
    medium = utm.get("medium")
    if medium is None and referrer and not utm.get("source"):
        medium = "referral"
    return {
        "ts": visit.first_ts,
        "source": utm.get("source") or referrer or "direct",
        "medium": medium,
        "campaign": utm.get("campaign"),
        "landing": visit.pages[0],
        "referrer": referrer,
    }


class Visit:
    __slots__ = (
        "day",
        "times",
        "visitor",
        "referrer",
        "utm",
        "pages",
        "device",
        "width",
        "click",
        "named",
    )

    def __init__(self, day, times, visitor, referrer, utm, pages, device, width):
        self.day = day
        self.times = times
        self.visitor = visitor
        self.referrer = referrer
        self.utm = utm
        self.pages = pages
        self.device = device
        self.width = width
        self.click = None  # (contact id, campaign) for a click from the digest
        self.named = False

    @property
    def first_ts(self) -> str:
        return _stamp(self.day, self.times[0])

    def epoch_of(self, traffic: Traffic, k: int = -1) -> float:
        return traffic.epoch(traffic.index[self.day], self.times[k])


def new_visit(
    traffic: Traffic,
    i: int,
    *,
    kind: str | None = None,
    last_page: str | None = None,
    at: float | None = None,
    visitor: str | None = None,
) -> Visit:
    """A visit on day i: its source, pages and times (last page forced if given)."""
    rng = traffic.rng
    if kind == "newsletter":
        referrer, utm = None, None  # the caller sets the digest's utm
    else:
        _, referrer, utm, kind = traffic.source(i)
    n = PAGEVIEWS[_pick(rng, PV_CUM)][1]
    if last_page and n == 1 and rng.random() < 0.5:
        n = 2
    pages = [traffic.landing(i, kind)]
    pages += [traffic.next_page(i) for _ in range(n - 1)]
    if last_page:
        pages[-1] = last_page
    gaps = [rng.uniform(15, 240) for _ in range(n - 1)]
    length = sum(gaps)
    end = traffic.day_end(i)
    if at is None:
        start = (_pick(rng, HOUR_CUM) + rng.random()) * 3600
    else:
        start = at
    start = max(0.0, min(start, end - length - 1))
    times = [start]
    for g in gaps:
        times.append(times[-1] + g)
    device_w = DEVICES[_pick(rng, DEVICE_CUM)]
    return Visit(
        traffic.days[i],
        times,
        visitor or f"{rng.getrandbits(128):032x}",
        referrer,
        utm,
        pages,
        device_w[1],
        rng.choice(device_w[2]),
    )


class EventWriter:
    """Renders visits into journal lines (as tracker.collect.record writes them)."""

    def __init__(self, root: str, rng: random.Random, writers: int = 1) -> None:
        self.root = root
        self.rng = rng
        self.writers = (
            [WRITER] if writers == 1 else [f"{WRITER}-{n}" for n in range(writers)]
        )
        self.files: dict[tuple[str, str], object] = {}
        self.host = f',"host":"{HOST}"'
        self.titles: dict[str, str] = {}
        self.counts = {"pageview": 0, "bot": 0, "event": 0, "click": 0}

    def title(self, path: str, traffic: Traffic) -> str:
        found = self.titles.get(path)
        if found is None:
            title = PAGES.get(path)
            if title is None:
                title = next((p[2] for p in traffic.posts if p[1] == path), None)
            if title is None and path.startswith("/category/"):
                title = path.split("/")[2].replace("-", " ").capitalize()
            found = self.titles[path] = f',"title":{_dumps(title)}' if title else ""
        return found

    def _id(self) -> str:
        return f"{self.rng.getrandbits(96):024x}"

    def visit_lines(self, v: Visit, traffic: Traffic, out: list) -> None:
        device = f',"device":"{v.device}"' + (f',"width":{v.width}' if v.width else "")
        entry_extra = ""
        if v.referrer:
            entry_extra += f',"referrer":"{v.referrer}"'
        if v.utm:
            entry_extra += ',"utm":' + _dumps(v.utm)
        visitor = f',"visitor":"{v.visitor}"'
        if v.click:
            cid, campaign = v.click
            ts = _stamp(v.day, max(v.times[0] - 1.5, 0.0))
            out.append(
                (
                    ts,
                    f'{{"id":"{self._id()}","ts":"{ts}","type":"click",'
                    f'"contact":"{cid}"{visitor}{self.host},'
                    f'"path":{_dumps(v.pages[0])},"props":{{"email":"{campaign}"}}}}',
                )
            )
            self.counts["click"] += 1
        for k, (t, path) in enumerate(zip(v.times, v.pages, strict=True)):
            ts = _stamp(v.day, t)
            extra = entry_extra if k == 0 else ',"entry":false'
            out.append(
                (
                    ts,
                    f'{{"id":"{self._id()}","ts":"{ts}","path":{_dumps(path)}'
                    f'{self.host},"type":"pageview","name":"pageview"{visitor}'
                    f"{self.title(path, traffic)}{extra}{device}}}",
                )
            )
        self.counts["pageview"] += len(v.pages)
        if v.named:
            k = self.rng.randrange(len(v.pages))
            ts = _stamp(v.day, v.times[k] + self.rng.uniform(2, 14))
            name = self.rng.choice(NAMED)
            out.append(
                (
                    ts,
                    f'{{"id":"{self._id()}","ts":"{ts}","path":{_dumps(v.pages[k])}'
                    f'{self.host},"type":"event","name":"{name}"{visitor}'
                    f'{self.title(v.pages[k], traffic)},"entry":false{device},'
                    f'"props":{{"label":"{name}"}}}}',
                )
            )
            self.counts["event"] += 1

    def bot_line(self, day: date, seconds: float, path: str) -> tuple[str, str]:
        ts = _stamp(day, seconds)
        self.counts["bot"] += 1
        return ts, (
            f'{{"id":"{self._id()}","ts":"{ts}","path":{_dumps(path)}'
            f'{self.host},"type":"bot"}}'
        )

    def fetched_line(self, epoch: float, cid: str) -> tuple[str, str]:
        ts = _ts_at(epoch)
        self.counts["event"] += 1
        return ts, (
            f'{{"id":"{self._id()}","ts":"{ts}","type":"event",'
            f'"name":"guide-fetched","contact":"{cid}","props":{{"guide":"{GUIDE}"}}}}'
        )

    def write_day(self, day: date, lines: list[tuple[str, str]]) -> None:
        lines.sort()
        month = day.isoformat()[:7]
        if len(self.writers) == 1:
            self._file(month, self.writers[0]).write(
                "".join(line + "\n" for _, line in lines)
            )
            return
        parts: dict[str, list[str]] = {w: [] for w in self.writers}
        for _, line in lines:
            parts[self.rng.choice(self.writers)].append(line + "\n")
        for w, chunk in parts.items():
            self._file(month, w).write("".join(chunk))

    def _file(self, month: str, writer: str):
        f = self.files.get((month, writer))
        if f is None:
            folder = os.path.join(self.root, month)
            os.makedirs(folder, exist_ok=True)
            f = self.files[(month, writer)] = open(  # noqa: SIM115
                os.path.join(folder, writer + ".jsonl"), "w", encoding="utf-8"
            )
        return f

    def close(self) -> None:
        for f in self.files.values():
            f.close()


# -- people ------------------------------------------------------------------


def _hex(rng: random.Random, n: int) -> str:
    return f"{rng.getrandbits(4 * n):0{n}x}"


def credit(visits: list[Visit], traffic: Traffic, at: float, form_utm=None) -> dict:
    """attribution.credit over the contact's stitched visits (30-day lookback)."""
    before = [v for v in visits if at - 30 * DAY <= v.epoch_of(traffic, 0) <= at]
    before.sort(key=lambda v: v.epoch_of(traffic, 0))
    first = touch_of(before[0]) if before else None
    non_direct = [v for v in before if touch_of(v)["source"] != "direct"]
    last = touch_of((non_direct or before)[-1]) if before else None
    return attribution.with_form(first, last, _ts_at(at), form_utm)


def digest_days(traffic: Traffic) -> list[int]:
    """Indexes of the days a digest went out (the 1st and the 15th, 07:00 UTC)."""
    return [i for i, d in enumerate(traffic.days) if d.day in (1, 15)]


def plan_contacts(
    traffic: Traffic,
    count: int,
    visits_by_day: list[list[Visit]],
    confirmed_only: bool = False,
) -> tuple[list[tuple], dict]:
    """Make each contact's visits (into visits_by_day) and their decisions.

    Returns (decisions, facts): decisions are (epoch, seq, contact id, action,
    data) to replay in time order; facts are handy ids for the benchmarks.
    """
    rng = traffic.rng
    n_days = len(traffic.days)
    digests = digest_days(traffic)
    decisions: list[tuple] = []
    seq = 0
    ids: list[str] = []
    created_of: dict[str, float] = {}
    facts = {"customers": [], "statuses": {}}
    pending_from = max(0, n_days - 14)

    def add(epoch: float, cid: str, action: str, data: dict) -> None:
        nonlocal seq
        seq += 1
        decisions.append((epoch, seq, cid, action, data))

    for n in range(count):
        cid = _hex(rng, 24)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first}.{last}{n}@{rng.choice(DOMAINS)}".lower().translate(ASCII)
        r = rng.random()
        if confirmed_only:
            status = "confirmed"
        elif r < 0.02:
            status = "pending"
        elif r < 0.80:
            status = "confirmed"
        elif r < 0.88:
            status = "unsubscribed"
        else:
            status = "none"  # a guide downloader who never subscribed
        if status == "pending":
            day = rng.randrange(pending_from, n_days)
        else:
            day = min(_pick(rng, traffic.day_cum), n_days - 1)
        # Where they signed up or downloaded.
        downloads = status == "none" or rng.random() < 0.15
        form_page = (
            GUIDE_PAGE
            if status == "none"
            else (rng.choice(("/newsletter/", None, None, None)) or traffic.post(day))
        )
        signup = new_visit(traffic, day, last_page=form_page)
        visits_by_day[day].append(signup)
        stitched = [signup]
        extra = rng.choices((0, 1, 2, 3), weights=(55, 30, 10, 5))[0]
        for _ in range(extra):
            other = max(0, min(n_days - 1, day + rng.randint(-45, 20)))
            if other == day:
                continue
            v = new_visit(traffic, other)
            visits_by_day[other].append(v)
            stitched.append(v)
        at = signup.epoch_of(traffic) + rng.uniform(10, 60)
        now = traffic.now.timestamp()
        at = min(at, now - 1)
        created_of[cid] = at
        ids.append(cid)
        ads = status != "none" and rng.random() < 0.25
        name = first if rng.random() < 0.7 else None
        utm = signup.utm
        form = (
            "guide-download"
            if form_page == GUIDE_PAGE
            else (
                "newsletter-page" if form_page == "/newsletter/" else "article-signup"
            )
        )
        referrer = None
        if ids and len(ids) > 50 and rng.random() < 0.03:
            referrer = ids[rng.randrange(len(ids) - 1)]
        base = {
            "email": email,
            "first_name": name,
            "device": signup.device,
            "form": form,
            "page": form_page,
            "utm": utm,
            "referrer": referrer,
            "stitched": stitched,
        }
        if downloads and status == "none":
            add(at, cid, "download", {**base, "new": True, "news": False})
        elif downloads and rng.random() < 0.5:
            # Downloaded the guide first, ticking the newsletter box too.
            add(at, cid, "download", {**base, "new": True, "news": True, "ads": ads})
        else:
            add(at, cid, "signup", {**base, "new": True, "ads": ads})
            if downloads:
                later = at + rng.uniform(1, 60) * DAY
                if later < now:
                    dday = traffic.index.get(
                        datetime.fromtimestamp(later, UTC).date(), n_days - 1
                    )
                    v = new_visit(traffic, dday, last_page=GUIDE_PAGE)
                    visits_by_day[dday].append(v)
                    add(
                        v.epoch_of(traffic) + 20,
                        cid,
                        "download",
                        {
                            **base,
                            "new": False,
                            "news": False,
                            "visit": v,
                            "page": GUIDE_PAGE,
                            "form": "guide-download",
                            "utm": v.utm,
                        },
                    )
        if downloads:
            fetched = at + rng.uniform(60, 3 * DAY)
            if fetched < now:
                add(fetched, cid, "fetched", {})
        end = now
        if status in ("confirmed", "unsubscribed"):
            delay = (
                rng.uniform(40, 600)
                if rng.random() < 0.8
                else rng.uniform(1, 24) * 3600
            )
            confirmed = min(at + delay, now - 0.5)
            add(confirmed, cid, "confirm", {})
            if status == "unsubscribed":
                end = rng.uniform(confirmed, now)
                add(end, cid, "unsubscribe", {})
            # Clicks from the digests they received.
            for i in digests:
                t = traffic.epoch(i, 7 * 3600)
                if confirmed < t < end and rng.random() < 0.04:
                    start = 7 * 3600 + rng.expovariate(1 / 7200)
                    if start > traffic.day_end(i) - 600:
                        continue
                    v = new_visit(traffic, i, kind="newsletter", at=start)
                    v.utm = {
                        "source": "newsletter",
                        "medium": "email",
                        "campaign": f"digest-{traffic.days[i].isoformat()}",
                    }
                    v.click = (cid, f"digest-{traffic.days[i].isoformat()}")
                    visits_by_day[i].append(v)
        if status != "pending" and rng.random() < 0.10:  # a customer
            purchases = rng.choices((1, 2, 3, 4, 6), weights=(50, 25, 12, 8, 5))[0]
            times = sorted(rng.uniform(at + 3600, now) for _ in range(purchases))
            for k, t in enumerate(times):
                if t >= now:
                    continue
                add(
                    t,
                    cid,
                    "purchase",
                    {
                        "value": round(
                            rng.choice((49, 89, 149, 390, 890, 1900))
                            * rng.uniform(0.9, 1.1),
                            2,
                        ),
                        "order": f"order-{n}-{k}",
                        "kind": "booking" if rng.random() < 0.2 else "purchase",
                        "stitched": stitched,
                    },
                )
            facts["customers"].append(cid)
            if times and rng.random() < 0.3 and times[-1] + DAY < now:
                score = rng.choices(
                    range(11), weights=(1,) * 5 + (2, 3, 6, 10, 14, 12)
                )[0]
                add(
                    rng.uniform(times[-1] + DAY, now), cid, "feedback", {"score": score}
                )
        facts["statuses"][status] = facts["statuses"].get(status, 0) + 1
    return decisions, facts


def new_contact(cid: str, email: str, now: str, rng: random.Random) -> dict:
    """tracker.journey.people.new_contact, with a nonce from the seeded generator."""
    from tracker.journey.people import new_contact as fresh

    return {**fresh(email, now, cid), "nonce": _hex(rng, 16)}


def replay(
    decisions: list[tuple], traffic: Traffic, root: str, ev: EventWriter
) -> tuple[int, dict[str, dict], list[tuple[str, str]]]:
    """Apply every decision in time order; write one people-journal line each.

    Returns (lines written, contacts, extra observation lines for the events).
    """
    rng = traffic.rng
    decisions.sort()
    state: dict[str, dict] = {}
    visits_of: dict[str, list[Visit]] = {}  # stitched visits, for the credit
    extra: list[tuple[str, str]] = []
    files: dict[str, object] = {}
    written = 0

    def proof(ts: str, data: dict) -> dict:
        return {
            "ts": ts,
            "form": data["form"],
            "page": data["page"],
            "version": CONSENT_VERSION,
            "wording": dict(WORDING),
            "ip_hash": _hex(rng, 64),
        }

    def unconfirmed(c: dict, ts: str, data: dict) -> dict:
        """A subscription waiting for its confirmation."""
        return {
            "ts": ts,
            "ads": data["ads"],
            "first_name": data["first_name"],
            "proof": proof(ts, data),
            "visitor": c["visitors"][0],
        }

    def event(kind: str, c: dict, ts: str, **fields) -> dict:
        e = {"id": _hex(rng, 24), "ts": ts, "type": kind, "contact": c["id"]}
        return {**e, **{k: v for k, v in fields.items() if v is not None}}

    def write(ts: str, contact: dict, ev_: dict | None) -> None:
        """Append to the shared people journal's newest segment (time order)."""
        from tracker.storage.people_journal import PeopleJournal

        nonlocal written
        f = files.get("segment")
        if f is None or f.tell() >= PeopleJournal.SEGMENT_BYTES:
            if f is not None:
                f.close()
            files["n"] = files.get("n", 0) + 1
            os.makedirs(root, exist_ok=True)
            f = files["segment"] = open(  # noqa: SIM115
                os.path.join(root, PeopleJournal.name(files["n"])),
                "w",
                encoding="utf-8",
            )
        f.write(_dumps({"ts": ts, "contact": contact, "event": ev_}) + "\n")
        written += 1

    def reward(c: dict, via: str, ts: str) -> None:
        credited = c.setdefault("referral_credited", [])
        referrer = state.get(c.get("referred_by") or "")
        if referrer is None or via in credited:
            return
        credited.append(via)
        referrer["advocate_at"] = referrer.get("advocate_at") or ts
        referrer["updated"] = ts
        write(ts, referrer, event("referral", referrer, ts, referred=c["id"], via=via))

    for epoch, _, cid, action, data in decisions:
        ts = _ts_at(epoch)
        c = state.get(cid)
        if action in ("signup", "download") and data.get("new"):
            c = state[cid] = new_contact(cid, data["email"], ts, rng)
            c["device"] = data["device"]
            c["visitors"] = [v.visitor for v in data["stitched"]]
            visits_of[cid] = list(data["stitched"])
            if data["referrer"] in state:
                c["referred_by"] = data["referrer"]
        if c is None:
            continue
        c["updated"] = ts
        fields = {
            "form": data.get("form"),
            "source": data.get("page"),
            "utm": data.get("utm"),
        }
        if action == "signup":
            c["status"] = "pending"
            c["pending"] = unconfirmed(c, ts, data)
            c["signup_utm"] = data["utm"]
            write(ts, c, event("signup", c, ts, **fields))
        elif action == "download":
            c["lead_at"] = c["lead_at"] or ts
            c["first_name"] = c["first_name"] or data["first_name"]
            if data.get("news"):
                c["pending"] = unconfirmed(c, ts, data)
            if data.get("visit") and data["visit"].visitor not in c["visitors"]:
                c["visitors"].append(data["visit"].visitor)
                visits_of[cid].append(data["visit"])
            touch = credit(visits_of[cid], traffic, epoch, data.get("utm"))
            attribution.apply(c, touch)
            c["lead_page"] = c.get("lead_page") or data["page"]
            reward(c, "download", ts)
            write(
                ts,
                c,
                event("download", c, ts, guide=GUIDE, attribution=touch, **fields),
            )
        elif action == "confirm" and c.get("pending"):
            pending = c["pending"]
            p = {
                **pending["proof"],
                "confirmed_at": ts,
                "confirm_ip_hash": _hex(rng, 64),
            }
            c["consent"]["newsletter"] = {**p, "wording": p["wording"]["newsletter"]}
            if pending["ads"]:
                c["consent"]["ads"] = {**p, "wording": p["wording"]["ads"]}
            c["status"] = "confirmed"
            c["first_name"] = c["first_name"] or pending["first_name"]
            c["lead_at"] = c["lead_at"] or ts
            c["ref_code"] = c["ref_code"] or _hex(rng, 12)
            c["pending"] = None
            c["nonce"] = _hex(rng, 16)
            touch = credit(visits_of[cid], traffic, epoch, c.get("signup_utm"))
            attribution.apply(c, touch)
            c.setdefault("lead_page", c["consent"]["newsletter"].get("page"))
            reward(c, "signup", ts)
            write(ts, c, event("confirm", c, ts, attribution=touch))
        elif action == "unsubscribe":
            for kind in ("newsletter", "ads"):
                if c["consent"].get(kind):
                    c["consent"][kind] = {**c["consent"][kind], "withdrawn_at": ts}
            c["status"] = "unsubscribed"
            c["pending"] = None
            write(ts, c, event("unsubscribe", c, ts))
        elif action == "purchase":
            if data["kind"] in ("purchase", "booking"):
                c["customer_at"] = min(t for t in (c["customer_at"], ts) if t)
            c["lead_at"] = min(t for t in (c["lead_at"], ts) if t)
            c["orders"] = c["orders"] + [data["order"]]
            touch = credit(visits_of[cid], traffic, epoch)
            attribution.apply(c, touch)
            reward(c, data["kind"], ts)
            write(
                ts,
                c,
                event(
                    data["kind"],
                    c,
                    ts,
                    attribution=touch,
                    value=data["value"],
                    currency="EUR",
                    order_id=data["order"],
                ),
            )
        elif action == "feedback":
            comment = rng.choice(
                (None, None, "Quick and friendly.", "Could be cheaper.")
            )
            c["feedback"] = {"score": data["score"], "comment": comment, "ts": ts}
            c["answered"] = [*c.get("answered", []), f"digest-{ts[:10]}"][-20:]
            if data["score"] >= 9:
                c["advocate_at"] = c.get("advocate_at") or ts
            write(ts, c, event("feedback", c, ts, score=data["score"], comment=comment))
        elif action == "fetched":
            extra.append(ev.fetched_line(epoch, cid))
    if files.get("segment"):
        files["segment"].close()
    return written, state, extra


# -- the whole data directory --------------------------------------------------


def seed(
    data_dir: str,
    events: int = 1_000_000,
    contacts: int = 100_000,
    months: int = 12,
    *,
    rng_seed: int = 1,
    confirmed_only: bool = False,
    writers: int = 1,
    quiet: bool = False,
) -> dict:
    """Write a data directory (which must not hold a journal yet); return its facts."""
    collecting = gc.isenabled()
    gc.disable()  # millions of small objects, no cycles: spare the collector's rescans
    try:
        return _seed(
            data_dir, events, contacts, months, rng_seed, confirmed_only, writers, quiet
        )
    finally:
        if collecting:
            gc.enable()


def _seed(data_dir, events, contacts, months, rng_seed, confirmed_only, writers, quiet):
    started = time.perf_counter()
    rng = random.Random(rng_seed)
    now = datetime.now(UTC)
    journal = os.path.join(data_dir, "journal")
    if os.path.exists(journal):
        raise FileExistsError(f"{journal} exists: seed an empty data directory")
    os.makedirs(os.path.join(data_dir, "guides"), exist_ok=True)
    posts = make_posts(rng, now, months)
    manifest = make_manifest(posts)
    with open(os.path.join(data_dir, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=1)
    with open(os.path.join(data_dir, "guides", f"{GUIDE}.pdf"), "wb") as f:
        f.write(b"%PDF-1.4 the small business website checklist\n")

    traffic = Traffic(rng, now, months, posts)
    n_days = len(traffic.days)
    visits_by_day: list[list[Visit]] = [[] for _ in range(n_days)]
    decisions, facts = plan_contacts(traffic, contacts, visits_by_day, confirmed_only)
    planned = time.perf_counter()

    ev = EventWriter(os.path.join(journal, "events"), rng, writers)
    people_lines, state, fetched = replay(
        decisions, traffic, os.path.join(journal, "people"), ev
    )
    fetched_by_day: dict[int, list] = {}
    for ts, line in fetched:
        i = traffic.index.get(date.fromisoformat(ts[:10]))
        if i is not None:
            fetched_by_day.setdefault(i, []).append((ts, line))
    people_done = time.perf_counter()

    # The contacts' own visits are fixed; anonymous traffic fills up to `events`.
    planned_lines = 0
    for i, day_visits in enumerate(visits_by_day):
        planned_lines += len(fetched_by_day.get(i, ()))
        for v in day_visits:
            v.named = rng.random() < 0.04
            planned_lines += len(v.pages) + bool(v.click) + v.named
    anonymous = max(events - planned_lines, 0)
    total_weight = traffic.day_cum[-1]
    for i, day in enumerate(traffic.days):
        lines: list[tuple[str, str]] = fetched_by_day.get(i, [])
        for v in visits_by_day[i]:
            ev.visit_lines(v, traffic, lines)
        budget = len(lines) + round(anonymous * traffic.weights[i] / total_weight)
        end = traffic.day_end(i)
        bots = int(budget * 0.02)
        for _ in range(bots):
            path = traffic.post(i) if rng.random() < 0.7 else rng.choice(list(PAGES))
            lines.append(ev.bot_line(day, rng.random() * end, path))
        while len(lines) < budget:
            v = new_visit(traffic, i)
            v.named = rng.random() < 0.04
            ev.visit_lines(v, traffic, lines)
        ev.write_day(day, lines)
        visits_by_day[i] = []
    ev.close()
    seconds = time.perf_counter() - started

    confirmed = [c for c in state.values() if c["status"] == "confirmed"]
    customers = [c for c in state.values() if c.get("customer_at")]
    rich = max(
        customers or confirmed or list(state.values()) or [None],
        key=lambda c: (len(c["visitors"]), len(c["orders"])) if c else 0,
    )
    names = {}
    for c in state.values():
        last = c["email"].split("@")[0].split(".")[-1].rstrip("0123456789")
        names[last] = names.get(last, 0) + 1
    info = {
        "seeded_at": now.isoformat(),
        "seconds": round(seconds, 2),
        "seconds_people": round(people_done - planned, 2),
        "seconds_events": round(seconds - (people_done - started), 2),
        "events": sum(ev.counts.values()),
        "by_type": dict(ev.counts),
        "people_lines": people_lines,
        "contacts": len(state),
        "statuses": facts["statuses"],
        "customers": len(customers),
        "ads_consent": sum(1 for c in state.values() if c["consent"].get("ads")),
        "downloads": sum(1 for c in state.values() if c.get("lead_page") == GUIDE_PAGE),
        "days": n_days,
        "first_day": traffic.days[0].isoformat(),
        "posts": len(posts),
        "rich_contact": rich["id"] if rich else None,
        "a_customer": customers[0]["id"] if customers else None,
        "a_confirmed": confirmed[0]["id"] if confirmed else None,
        "common_last_name": max(names, key=names.get) if names else "",
        "bytes_events": _size(os.path.join(journal, "events")),
        "bytes_people": _size(os.path.join(journal, "people")),
        "writers": writers,
    }
    with open(os.path.join(data_dir, INFO), "w", encoding="utf-8") as f:
        json.dump(info, f, indent=1)
    if not quiet:
        print(
            f"seeded {data_dir}: {info['events']:,} events "
            f"({info['by_type']['pageview']:,} pageviews) over {n_days} days, "
            f"{info['contacts']:,} contacts in {people_lines:,} people-journal lines "
            f"({info['bytes_events'] / 1e6:.0f} MB + "
            f"{info['bytes_people'] / 1e6:.0f} MB)"
            f" in {seconds:.1f} s"
        )
    return info


def _size(root: str) -> int:
    total = 0
    for folder, _, names in os.walk(root):
        total += sum(os.path.getsize(os.path.join(folder, n)) for n in names)
    return total


def read_info(data_dir: str) -> dict:
    with open(os.path.join(data_dir, INFO), encoding="utf-8") as f:
        return json.load(f)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        epilog="Writes DATA_DIR (it must not hold a journal yet); --force clears it.",
    )
    parser.add_argument("data_dir")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    parser.add_argument(
        "--confirmed-only", action="store_true", help="every contact confirmed"
    )
    parser.add_argument(
        "--writers",
        type=int,
        default=1,
        help="spread the events over this many writer files per month",
    )
    parser.add_argument("--force", action="store_true", help="empty DATA_DIR first")
    args = parser.parse_args()
    if args.force and os.path.isdir(args.data_dir):
        shutil.rmtree(args.data_dir)
    info = seed(
        args.data_dir,
        args.events,
        args.contacts,
        args.months,
        rng_seed=args.seed,
        confirmed_only=args.confirmed_only,
        writers=args.writers,
    )
    print(
        json.dumps(
            {
                k: info[k]
                for k in (
                    "statuses",
                    "by_type",
                    "customers",
                    "ads_consent",
                    "downloads",
                )
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
