"""`polku report`: the funnel, sources and posts from what the tracker stored."""

from __future__ import annotations

import json
from itertools import pairwise

from tracker.cli import cli
from tracker.journey import report

from ..web.test_collect import GOOD, send


def run(runner, app, *args):
    env = {
        "POLKU_DATA_DIR": app.config["DATA_DIR"],
        "POLKU_SECRET_KEY": "test-secret-key",
    }
    result = runner.invoke(cli, ["report", *args], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_report_json_counts_the_journey(runner, app, reader):
    send(reader.client, GOOD)  # a campaign visit, then a signup from it
    send(
        reader.client,
        {**GOOD, "url": "https://kettu.example/posts/two/"},
        Referer="https://kettu.example/posts/one/",
    )
    send(
        reader.client,
        {**GOOD, "url": "https://kettu.example/elsewhere/"},
        **{"User-Agent": "Googlebot/2.1"},
    )
    reader.confirm()
    reader.post(
        "/api/conversion",
        json_body={"email": "reader@example.com", "value": 290},
        Authorization="Bearer test-api-key",
    )
    data = json.loads(run(runner, app, "--json"))
    assert data["pageviews"] == 2 and data["bots"] == 1
    assert data["visitors"] == 1 and data["engaged"] == 1
    assert data["leads"] == 1 and data["customers"] == 1 and data["advocates"] == 0
    facebook = next(s for s in data["sources"] if s["source"] == "facebook")
    assert facebook["leads"] == 1 and facebook["customers"] == 1
    assert [c["count"] for c in data["funnel"]] == [1, 1, 1, 1, 0]
    paths = {p["path"] for p in data["posts"]}
    assert {"/posts/one/", "/posts/two/"} <= paths
    signups = {p["path"]: p["signups"] for p in data["posts"]}
    assert signups["/posts/one/"] == 1


def test_report_since_excludes_older_days(runner, app, reader):
    send(reader.client, GOOD)
    data = json.loads(run(runner, app, "--json", "--since", "2999-01-01"))
    assert data["pageviews"] == 0 and data["visitors"] == 0


def test_report_text(runner, app, reader):
    send(reader.client, GOOD)
    out = run(runner, app)
    assert "Journey funnel" in out and "facebook" in out and "One" in out


def test_pages_outside_the_manifest_are_counted():
    summary = {
        "pages": [
            {"path": "/old/", "title": None, "views": 3, "visitors": 2, "entries": 1}
        ]
    }
    rows = report.posts(summary["pages"], {"posts": []}, {})
    assert (
        rows[0]["path"] == "/old/"
        and rows[0]["views"] == 3
        and rows[0]["kind"] == "page"
    )


def emailed_report(runner, app, inbox, port):
    """Run `polku report --email` against the test SMTP server; return the email."""
    env = {
        "POLKU_DATA_DIR": app.config["DATA_DIR"],
        "POLKU_SECRET_KEY": "test-secret-key",
        "POLKU_SMTP_HOST": "127.0.0.1",
        "POLKU_SMTP_PORT": str(port),
    }
    result = runner.invoke(cli, ["report", "--email", "owner@example.com"], env=env)
    assert result.exit_code == 0, result.output
    (msg,) = inbox.to("owner@example.com")
    return msg


def test_report_by_email_is_a_real_multipart_email(runner, app, reader, smtp):
    inbox, port = smtp
    send(reader.client, GOOD)
    reader.confirm()
    msg = emailed_report(runner, app, inbox, port)
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "Journey funnel" in text and "facebook" in text
    assert 'style="' in html and "facebook" in html
    assert "https://kettu.example/admin/" in text


def test_the_reports_dashboard_link_is_on_the_trackers_origin(runner, app, smtp):
    """In production the tracker answers on its own origin; the dashboard is there."""
    import json
    from pathlib import Path

    inbox, port = smtp
    manifest_path = Path(app.config["DATA_DIR"]) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["site"]["tracker"] = "https://track.kettu.example"
    manifest_path.write_text(json.dumps(manifest))
    msg = emailed_report(runner, app, inbox, port)
    text = msg.get_body(("plain",)).get_content()
    assert "https://track.kettu.example/admin/" in text


def test_report_email_needs_a_valid_address(runner, app):
    env = {"POLKU_DATA_DIR": app.config["DATA_DIR"]}
    result = runner.invoke(cli, ["report", "--email", "nope"], env=env)
    assert result.exit_code == 1 and "--email" in result.output


def test_status_pages_are_neither_posts_nor_landing_pages(runner, app, reader):
    send(reader.client, {**GOOD, "url": "https://kettu.example/thanks-signup/"})
    send(
        reader.client,
        {**GOOD, "url": "https://kettu.example/posts/one/"},
        Referer="https://kettu.example/thanks-signup/",
    )
    send(reader.client, {**GOOD, "url": "https://kettu.example/oops/?x=1"})
    data = json.loads(run(runner, app, "--json"))
    assert {p["path"] for p in data["posts"]} == {"/posts/one/"}
    assert "/thanks-signup/" not in {row["path"] for row in data["landings"]}
    assert "/oops/" not in {row["path"] for row in data["landings"]}
    assert data["pageviews"] == 3  # still counted as pageviews


EMPTY_SUMMARY = {
    "pageviews": 0,
    "bots": 0,
    "visitors": 0,
    "engaged_visitors": 0,
    "sources": [],
    "campaigns": [],
    "landings": [],
    "pages": [],
    "devices": [],
    "events": {},
    "days": [],
}


def test_funnel_counts_people_moving_through_stages():
    # Today: a customer who converted in the period without a visit in it, a
    # lead of last month, would make 1 customer out of 0 leads and 0 visitors.
    contacts = [
        {
            "id": "c1",
            "email": "a@example.com",
            "lead_at": "2026-02-10T10:00:00+00:00",
            "customer_at": "2026-03-05T10:00:00+00:00",
        },
        {
            "id": "c2",
            "email": "b@example.com",
            "lead_at": "2026-01-10T10:00:00+00:00",
            "customer_at": "2026-01-12T10:00:00+00:00",
            "advocate_at": "2026-03-06T10:00:00+00:00",
        },
        {"id": "c3", "email": "c@example.com", "lead_at": "2026-03-07T10:00:00+00:00"},
    ]
    summary = {**EMPTY_SUMMARY, "visitors": 2, "engaged_visitors": 1}
    data = report.build(summary, contacts, {}, "2026-03-01", "2026-03-31")
    counts = [step["count"] for step in data["funnel"]]
    assert counts == [3, 3, 3, 2, 1]
    assert all(a >= b for a, b in pairwise(counts))
    assert [s["stage"] for s in data["funnel"]] == [
        "visitor",
        "engaged",
        "lead",
        "customer",
        "advocate",
    ]
    # The period's new leads and customers are still told apart.
    assert (data["leads"], data["customers"], data["advocates"]) == (1, 1, 1)


def test_report_text_says_what_the_funnel_counts(runner, app, reader):
    send(reader.client, GOOD)
    out = run(runner, app)
    assert "reached each stage or beyond" in out
