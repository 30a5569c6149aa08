"""Daily counters: folding, closing old days, and the JSON they are kept as."""

from tracker.journey.counters import Stats


def pv(day, visitor, path="/a/", **fields):
    return {
        "ts": f"{day}T10:00:00+00:00",
        "type": "pageview",
        "visitor": visitor,
        "path": path,
        **fields,
    }


def test_counts_pageviews_visitors_and_engaged():
    stats = Stats()
    for event in [
        pv("2026-11-01", "v1", "/a/", utm={"source": "fb", "campaign": "spring"}),
        pv("2026-11-01", "v1", "/b/", entry=False),
        pv("2026-11-01", "v2", "/a/", referrer="news.example"),
        {"ts": "2026-11-01T11:00:00+00:00", "type": "bot", "path": "/a/"},
        {
            "ts": "2026-11-01T11:00:00+00:00",
            "type": "event",
            "name": "cta",
            "visitor": "v1",
        },
    ]:
        stats.add(event)
    s = stats.summary()
    assert (s["pageviews"], s["bots"], s["visitors"], s["engaged_visitors"]) == (
        3,
        1,
        2,
        1,
    )
    assert {r["source"]: r["visitors"] for r in s["sources"]} == {
        "fb": 1,
        "news.example": 1,
    }
    assert s["campaigns"] == [{"campaign": "spring", "visits": 1, "visitors": 1}]
    pages = {p["path"]: (p["views"], p["visitors"], p["entries"]) for p in s["pages"]}
    assert pages == {"/a/": (2, 2, 2), "/b/": (1, 1, 0)}
    assert s["events"] == {"cta": 1}


def test_old_days_close_to_counts_and_sum_the_same():
    stats = Stats()
    for day in ("2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"):
        stats.add(pv(day, "v-" + day))
        stats.add(pv(day, "w-" + day, "/b/"))
        stats.add(pv(day, "w-" + day, "/c/"))
    stats.close_before("2026-11-03")
    assert stats.days["2026-11-02"].closed and not stats.days["2026-11-03"].closed
    s = stats.summary()
    assert s["visitors"] == 8 and s["engaged_visitors"] == 4 and s["pageviews"] == 12
    assert stats.summary("2026-11-02", "2026-11-03")["visitors"] == 4


def test_json_round_trip_keeps_every_number():
    stats = Stats()
    for day in ("2026-11-01", "2026-11-02", "2026-11-03"):
        stats.add(pv(day, "v1", utm={"source": "fb"}))
        stats.add(pv(day, "v2", "/b/", device="mobile"))
    stats.close_before("2026-11-02")
    again = Stats.from_json(stats.to_json())
    assert again.summary() == stats.summary()
    again.add(pv("2026-11-03", "v1"))  # an open day still deduplicates visitors
    assert again.summary()["visitors"] == stats.summary()["visitors"]


def test_filters_narrow_every_panel_by_the_visit():
    stats = Stats()
    stats.add(
        pv(
            "2026-11-01",
            "v1",
            "/a/",
            utm={"source": "fb", "campaign": "spring"},
            device="mobile",
        )
    )
    stats.add(
        {
            **pv("2026-11-01", "v1", "/b/", entry=False, device="mobile"),
            "ts": "2026-11-01T10:05:00+00:00",
        }
    )
    stats.add(pv("2026-11-01", "v2", "/b/", referrer="news.example", device="desktop"))
    fb = stats.summary(filters={"source": "fb"})
    assert fb["pageviews"] == 2 and fb["visitors"] == 1 and fb["engaged_visitors"] == 1
    assert {p["path"] for p in fb["pages"]} == {
        "/a/",
        "/b/",
    }  # /b/ credited to the visit
    assert stats.summary(filters={"page": "/b/"})["visitors"] == 2
    assert stats.summary(filters={"device": "desktop"})["sources"][0]["source"] == (
        "news.example"
    )
    landing = stats.summary(filters={"landing": "/a/"})
    assert landing["pageviews"] == 2
    assert stats.summary(filters={"unknown": "x"})["pageviews"] == 3


def test_a_visit_ends_after_thirty_idle_minutes():
    stats = Stats()
    stats.add(pv("2026-11-01", "v1", "/a/", utm={"source": "fb"}))
    late = pv("2026-11-01", "v1", "/b/", entry=False)
    late["ts"] = "2026-11-01T11:00:00+00:00"
    stats.add(late)
    sources = {r["source"]: r["visits"] for r in stats.summary()["sources"]}
    assert sources == {"fb": 1, "direct": 1}


def test_files_read_one_after_another_count_each_visitor_once():
    """Two server processes write two files; a fold reads one, then the other."""
    days = [f"2026-11-0{n}" for n in range(1, 6)]
    first = [pv(d, f"v-{d}", "/a/") for d in days]  # one worker's file, all days
    second = [pv(d, f"v-{d}", "/b/") for d in days]  # the other's: same visitors
    stats = Stats()
    for event in first + second:
        stats.add(event)
    stats.close_before("2026-11-05")
    summary = stats.summary()
    assert summary["visitors"] == 5 and summary["engaged_visitors"] == 5


