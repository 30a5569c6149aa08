"""The people journal as earlier versions wrote it: one file per writer and month.

`<root>/<month>/<writer>.jsonl`: each file in its writer's order, between
files only the timestamps. Converted once into the segments (people_journal),
or read as it is from a copy that cannot be written.
"""

from __future__ import annotations

import heapq
import logging
import os
import shutil
from collections.abc import Iterator
from typing import Any

import orjson

from .files import fsync_dir
from .journal import SUFFIX
from .people_journal import SEGMENT, PeopleJournal, write_segments

log = logging.getLogger(__name__)


def legacy_files(root: str) -> list[str]:
    """`<month>/<writer>.jsonl` files, as earlier versions wrote decisions."""
    try:
        entries = os.listdir(root)
    except FileNotFoundError:
        return []
    found = []
    for entry in sorted(entries):
        folder = os.path.join(root, entry)
        if SEGMENT.match(entry) or not os.path.isdir(folder):
            continue
        found += [
            f"{entry}/{n}" for n in sorted(os.listdir(folder)) if n.endswith(SUFFIX)
        ]
    return found


def read_legacy(root: str) -> Iterator[dict[str, Any]]:
    """The old per-writer files' records merged by time, for a directory
    that cannot be converted."""
    for line in merged(root, legacy_files(root)):
        yield orjson.loads(line)


def needs_upgrade(journal: PeopleJournal) -> bool:
    """True if there are old-layout files, or a conversion or compaction was
    cut short between its renames."""
    return journal.cut_short() or bool(legacy_files(journal.root))


def upgrade(journal: PeopleJournal) -> bool:
    """Bring the old per-writer files into the segments (under the people lock).

    Their records are merged by timestamp, the best order they carry, and
    follow the segments already there. The new journal is built beside the
    old one (`people.new`: the segments linked, the merged records after
    them), then put in its place by two renames (PeopleJournal.swap); a crash
    anywhere leaves a state the next call finishes or starts again. Returns
    whether anything changed: the caller then bumps the generation, so that
    every process folds the journal anew and reopens its segment.
    """
    changed = journal.recover()
    root = journal.root
    legacy = legacy_files(root)
    if not legacy:
        return changed
    journal.reopen()
    built = root + ".built"
    if os.path.exists(built):
        shutil.rmtree(built)
    os.makedirs(built)
    segments = journal.files()
    first = int(segments[-1][:6]) + 1 if segments else 1
    count = write_segments(built, first, merged(root, legacy), journal)
    fsync_dir(built)
    journal.swap(built, keep=segments)
    log.warning(
        "people journal: %d decisions from %d files of the per-writer layout "
        "merged into %s",
        count,
        len(legacy),
        root,
    )
    return True


def merged(root: str, names: list[str]) -> Iterator[bytes]:
    """The complete lines of several files, merged by their records' `ts`.

    Each file keeps its own order (one writer's, which was true); between
    files, timestamps are all there is.
    """

    def lines(name: str) -> Iterator[tuple[str, bytes]]:
        with open(os.path.join(root, name), "rb") as f:
            for line in f:
                if not line.endswith(b"\n"):
                    break  # a torn tail: never acknowledged
                try:
                    ts = str(orjson.loads(line).get("ts") or "")
                except (ValueError, AttributeError):
                    log.error("%s: skipping a damaged line", name)
                    continue
                yield ts, line

    for _, line in heapq.merge(*(lines(n) for n in names), key=lambda x: x[0]):
        yield line
