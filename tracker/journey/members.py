"""Who is in each audience list: the rules of `tracker.journey.audiences` applied.

Permission comes first: see `is_listable`. Pure: contacts, timelines and
profiles in, rows out; the plugin turns the rows into files.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from . import stages
from .audiences import ANY, STATUSES, Audience, check_exclusions
from .profiles import DAY, OBSERVED, Profile
from .suppression import is_suppressed

CUSTOMER_EVENTS = frozenset({"purchase", "booking"})
# What a list's row keeps of the contact (the files are written from these,
# with stage, score and interests): a row is not a copy of the whole record,
# which at a million contacts was most of the gigabytes held.
ROW = (
    "id",
    "email",
    "first_name",
    "last_name",
    "phone",
    "city",
    "state",
    "zip",
    "country",
    "consent",
)
# What the rules read of a contact, and of each decision besides ts and type:
# a storage streaming everyone need read no more (`Storage.stream_people`).
READS = (
    *ROW,
    "erased",
    "suppressed",
    "status",
    "feedback",
    "lead_at",
    "customer_at",
    "advocate_at",
    "created",
)
DECISION_READS = ("guide", "score")


def has_ads_consent(contact: Mapping) -> bool:
    """True when the contact gave the separate ads consent and kept it."""
    ads = (contact.get("consent") or {}).get("ads")
    return isinstance(ads, Mapping) and not ads.get("withdrawn_at")


def is_listable(contact: Mapping) -> bool:
    """True unless the person may never be in any list.

    Refused: erased records (no id or address left), unsubscribed people,
    anyone who withdrew the newsletter consent, and signups never confirmed
    ("pending"), and suppressed addresses (a hard bounce, a complaint, repeated
    soft bounces: see `tracker.journey.suppression`). Status "none"
    (identified, not subscribed) passes here; each audience's ``status`` rule
    then decides.
    """
    if not contact.get("id") or not contact.get("email") or contact.get("erased"):
        return False
    if is_suppressed(contact):
        return False
    if contact.get("status") not in STATUSES:
        return False
    newsletter = (contact.get("consent") or {}).get("newsletter")
    return not (isinstance(newsletter, Mapping) and newsletter.get("withdrawn_at"))


_OBSERVATION_TYPES = OBSERVED | {"bot"}


def _decided_points(
    timeline: list[Mapping],
    now: datetime,
    weights: stages.LeadScoreWeights,
    parse: Callable[[str], datetime] = stages.parse_ts,
) -> float:
    """Return the lead score's timeline part, computed as `stages.lead_score` does.

    Observation types in a timeline are skipped: the Profile already counted
    them, and counting them twice would double a reader's score.
    """
    total = 0.0
    for ev in timeline:
        kind = ev.get("type")
        if kind in _OBSERVATION_TYPES:
            continue
        points = weights.points(kind)
        if points:
            age = max((now - parse(ev["ts"])).total_seconds() / DAY, 0.0)
            total += points * 0.5 ** (age / weights.half_life_days)
    return total


class _Facts:
    """One contact's derived facts, each computed at most once."""

    __slots__ = (
        "contact",
        "profile",
        "timeline",
        "now",
        "weights",
        "now_ts",
        "_stage",
        "_score",
        "_last_seen",
        "_customer",
        "_guides",
        "_parsed",
    )

    def __init__(self, contact, profile, timeline, now, weights, now_ts) -> None:
        self.contact = contact
        self.profile = profile
        self.timeline = timeline
        self.now = now
        self.now_ts = now_ts
        self.weights = weights
        self._stage = self._score = self._last_seen = None
        self._customer = self._guides = None
        self._parsed: dict[str, datetime] = {}

    def _parse(self, value: str) -> datetime:
        """A time of this contact's, parsed once for the score and last_seen both."""
        found = self._parsed.get(value)
        if found is None:
            found = self._parsed[value] = stages.parse_ts(value)
        return found

    @property
    def stage(self) -> str:
        if self._stage is None:
            self._stage = stages.contact_stage(self.contact, self.timeline)
        return self._stage

    @property
    def score(self) -> int:
        if self._score is None:
            observed = self.profile.observed_score(self.now) if self.profile else 0
            total = observed + _decided_points(
                self.timeline, self.now, self.weights, self._parse
            )
            self._score = max(round(total), 0)
        return self._score

    @property
    def customer(self) -> bool:
        if self._customer is None:
            self._customer = bool(self.contact.get("customer_at")) or any(
                ev.get("type") in CUSTOMER_EVENTS for ev in self.timeline
            )
        return self._customer

    @property
    def guides(self) -> set[str]:
        if self._guides is None:
            self._guides = {
                ev.get("guide")
                for ev in self.timeline
                if ev.get("type") == "download" and ev.get("guide")
            }
        return self._guides

    @property
    def last_seen(self) -> float:
        """Return the latest sign of life: a visit, a decision, or the signup."""
        if self._last_seen is None:
            latest = self.profile.last_seen_ts if self.profile else None
            created = self.contact.get("created")
            for value in (created, *(ev.get("ts") for ev in self.timeline)):
                if value:
                    seen = self._parse(value).timestamp()
                    if latest is None or seen > latest:
                        latest = seen
            self._last_seen = 0.0 if latest is None else latest
        return self._last_seen

    def interests(self) -> list[str]:
        if not self.profile:
            return []
        counts = self.profile.categories
        return sorted(counts, key=lambda slug: (-counts[slug], slug))


