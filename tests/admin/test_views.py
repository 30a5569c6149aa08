"""The owner's dashboard: its pages and exports, and numbers that agree with the CLI."""

from __future__ import annotations

import json
import re
import uuid

from tracker import clock
from tracker.cli import cli
from tracker.db import get_storage

from ..conftest import SITE
from ..web.test_collect import GOOD, send
from .conftest import csrf, seed

XSS = "<script>alert(1)</script><img src=x onerror=alert(2)>"


def test_erase_from_the_dashboard(admin, admin_app):
    contact = seed(admin_app)
    url = f"/admin/contacts/{contact['id']}/erase"
    token = csrf(admin)
    unconfirmed = admin.post(url, data={"csrf": token})
    assert unconfirmed.status_code == 303
    with admin_app.app_context():
        assert get_storage().get_contact(contact["id"])
    assert admin.post(url, data={"csrf": token, "confirm": "yes"}).status_code == 303
    with admin_app.app_context():
        assert get_storage().get_contact(contact["id"]) is None


def test_stored_strings_are_escaped(admin, admin_app):
    contact = seed(admin_app, campaign=XSS, name=XSS)
    pages = [
        admin.get("/admin/"),
        admin.get("/admin/contacts"),
        admin.get(f"/admin/contacts/{contact['id']}"),
    ]
    for page in pages:
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert "<script>alert(1)" not in html and "onerror=alert" not in html.replace(
            "onerror=alert(2)&gt;", ""
        )


def test_contact_page_shows_the_stitched_visit_with_its_campaign(admin, admin_app):
    contact = seed(admin_app, campaign="spring")
    html = admin.get(f"/admin/contacts/{contact['id']}").get_data(as_text=True)
    assert "spring" in html and "/posts/one/" in html
    assert "290" in html


def test_funnel_matches_polku_report(admin, admin_app, runner):
    seed(admin_app)
    html = admin.get("/admin/?period=30d").get_data(as_text=True)
    env = {"POLKU_DATA_DIR": admin_app.config["DATA_DIR"], "POLKU_SECRET_KEY": "x" * 40}
    report = json.loads(runner.invoke(cli, ["report", "--json"], env=env).output)
    csv_text = admin.get("/admin/funnel.csv?period=30d").get_data(as_text=True)
    counts = [int(line.split(",")[1]) for line in csv_text.strip().splitlines()[1:]]
    assert counts == [step["count"] for step in report["funnel"]]
    assert counts[2] == 1 and counts[3] == 1
    assert html


def test_filters_narrow_the_overview(admin, admin_app):
    seed(admin_app)
    send(
        admin_app.test_client(), {**GOOD, "url": f"{SITE}/posts/two/?utm_source=google"}
    )
    everything = admin.get("/admin/sources.csv").get_data(as_text=True)
    assert "facebook" in everything and "google" in everything
    only = admin.get("/admin/sources.csv?source=google").get_data(as_text=True)
    assert "google" in only and "facebook" not in only


def test_csv_neutralises_formulas(admin, admin_app):
    seed(admin_app, campaign="=HYPERLINK(1)")
    text = admin.get("/admin/campaigns.csv").get_data(as_text=True)
    assert "'=HYPERLINK(1)" in text


def test_contacts_csv_lists_everyone_with_their_stage(admin, admin_app):
    import csv
    import io

    contact = seed(admin_app)
    with admin_app.app_context(), get_storage().transaction() as people:
        # Forms refuse such a name (people.clean_name); older data may hold one.
        people.save({**contact, "first_name": "=cmd"})
    rows = list(csv.DictReader(io.StringIO(admin.get("/admin/contacts.csv").text)))
    assert [(r["email"], r["first_name"], r["stage"]) for r in rows] == [
        ("reader@example.com", "'=cmd", "customer")
    ]


def test_contacts_search_and_filter(admin, admin_app):
    seed(admin_app)
    assert "reader@example.com" in admin.get("/admin/contacts?q=reader").get_data(
        as_text=True
    )
    assert "reader@example.com" not in admin.get("/admin/contacts?q=zzz").get_data(
        as_text=True
    )
    assert "reader@example.com" in admin.get("/admin/contacts?stage=customer").get_data(
        as_text=True
    )
    assert "reader@example.com" not in admin.get("/admin/contacts?stage=lead").get_data(
        as_text=True
    )


