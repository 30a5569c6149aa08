"""Delays on the site's calendar, the send window and the daily cap."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from tracker.journey import sendtime
from tracker.journey.sendtime import Delay, Window

HKI = sendtime.zone("Europe/Helsinki")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.mark.parametrize(
    "text, delay",
    [
        ("0", Delay()),
        ("2 hours", Delay(minutes=120)),
        ("3 days", Delay(days=3)),
        ("1 week", Delay(days=7)),
        ("1 week 2 days", Delay(days=9)),
        ("1 day and 3 hours", Delay(days=1, minutes=180)),
        ("3 päivää", Delay(days=3)),
        ("2 viikkoa", Delay(days=14)),
        ("30 minuuttia", Delay(minutes=30)),
        ("1 tunti", Delay(minutes=60)),
    ],
)
def test_delays_in_english_and_finnish(text, delay):
    assert sendtime.parse_delay(text) == delay


@pytest.mark.parametrize("text", ["", "soon", "3", "3 fortnights", "days 3", "-1 day"])
def test_an_unreadable_delay_says_what_to_write(text):
    with pytest.raises(sendtime.DelayError, match="delay"):
        sendtime.parse_delay(text)


def test_a_day_is_the_same_wall_clock_time_across_spring_forward():
    # 2026-03-29: Helsinki moves from UTC+2 to UTC+3 at 03:00 local.
    base = utc("2026-03-28T10:00:00+02:00")
    due = sendtime.after(base, Delay(days=1), HKI)
    assert due == utc("2026-03-29T10:00:00+03:00")  # 23 hours later
    assert due - base == sendtime.timedelta(hours=23)


def test_a_day_across_autumn_is_25_hours_and_an_ambiguous_time_is_sent_once():
    base = utc("2026-10-24T03:30:00+03:00")
    due = sendtime.after(base, Delay(days=1), HKI)
    # 03:30 on 2026-10-25 happens twice; the first one is the moment.
    assert due == utc("2026-10-25T03:30:00+03:00")
    later = sendtime.after(utc("2026-10-24T12:00:00+03:00"), Delay(days=1), HKI)
    assert later - utc("2026-10-24T12:00:00+03:00") == sendtime.timedelta(hours=25)


def test_a_time_in_the_spring_gap_moves_to_the_first_valid_time():
    base = utc("2026-03-28T03:30:00+02:00")
    due = sendtime.after(base, Delay(days=1), HKI)
    assert due == utc("2026-03-29T04:00:00+03:00")


def test_hours_are_elapsed_time():
    base = utc("2026-03-29T00:30:00+02:00")
    assert sendtime.after(base, Delay(minutes=180), HKI) == base + sendtime.timedelta(
        hours=3
    )


def test_the_window_holds_night_steps_until_morning():
    window = Window(time(9), time(11))
    night = utc("2026-03-28T23:00:00+02:00")
    assert sendtime.next_slot(night, HKI, window) == utc("2026-03-29T09:00:00+03:00")
    inside = utc("2026-03-29T10:00:00+03:00")
    assert sendtime.next_slot(inside, HKI, window) == inside
    late = utc("2026-03-29T11:00:00+03:00")
    assert sendtime.next_slot(late, HKI, window) == utc("2026-03-30T09:00:00+03:00")


def test_a_full_day_moves_the_step_to_the_next_window_it_is_not_dropped():
    window = Window(time(8), time(20))
    sent_today = [utc("2026-06-01T08:00:00+03:00")]
    due = utc("2026-06-01T12:00:00+03:00")
    assert sendtime.next_slot(due, HKI, window, sent_today, per_day=1) == utc(
        "2026-06-02T08:00:00+03:00"
    )
    assert sendtime.next_slot(due, HKI, window, sent_today, per_day=2) == due


@pytest.mark.parametrize("text", ["8-20", "20:00-08:00", "25:00-26:00", ""])
def test_a_bad_window_is_refused(text):
    with pytest.raises(sendtime.DelayError, match="window"):
        sendtime.parse_window(text)


def test_a_window_reads():
    assert sendtime.parse_window("08:00-20:00") == Window(time(8), time(20))
    assert sendtime.parse_window("9:30 – 17:00") == Window(time(9, 30), time(17))
