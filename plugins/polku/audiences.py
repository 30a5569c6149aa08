"""The audience files: one CSV per list and format, and the manifest of lists.

Who is in which list is decided in the pure core (`tracker.journey.audiences`,
`.profiles`, `.members`) and how each identifier is normalised and hashed in
`tracker.journey.identifiers`; this module writes what the owner uploads.

The formats follow each platform's own documentation (checked 2026):

Meta, Custom Audiences customer list
  * Meta Business Help Centre, "How to format a customer list when creating a
    custom audience", https://www.facebook.com/business/help/2082575038703844
    (lowercase headers email, phone, fn, ln, ct, st, zip, country; phone with
    country code; avoid lists of fewer than 100 people).

Google, Customer Match customer list
  * Google Ads Help, "Format your customer data file" (answer 7659867) and
    "Formatting guidelines for uploading hashed data" (answer 7476159):
    headers exactly Email, Phone, First Name, Last Name, Country, Zip; an
    address match needs all four of First Name, Last Name, Country and Zip.
  * Google Ads Help, "About the customer matching process" (answer 7474263):
    Email, Phone, First Name and Last Name are hashed; Country and Zip are not.
  * Minimum list size: 100 active matched members for Search and Display
    (1,000 for YouTube), Google Ads Help "About Customer Match".

LinkedIn, Matched Audiences contact list
  * LinkedIn Help, "Requirements for contact targeting lists in Campaign
    Manager", https://www.linkedin.com/help/lms/answer/a1489764: keep the
    template's headers; at least 300 rows, 300 matched members to serve;
    email addresses plain or SHA-256 hashed.
  * Headers of LinkedIn's CSV template (LinkedIn_Ads_Contact_Match_Template):
    email, firstname, lastname, jobtitle, employeecompany, country, googleaid.
    LinkedIn only matches names in plain text, so we fill the email column
    alone (SHA-256 of the trimmed, lowercased address) and leave the rest
    empty: no raw name or address ever leaves for an ad platform.
"""

from __future__ import annotations

import csv
import json
import os
import pickle
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from tracker import clock
from tracker.journey.audiences import NAME, Audience
from tracker.journey.identifiers import AD_PLATFORMS, AudienceError, check_platform
from tracker.journey.identifiers import PLATFORMS as FORMATS
from tracker.journey.members import has_ads_consent
from tracker.storage.files import atomic_write

from .rows import (  # noqa: F401 - csv_row and the others, imported from here too
    PLATFORMS,
    ROWS,
    Memo,
    Platform,
    csv_row,
    google_row,
    linkedin_row,
    meta_row,
)

# One file format per platform ("csv" is the owner's CRM list): FORMATS.
AD_FORMATS = AD_PLATFORMS
MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1
# "csv" files are <name>.csv; those of earlier versions, <name>.csv.csv, still go.
_FILE = re.compile(r"^[a-z0-9][a-z0-9_-]*(\.(csv|meta|google|linkedin))?\.csv$")


_NO_CONSENT = object()  # in a cache: not in an ad format's file, for want of consent


class _Line:
    """A file for csv.writer that keeps the one line just written."""

    __slots__ = ("text",)

    def write(self, text: str) -> None:
        self.text = text


def texts(
    fmt: str,
    people: list[Mapping],
    memo: Memo | None = None,
    consenting: list[bool] | None = None,
) -> list:
    """Each person's CSV line in this format: None if unmatchable, a mark for
    no ads consent (ad formats hold only people with a live ads consent;
    ``consenting``, each person's, if already known)."""
    build = ROWS[check_platform(fmt)]
    memo = memo or Memo()
    line = _Line()
    writer = csv.writer(line, lineterminator="\n")
    if fmt in AD_FORMATS:
        if consenting is None:
            consenting = [has_ads_consent(member) for member in people]
    else:
        consenting = [True] * len(people)
    found: list = []
    for member, consents in zip(people, consenting, strict=True):
        if not consents:
            found.append(_NO_CONSENT)
            continue
        row = build(member, memo)
        if row is None:
            found.append(None)
            continue
        writer.writerow(row)
        found.append(line.text)
    return found


