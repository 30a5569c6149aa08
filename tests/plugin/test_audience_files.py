"""How `write_audiences` goes about a big run: each person's line once per
format, the values people share normalised once, half the formats written
by a forked process. None of it may change a byte of what is written."""

from __future__ import annotations

import os

import pytest
from pelican.plugins.polku import audiences as aud
from pelican.plugins.polku import rows

from tracker.journey.identifiers import AudienceError

from .test_audiences import full, write

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def _lists():
    """People in several lists, some without ads consent, one unmatchable."""
    people = [full(f"p{n}", phone=f"040 123 45{n:02d}") for n in range(12)]
    people[3]["consent"] = {**people[3]["consent"], "ads": None}
    people[5].update(email="not an address", phone=None)
    people[7].update(first_name=["not", "a", "name"], city={"odd": True})
    return {"all": people, "some": people[::2], "few": people[1:4], "none": []}


def _files(out) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in sorted(os.listdir(out))}


def test_a_forked_half_writes_what_one_process_writes(tmp_path, monkeypatch):
    monkeypatch.setattr(aud, "PARALLEL_FROM", 10**9)
    alone, small_alone = write(tmp_path / "alone", _lists())
    monkeypatch.setattr(aud, "PARALLEL_FROM", 0)
    forked, small_forked = write(tmp_path / "forked", _lists())
    assert _files(forked) == _files(alone)
    assert small_forked == small_alone
    assert len(_files(forked)) == 4 * 4 + 1


def test_each_format_alone_is_as_in_the_run_of_all(tmp_path):
    everything, _ = write(tmp_path / "all", _lists())
    for fmt in aud.FORMATS:
        one, _ = write(tmp_path / fmt, _lists(), formats=[fmt])
        for name, data in _files(one).items():
            if name != "manifest.json":
                assert data == (everything / name).read_bytes(), name


def test_the_memo_gives_what_the_rules_give():
    memo = rows.Memo()
    for person in _lists()["all"]:
        for build in rows.ROWS.values():
            assert build(person, memo) == build(person) == build(person, memo)


def test_a_failure_in_the_forked_half_is_the_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(aud, "PARALLEL_FROM", 0)

    def broken(member, memo=None):
        raise ValueError("no hashing today")

    monkeypatch.setitem(aud.ROWS, "meta", broken)
    with pytest.raises(
        AudienceError, match="meta, google, linkedin files failed.*hashing"
    ):
        write(tmp_path, _lists())