def test_a_late_event_counts_though_the_day_was_summed_before():
    stats = Stats()
    stats.add(pv("2026-11-01", "v1", utm={"source": "fb"}))
    stats.close_before("2026-11-03")
    first = stats.summary("2026-11-01", "2026-11-01", {"source": "fb"})
    assert stats.summary("2026-11-01", "2026-11-01") == stats.summary(
        "2026-11-01", "2026-11-01"
    )
    stats.add(pv("2026-11-01", "v2", utm={"source": "fb"}))  # arrives a day late
    again = stats.summary("2026-11-01", "2026-11-01", {"source": "fb"})
    assert (first["visitors"], again["visitors"]) == (1, 2)
    assert again["sources"] == [{"source": "fb", "visits": 2, "visitors": 2}]


def test_each_visitor_of_a_day_is_counted_once_where_their_first_visit_began():
    """The journey map's first two columns: the day's first visit of each visitor."""
    stats = Stats()
    for event in [
        pv("2026-11-01", "v1", "/a/", utm={"source": "fb"}),
        {**pv("2026-11-01", "v1", "/b/"), "ts": "2026-11-01T10:01:00+00:00"},
        {**pv("2026-11-01", "v1", "/c/"), "ts": "2026-11-01T15:00:00+00:00"},
        pv("2026-11-01", "v2", "/b/", referrer="news.example"),
        pv("2026-11-02", "v1", "/c/"),  # another day: counted on it as well
    ]:
        stats.add(event)
    # kept through the JSON the aggregates are stored as, closed or open
    stats = Stats.from_json(stats.to_json())
    stats.close_before("2026-11-02")
    stats = Stats.from_json(stats.to_json())
    stats.add({**pv("2026-11-02", "v1", "/d/"), "ts": "2026-11-02T10:05:00+00:00"})
    s = stats.summary()
    firsts = {(r["source"], r["landing"]): r["visitors"] for r in s["first_visits"]}
    assert firsts == {
        ("fb", "/a/"): 1,
        ("news.example", "/b/"): 1,
        ("direct", "/c/"): 1,
    }
    assert sum(firsts.values()) == s["visitors"] == 3


def test_days_kept_before_first_visits_were_counted_say_so():
    stats = Stats()
    stats.add(pv("2026-11-01", "v1", "/a/"))
    stats.add(pv("2026-11-01", "v2", "/a/"))
    old = stats.to_json()
    del old["2026-11-01"]["firsts"]  # as an earlier version stored the day
    s = Stats.from_json(old).summary()
    assert s["first_visits"] == [{"source": None, "landing": None, "visitors": 2}]


def test_a_late_pageview_on_a_closed_day_counts_as_a_new_visitor():
    """A closed day keeps its visitor numbers compactly, loaded or closed here."""
    stats = Stats()
    stats.add(pv("2026-11-01", "v1"))
    stats.add(pv("2026-11-01", "v2", "/b/"))
    stats.close_before("2026-11-02")
    again = Stats.from_json(stats.to_json())
    for kept in (stats, again):
        kept.add(pv("2026-11-01", "v1"))  # its id forgotten: a new visitor
        kept.add(pv("2026-11-01", "v3", "/c/"))  # a new cell on a closed day
        summary = kept.summary()
        assert (summary["pageviews"], summary["visitors"]) == (4, 4)
        pages = {p["path"]: p["visitors"] for p in summary["pages"]}
        assert pages["/b/"] == 1 and pages["/c/"] == 1
        assert Stats.from_json(kept.to_json()).summary() == summary


def test_a_closed_day_read_back_answers_from_its_stored_rollup_until_it_changes():
    """A new process's overview adds up the stored rollups of closed days (no
    pass over their cubes); a late pageview makes the day count afresh."""
    stats = Stats()
    for n, path in enumerate(["/a/", "/b/", "/a/", "/c/"]):
        stats.add(pv("2026-11-01", f"v{n % 3}", path, utm={"source": f"s{n % 2}"}))
    stats.close_before("2026-11-02")
    stored = stats.to_json()
    assert "rollup" in stored["2026-11-01"]
    again = Stats.from_json(stored)
    assert again.summary() == stats.summary()
    assert again.summary(filters={"source": "s1"}) == stats.summary(
        filters={"source": "s1"}
    )
    late = {**pv("2026-11-01", "v9", "/d/"), "ts": "2026-11-01T23:00:00+00:00"}
    for kept in (stats, again):
        kept.add(late)
    assert again.summary() == stats.summary()
    assert again.summary()["pageviews"] == 5