def render(fmt: str, lines: list) -> tuple[bytes, dict[str, int]]:
    """Return one format's CSV bytes and counts (rows, without_ads_consent, ...)
    from its people's `texts`; a person the platform cannot match (no address
    or phone it can use) or without ads consent is skipped and counted."""
    line = _Line()
    csv.writer(line, lineterminator="\n").writerow(PLATFORMS[fmt].columns)
    rows = [t for t in lines if t is not None and t is not _NO_CONSENT]
    counts = {
        "members": len(lines),
        "rows": len(rows),
        "without_ads_consent": lines.count(_NO_CONSENT),
        "unmatchable": lines.count(None),
    }
    return (line.text + "".join(rows)).encode("utf-8"), counts


def _people_once(lists: Mapping[str, list[Mapping]]) -> tuple[list, dict[str, list]]:
    """Everyone in any list once (by contact id), and each list as positions
    in that: a person in five lists is checked, normalised, hashed and quoted
    once per format, and a list's lines are gathered, not worked out again."""
    everyone: list = []
    seen: dict = {}
    positions: dict[str, list] = {}
    for name, people in lists.items():
        found = positions[name] = []
        for member in people:
            key = member.get("id")
            at = seen.get(key) if key is not None else None
            if at is None:
                at = len(everyone)
                everyone.append(member)
                if key is not None:
                    seen[key] = at
            found.append(at)
    return everyone, positions


def _gather(lines: list, positions: list) -> list:
    if len(positions) < 2:
        return [lines[at] for at in positions]
    return list(itemgetter(*positions)(lines))


def _previous_files(out_dir: str) -> list[str]:
    try:
        with open(os.path.join(out_dir, MANIFEST_NAME), encoding="utf-8") as f:
            previous = json.load(f)
        return [
            str(entry["file"])
            for entry in previous.get("files", [])
            if _FILE.match(str(entry.get("file", "")))
        ]
    except (OSError, ValueError, TypeError, AttributeError, KeyError):
        return []


# From how many people a run writes half the formats in a forked process (the
# files are independent and the work is Python's: one core each). At 1M
# contacts writing took 12 s of one core.
PARALLEL_FROM = 50_000


def _write_format(
    out_dir: str,
    fmt: str,
    everyone: list[Mapping],
    positions: Mapping[str, list],
    consenting: list[bool] | None,
    memo: Memo,
) -> dict[str, dict[str, int]]:
    """Write every list's file in one format; return each list's counts."""
    lines = texts(fmt, everyone, memo, consenting)
    found = {}
    for name, at in positions.items():
        data, counts = render(fmt, _gather(lines, at))
        atomic_write(os.path.join(out_dir, file_name(name, fmt)), data)
        found[name] = counts
    return found


def _write_formats(out_dir, formats, everyone, positions) -> dict:
    """{format: {list: counts}}, half the formats written by a forked child
    when there are enough people and the system can fork."""

    def write(chosen: list[str]) -> dict:
        memo = Memo()
        consenting = None
        if any(fmt in AD_FORMATS for fmt in chosen):  # once, for the ad formats
            consenting = [has_ads_consent(member) for member in everyone]
        return {
            fmt: _write_format(out_dir, fmt, everyone, positions, consenting, memo)
            for fmt in chosen
        }

    if len(everyone) < PARALLEL_FROM or len(formats) < 2 or not hasattr(os, "fork"):
        return write(formats)
    # The CRM's files (everyone, every column) are about half the work: the
    # ad formats go to the child, Meta's and Google's with one memo (the same
    # phone numbers).
    mine = [fmt for fmt in formats if fmt == "csv"]
    theirs = [fmt for fmt in formats if fmt not in mine]
    if not mine or not theirs:
        mine, theirs = formats[0::2], formats[1::2]
    read, written = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child's coverage is not collected
        os.close(read)
        try:
            result: tuple = ("ok", write(theirs))
        except BaseException as e:  # noqa: BLE001 - told to the parent
            result = ("error", f"{type(e).__name__}: {e}")
        with os.fdopen(written, "wb") as f:
            f.write(pickle.dumps(result))
        os._exit(0)
    os.close(written)
    try:
        found = write(mine)
    finally:
        with os.fdopen(read, "rb") as f:
            status, value = pickle.loads(f.read() or pickle.dumps(("error", "")))
        os.waitpid(child, 0)
    if status != "ok":
        raise AudienceError(f"writing the {', '.join(theirs)} files failed: {value}")
    return {fmt: {**found, **value}[fmt] for fmt in formats}