def _read_enough(counts: Counter | None, wanted: tuple[str, ...], minimum: int) -> bool:
    """True when one wanted category (tag), or any for "*", has enough posts."""
    if not counts:
        return False
    if wanted == (ANY,):
        return max(counts.values()) >= minimum
    for slug in wanted:
        if counts.get(slug, 0) >= minimum:
            return True
    return False


def _checks(audience: Audience) -> tuple[Callable[[_Facts], bool], ...]:
    """Return the audience's rules but its status, each a test of one contact's
    facts, in the order they are cheapest to fail; all must hold.

    Made once per audience, not worked out again for each of a million people.
    """
    checks: list[Callable[[_Facts], bool]] = []
    if audience.stages:
        wanted_stages = frozenset(audience.stages)
        checks.append(lambda f: f.stage in wanted_stages)
    if audience.only_customers:
        checks.append(lambda f: f.customer)
    if audience.exclude_customers:
        checks.append(lambda f: not f.customer)
    if audience.guides == (ANY,):
        checks.append(lambda f: bool(f.guides))
    elif audience.guides:
        wanted_guides = frozenset(audience.guides)
        checks.append(lambda f: not wanted_guides.isdisjoint(f.guides))
    minimum = audience.min_posts or 1
    for wanted, counts_of in (
        (audience.categories, lambda p: p.categories),
        (audience.tags, lambda p: p.tags),
    ):
        if len(wanted) == 1 and wanted != (ANY,):
            checks.append(
                lambda f, slug=wanted[0], counts_of=counts_of: (
                    f.profile is not None
                    and counts_of(f.profile).get(slug, 0) >= minimum
                )
            )
        elif wanted:
            checks.append(
                lambda f, wanted=wanted, counts_of=counts_of: (
                    f.profile is not None
                    and _read_enough(counts_of(f.profile), wanted, minimum)
                )
            )
    if audience.min_posts and not (audience.categories or audience.tags):
        checks.append(
            lambda f: f.profile is not None and len(f.profile.posts) >= minimum
        )
    if audience.min_score is not None:
        min_score = audience.min_score
        checks.append(lambda f: f.score >= min_score)
    if audience.seen_within_days is not None:
        within = audience.seen_within_days * DAY
        checks.append(lambda f: not f.now_ts - f.last_seen > within)
    if audience.not_seen_days is not None:
        unseen = audience.not_seen_days * DAY
        checks.append(lambda f: not f.now_ts - f.last_seen < unseen)
    return tuple(checks)