def test_the_contact_list_pages_last_seen_first(admin, admin_app, set_clock):
    with admin_app.app_context(), get_storage().transaction() as people:
        for n in range(505):
            set_clock(f"2026-12-01T{n // 60:02d}:{n % 60:02d}:00+00:00")
            people.save(
                {
                    "id": uuid.uuid4().hex,
                    "email": f"p{n:03d}@example.com",
                    "created": clock.now_iso(),
                    "status": "confirmed",
                    "visitors": [],
                }
            )
    first = admin.get("/admin/contacts").get_data(as_text=True)
    assert "505 contacts" in first and "Page 1 of 11" in first
    assert "p504@example.com" in first and "p455@example.com" in first
    assert "p454@example.com" not in first
    last = admin.get("/admin/contacts?page=11").get_data(as_text=True)
    assert "p004@example.com" in last and "p000@example.com" in last
    assert "p005@example.com" not in last
    fifth = admin.get("/admin/contacts?page=5").get_data(as_text=True)
    pager = fifth[fifth.index('class="pager-pages"') :].split("</ol>")[0]
    shown = re.findall(r">(\d+|…)<", pager)
    assert shown == ["1", "…", "3", "4", "5", "6", "7", "…", "11"]
    found = admin.get("/admin/contacts?q=P10").get_data(as_text=True)
    assert "10 contacts" in found and "p103@example.com" in found
    assert "p203@example.com" not in found


def test_the_contact_list_follows_each_change(admin, admin_app):
    reader = seed(admin_app)
    assert reader["email"] in admin.get("/admin/contacts?stage=customer").get_data(
        as_text=True
    )
    from ..conftest import Reader

    Reader(admin_app.test_client(), admin_app).subscribe("second@example.com")
    leads = admin.get("/admin/contacts?stage=engaged").get_data(as_text=True)
    assert "second@example.com" in leads and reader["email"] not in leads
    admin_app.test_client().post(
        "/api/conversion",
        json={"email": "second@example.com", "value": 90, "order_id": "o2"},
        headers={"Authorization": "Bearer test-api-key"},
    )
    customers = admin.get("/admin/contacts?stage=customer").get_data(as_text=True)
    assert "second@example.com" in customers and reader["email"] in customers


def test_feedback_and_referrals_panels(admin, admin_app):
    from tracker.web import tokens

    from ..conftest import Reader

    contact = seed(admin_app)
    reader = Reader(admin_app.test_client(), admin_app)
    with admin_app.test_request_context():
        token = tokens.make("feedback", {"c": contact["id"], "k": "d1"})
    reader.post(f"/feedback/{token}", data={"score": "4", "comment": "Too slow"})
    reader.subscribe("friend@example.com", ref=contact["ref_code"])
    reader.post(reader.link("confirm", to="friend@example.com"))
    html = admin.get("/admin/").get_data(as_text=True)
    assert "Too slow" in html and "-100" in html
    referrals = admin.get("/admin/referrals.csv").get_data(as_text=True)
    assert "reader@example.com" in referrals and ",1,1," in referrals


def test_a_conversion_without_a_value_opens(admin, admin_app):
    contact = seed(admin_app)
    from ..conftest import Reader

    Reader(admin_app.test_client(), admin_app).post(
        "/api/conversion",
        json_body={"email": "reader@example.com", "order_id": "o2"},
        Authorization="Bearer test-api-key",
    )
    for url in (f"/admin/contacts/{contact['id']}", "/admin/contacts", "/admin/"):
        assert admin.get(url).status_code == 200, url
    assert admin.get("/admin/contacts.csv").status_code == 200


def test_contacts_csv_shows_ads_consent_withdrawn_after_an_unsubscribe(
    admin, admin_app
):
    import csv
    import io

    from tracker import clock
    from tracker.journey import people as journey_people

    from ..conftest import Reader

    reader = Reader(admin_app.test_client(), admin_app)
    reader.subscribe(consent_ads="yes")
    reader.post(reader.link("confirm"), data={"consent_ads": "yes"})

    def ads_column():
        rows = csv.DictReader(io.StringIO(admin.get("/admin/contacts.csv").text))
        return [r["ads_consent"] for r in rows]

    assert ads_column() == ["True"]
    with admin_app.app_context(), get_storage().transaction() as people:
        found = get_storage().find_contact("reader@example.com")
        now = clock.now().isoformat()
        people.save(journey_people.unsubscribe(found, now=now))
    assert ads_column() == ["False"]


FUNNEL_SAYS = "People seen in the period who reached each stage or beyond"
ENGAGED = "came back on another day, or read several pages in one"
ADVOCATES = "a customer who recommends us (9–10) or whose referral brought a new lead"


def test_the_funnel_says_what_it_counts_and_explains_its_stages(admin, admin_app):
    seed(admin_app)
    html = admin.get("/admin/?period=30d").get_data(as_text=True)
    funnel = html[html.index('id="funnel"') :]
    funnel = funnel[: funnel.index("</section>")]
    assert FUNNEL_SAYS in funnel
    assert ENGAGED in funnel and ADVOCATES in funnel
    kpis = html[html.index('class="kpis"') :]
    kpis = kpis[: kpis.index("</section>")]
    assert ENGAGED in kpis and ADVOCATES in kpis