def file_name(audience: str, fmt: str) -> str:
    """``customers.csv`` for the CRM, ``customers.meta.csv`` for a platform."""
    return f"{audience}.csv" if fmt == "csv" else f"{audience}.{fmt}.csv"


def write_audiences(
    out_dir: str,
    audiences_members: Mapping[str, list[Mapping]],
    formats: Iterable[str],
    source: Mapping,
    *,
    audiences: Iterable[Audience] | Mapping[str, Audience] | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Write ``<name>.csv`` (the CRM's) and ``<name>.<platform>.csv`` per
    audience and format, plus manifest.json.

    Each file is replaced atomically. The manifest records when, from which
    ``source`` (a description the caller passes) and with which rules each
    file was made, its rows and the platform's minimum. A list below that
    minimum is still written, with a warning in the manifest; the list returned
    names each such file (file, platform, rows, minimum, note) for the caller
    to sum up in one table. Files a previous run listed and this run
    did not write are removed, so that no list outlives the data it was made
    from. Rules come from ``audiences`` or, by default, from `members`' result.
    """
    formats = list(dict.fromkeys(formats))
    if not formats:
        raise AudienceError(f"no format given; expected some of {', '.join(FORMATS)}")
    for fmt in formats:
        check_platform(fmt)
    if audiences is None:
        audiences = getattr(audiences_members, "audiences", {})
    by_name = (
        dict(audiences)
        if isinstance(audiences, Mapping)
        else {a.name: a for a in audiences}
    )
    for name in audiences_members:
        if not isinstance(name, str) or not NAME.match(name):
            raise AudienceError(f"audience name {name!r} cannot name a file")
    now = now or clock.now()
    os.makedirs(out_dir, exist_ok=True)
    previous = _previous_files(out_dir)
    small: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    lists = {name: list(people) for name, people in audiences_members.items()}
    everyone, positions = _people_once(lists)
    written = _write_formats(out_dir, formats, everyone, positions)
    for name in lists:
        audience = by_name.get(name)
        for fmt in formats:
            platform = PLATFORMS[fmt]
            counts = written[fmt][name]
            filename = file_name(name, fmt)
            entry: dict[str, Any] = {
                "file": filename,
                "audience": name,
                "format": fmt,
                **counts,
                "rules": audience.rules() if audience else None,
                "description": audience.description if audience else "",
            }
            if fmt in AD_FORMATS:
                entry["minimum"] = platform.minimum
                entry["spec"] = platform.spec
                if counts["rows"] < platform.minimum:
                    note = f" ({platform.note})" if platform.note else ""
                    warning = (
                        f"{filename}: {counts['rows']} people, below "
                        f"{platform.title}'s minimum of {platform.minimum}{note} "
                        "for a matchable list; written anyway"
                    )
                    entry["warning"] = warning
                    small.append(
                        {
                            "file": filename,
                            "platform": platform.title,
                            "rows": counts["rows"],
                            "minimum": platform.minimum,
                            "note": platform.note,
                        }
                    )
            entries.append(entry)
    manifest = {
        "version": MANIFEST_VERSION,
        "generated_at": now.astimezone(UTC).isoformat(timespec="seconds"),
        "source": dict(source),
        "formats": formats,
        "files": entries,
    }
    atomic_write(
        os.path.join(out_dir, MANIFEST_NAME),
        json.dumps(manifest, indent=1, ensure_ascii=False, default=str).encode(),
    )
    written = {entry["file"] for entry in entries}
    for filename in previous:
        if filename not in written:
            try:
                os.unlink(os.path.join(out_dir, filename))
            except FileNotFoundError:
                pass
    return small