def _include(audiences, people, profiles, now, weights, included) -> dict[str, dict]:
    """Add each listable person to the audiences they meet (before exclusions);
    return their rows by contact id (the loop of `members_of`)."""
    # Each status's audiences, in their order: a person meets only those.
    rules: dict[str, list] = {status: [] for status in STATUSES}
    for audience in audiences:
        checks, found = _checks(audience), included[audience.name]
        for status in dict.fromkeys(audience.status):
            rules.setdefault(status, []).append((checks, found))
    rows: dict[str, dict] = {}
    now_ts = now.timestamp()
    for contact, timeline in people:
        if not is_listable(contact) or contact["id"] in rows:
            continue
        cid = contact["id"]
        facts = _Facts(contact, profiles.get(cid), timeline or [], now, weights, now_ts)
        hit = False
        for checks, found in rules.get(contact.get("status"), ()):
            for check in checks:
                if not check(facts):
                    break
            else:
                found.append(cid)
                hit = True
        if hit:
            row = {field: contact.get(field) for field in ROW}
            row["stage"] = facts.stage
            row["score"] = facts.score
            row["interests"] = facts.interests()
            rows[cid] = row
    return rows


class AudienceMembers(dict):
    """``{audience name: [row]}``, remembering the audiences for the manifest."""

    def __init__(self, rows: dict, audiences: dict[str, Audience]) -> None:
        super().__init__(rows)
        self.audiences = audiences


def members(
    audiences: list[Audience],
    contacts: list[Mapping],
    profiles: Mapping[str, Profile],
    timelines: Mapping[str, list[Mapping]],
    now: datetime | str,
    weights: stages.LeadScoreWeights | None = None,
) -> AudienceMembers:
    """Return each audience's members, in the order of ``contacts``.

    A member is the contact's `ROW` fields with ``stage``, ``score`` and
    ``interests`` (category slugs by posts read) added; the same row is
    shared by every list the person is in. Never included: see `is_listable`.
    Status "none" (identified but not subscribed: guide downloaders, quote
    requests, imported customers) is included only where the audience's
    ``status`` rule allows it, as the default downloader, customer, lead and
    interest lists do. Exclusions are applied after every audience's
    inclusions are known, so ``exclude`` removes the other list's final members.

    The score is `stages.lead_score` over the contact's timeline plus the
    Profile's decayed pageviews and email clicks (see `Profile.observed_score`).
    """
    people = ((c, timelines.get(c.get("id")) or []) for c in contacts)
    return members_of(audiences, people, profiles, now, weights)


def members_of(
    audiences: list[Audience],
    people: Iterable[tuple[Mapping, list[Mapping]]],
    profiles: Mapping[str, Profile],
    now: datetime | str,
    weights: stages.LeadScoreWeights | None = None,
) -> AudienceMembers:
    """`members` over (contact, timeline) pairs, taken one at a time: only the
    members' rows are kept, so everyone need not be held at once."""
    now = stages.parse_ts(now)
    weights = weights or stages.LeadScoreWeights()
    by_name = {a.name: a for a in audiences}
    check_exclusions(list(audiences))
    included: dict[str, list[str]] = {a.name: [] for a in audiences}
    # The rows of a million people are many small containers and no cycle:
    # CPython would rescan them all on each full collection (as in `profiles`).
    collecting = gc.isenabled()
    gc.disable()
    try:
        rows = _include(audiences, people, profiles, now, weights, included)
    finally:
        if collecting:
            gc.enable()
    final: dict[str, list[str]] = {}

    def resolve(name: str) -> list[str]:
        if name not in final:
            excluded: set[str] = set()
            for other in by_name[name].exclude:
                excluded.update(resolve(other))
            final[name] = [cid for cid in included[name] if cid not in excluded]
        return final[name]

    result = {a.name: [rows[cid] for cid in resolve(a.name)] for a in audiences}
    return AudienceMembers(result, by_name)
