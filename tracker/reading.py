"""What `GET /api/next` knows of readers, kept per process so a request stays cheap.

- The catalogue of the build's manifest, made again when the manifest changes.
- Co-visitation and popularity, counted from the stored pageviews of the last
  COVISIT_DAYS at most every REFRESH_SECONDS, by one request while the others
  go on with the previous counts; the counts are kept in a meta document, so
  a worker that starts (or another server) takes them instead of counting.
- Who is who: visitor id -> contact id, from the storage's index where it has
  one (the embedded view reads contacts from disk: a pass over 100k of them
  took 2 s of CPU), else from the contacts, made again when the people change
  (asked at most every CHECK_SECONDS).
- The posts each reader read: the pages their own requests named (each asks
  for the page being read) and, for a consented or identified reader, READ_DAYS
  of their stored pageviews, looked up for every new reader of the last
  SEED_SECONDS at once and again after READ_SECONDS, to see pages another
  worker served. A cookieless reader's visit is only what this process saw:
  looking up a daily id would cost a scan of the month's journal.
Time comes from the one clock (tests move it); nothing here writes a person.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import timedelta
from typing import Any

from . import clock
from .journey import personalise, recommend
from .storage import Storage

COVISIT_DAYS = 90
REFRESH_SECONDS = 3600
CHECK_SECONDS = 1.0
READ_DAYS = 180
READ_SECONDS = 600
SEED_SECONDS = 1.0  # at most one look at stored pageviews per second
MAX_READERS = 50_000  # readers whose reads one process keeps
MAX_ANSWERS = 4096  # answers kept for readers who read the same posts
META_KEY = "next-covisits"


def _age(since) -> float:
    return (clock.now() - since).total_seconds() if since else float("inf")


class Reading:
    """The per-process caches of one app; every method is safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counting = threading.Lock()
        self._catalogue: tuple[Any, recommend.Catalogue] | None = None
        self._co: tuple[str, Any, dict, dict] | None = None  # version, at, co, pop
        self._people: tuple[Any, Any, dict[str, str]] | None = None  # ver, at, map
        self._reads: OrderedDict[str, tuple[Any, set[str]]] = OrderedDict()
        self._answers: OrderedDict[tuple, bytes] = OrderedDict()
        self._answers_of: Any = None
        self._pending: dict[str, tuple[frozenset[str], str]] = {}
        self._seeding = threading.Lock()
        self._seeded = None

    # -- the build's posts ---------------------------------------------------------

    def catalogue(self, manifest: dict) -> recommend.Catalogue:
        cached = self._catalogue
        if cached is None or cached[0] is not manifest:
            cached = (manifest, recommend.Catalogue(manifest))
            self._catalogue = cached
        return cached[1]

    def answer(self, catalogue, key: tuple, make) -> bytes:
        """The answer for key, made once while the catalogue and the counts
        stay: readers on the same page who read the same posts share it."""
        if self._answers_of is not catalogue:
            self._answers, self._answers_of = OrderedDict(), catalogue
        found = self._answers.get(key)
        if found is None:
            found = make()
            with self._lock:
                self._answers[key] = found
                while len(self._answers) > MAX_ANSWERS:
                    self._answers.popitem(last=False)
        return found

    # -- what readers read together ---------------------------------------------------

    def co_read(
        self, storage: Storage, manifest: dict, catalogue: recommend.Catalogue
    ) -> tuple[dict, dict]:
        """(co-visits, popularity) for this build, at most REFRESH_SECONDS old."""
        version = str(manifest.get("generated_at") or "")
        cached = self._co
        fresh = cached and cached[0] == version and _age(cached[1]) < REFRESH_SECONDS
        if fresh:
            return cached[2], cached[3]
        # One request counts; the others go on with the counts they have.
        if not self._counting.acquire(blocking=cached is None):
            return cached[2], cached[3]
        try:
            stored = storage.get_meta(META_KEY) or {}
            at = clock.parse(stored["at"]) if stored.get("at") else None
            if stored.get("version") == version and _age(at) < REFRESH_SECONDS:
                co = {k: [tuple(p) for p in v] for k, v in stored["co"].items()}
                self._co = (version, at, co, stored["popular"])
                return co, stored["popular"]
            at = clock.now()
            since = (at - timedelta(days=COVISIT_DAYS)).isoformat()
            readers = recommend.reader_sets(
                storage.iter_events(since), set(catalogue.posts)
            )
            co, popular = recommend.covisits(readers), recommend.popularity(readers)
            document = {
                "version": version,
                "at": at.isoformat(),
                "co": {k: [list(p) for p in v] for k, v in co.items()},
                "popular": popular,
            }
            storage.update_meta(META_KEY, lambda _: document)
            self._co = (version, at, co, popular)
            return co, popular
        finally:
            self._counting.release()

    # -- who is who -----------------------------------------------------------------

    def contact_of(self, storage: Storage, visitor: str) -> str | None:
        """The contact whose browser this visitor id was proven to be, if any."""
        indexed = getattr(storage, "visitor_owner", None)
        if indexed is not None:  # the embedded view's index: no pass over everyone
            return indexed(visitor)
        cached = self._people
        if cached is None or _age(cached[1]) >= CHECK_SECONDS:
            version = storage.people_version()
            if cached is None or version is None or version != cached[0]:
                owners: dict[str, str] = {}
                for contact in storage.iter_contacts():
                    for seen in contact.get("visitors") or ():
                        owners.setdefault(seen, contact["id"])
                cached = (version, clock.now(), owners)
            else:
                cached = (version, clock.now(), cached[2])
            self._people = cached
        return cached[2].get(visitor)

    @staticmethod
    def known(storage: Storage, contact_id: str) -> tuple[personalise.Known, list]:
        """What the record says of a contact, and their visitor ids."""
        contact = storage.get_contact(contact_id)
        if contact is None:  # erased since the map was made
            return personalise.ANONYMOUS, []
        decisions = storage.decisions(contact_id)
        return personalise.known(contact, decisions), list(
            contact.get("visitors") or []
        )

    # -- what one reader read ----------------------------------------------------------

    def reads(
        self,
        storage: Storage,
        reader: str,
        visitors: set[str],
        since: str,
        current: str | None,
    ) -> set[str]:
        """The posts this reader read before this page (path keys).

        A reader met for the first time (or READ_SECONDS ago) waits for the
        next look at storage, which takes every such reader of the last
        SEED_SECONDS at once: one scan of the stored pageviews however many
        readers arrive, instead of one each.
        """
        with self._lock:
            cached = self._reads.get(reader)
            if cached is None or _age(cached[0]) >= READ_SECONDS:
                cached = (clock.now(), cached[1] if cached else set())
                self._reads[reader] = cached
                if visitors:
                    self._pending[reader] = (frozenset(visitors), since)
        self._seed(storage)
        with self._lock:
            read = set(cached[1])
            read.discard(current)
            if current:
                cached[1].add(current)
            self._reads[reader] = cached
            self._reads.move_to_end(reader)
            while len(self._reads) > MAX_READERS:
                self._reads.popitem(last=False)
        return read

    def _seed(self, storage: Storage) -> None:
        """Read the pending readers' stored pageviews, if SEED_SECONDS have passed
        since the last look (one request looks; the others do not wait)."""
        if not self._pending or _age(self._seeded) < SEED_SECONDS:
            return
        if not self._seeding.acquire(blocking=False):
            return
        try:
            with self._lock:
                pending, self._pending = self._pending, {}
                self._seeded = clock.now()
            owners: dict[str, dict[str, list[str]]] = {}  # since -> visitor -> readers
            for reader, (visitors, since) in pending.items():
                for visitor in visitors:
                    owners.setdefault(since, {}).setdefault(visitor, []).append(reader)
            found: dict[str, set[str]] = {}
            for since, by_visitor in owners.items():
                for event in storage.events_of_visitors(set(by_visitor), since):
                    if event.get("type") != "pageview":
                        continue
                    key = recommend.path_key(event.get("path") or "")
                    for reader in by_visitor.get(event.get("visitor"), ()):
                        found.setdefault(reader, set()).add(key)
            with self._lock:
                for reader, keys in found.items():
                    if reader in self._reads:
                        self._reads[reader][1].update(keys)
        finally:
            self._seeding.release()


def start_of_day() -> str:
    """The first moment of today (UTC): a cookieless id lives one day."""
    return clock.today() + "T00:00:00+00:00"


def read_since(identified: bool, cookieless: bool) -> str:
    """Since when a reader's pages count: today for a cookieless id, else
    READ_DAYS of the record (a whole day, so that readers share one look)."""
    if cookieless and not identified:
        return start_of_day()
    return (clock.now() - timedelta(days=READ_DAYS)).date().isoformat()
