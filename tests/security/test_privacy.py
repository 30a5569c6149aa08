"""Privacy, checked on the bytes: after a reader's whole journey no IP address
is stored in any form; the built site holds no one's personal data; and
`polku contacts erase` leaves no trace of the person in the data directory.

The journey runs through the real app (beacon, pixel, signup, confirmation,
guide download, email click, purchase, recommend-us answer), behind one proxy
so that the reader's address comes in X-Forwarded-For, as in production.
"""

from __future__ import annotations

import hashlib
import ipaddress
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from tracker import clock
from tracker.cli import cli
from tracker.journey.identifiers import identifier_hashes

from ..conftest import SITE, TEST_MANIFEST, build_site, copy_site
from .conftest import (
    API_KEY,
    DEV_ORIGIN,
    PASSWORD,
    Visitor,
    contact_of,
    embedded_tracker,
    log_in,
    make_token,
    write_manifest,
)

PROXY = "10.0.0.1"


def recent_manifest() -> dict:
    """The test manifest with a post from two days ago (so the digest has news)."""
    recent = (clock.now() - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S")
    return {**TEST_MANIFEST, "posts": [{**TEST_MANIFEST["posts"][0], "date": recent}]}


def reader_from(app, ip: str, origin: str = SITE) -> Visitor:
    """A reader at ip, reaching the tracker through the proxy at PROXY."""
    reader = Visitor(app, origin)
    reader.client.environ_base["REMOTE_ADDR"] = PROXY
    reader.headers["X-Forwarded-For"] = ip
    return reader


def whole_journey(reader: Visitor, email: str, first_name: str) -> dict:
    """Everything a reader can do, each step checked; returns the contact."""
    app, site = reader.app, reader.headers["Origin"]
    page = site + "/posts/one/?utm_source=facebook&utm_campaign=spring"
    beacon = {"url": page, "title": "One", "referrer": "https://news.example/"}
    assert reader.post("/api/event", json_body=beacon).status_code == 202
    pixel = reader.client.get("/api/pixel.gif?u=/posts/two/", headers=reader.headers)
    assert pixel.status_code == 200
    signup = reader.subscribe(email, first_name=first_name, consent_ads="yes")
    assert signup.status_code == 303
    confirm = reader.link("confirm", to=email)
    assert reader.post(confirm, data={"consent_ads": "yes"}).status_code == 303
    assert reader.download(email, first_name=first_name).status_code == 303
    guide = reader.client.get(reader.link("download", to=email), headers=reader.headers)
    guide.close()
    assert guide.status_code == 200
    contact = contact_of(app, email)
    click = make_token(app, "click", {"c": contact["id"], "u": site + "/posts/one/"})
    landed = reader.client.get(f"/click/{click}", headers=reader.headers)
    assert landed.status_code == 302
    order = {"email": email, "value": 290, "order_id": "order-" + contact["id"]}
    bought = reader.post(
        "/api/conversion", json_body=order, Authorization=f"Bearer {API_KEY}"
    )
    assert bought.status_code == 201
    feedback = make_token(app, "feedback", {"c": contact["id"], "k": "d1"})
    comment = f"Saved me a week of work. {first_name}"
    answer = reader.post(
        f"/feedback/{feedback}", data={"score": "10", "comment": comment}
    )
    assert answer.status_code == 303
    return contact_of(app, email)


def polku(runner, app, *args: str, **settings: str):
    """Run a `polku` command in this process, on the app's data directory."""
    env = {"POLKU_DATA_DIR": app.config["DATA_DIR"], "POLKU_SECRET_KEY": "x" * 40}
    env |= {f"POLKU_{name}": str(value) for name, value in settings.items()}
    result = runner.invoke(cli, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def every_byte(folder: Path) -> bytes:
    return b"\n".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def ip_forms(address: str) -> tuple[list[bytes], list[bytes]]:
    """(text forms, searched case-insensitively; raw packed bytes) of an IP."""
    ip = ipaddress.ip_address(address)
    text = {str(ip), ip.exploded, format(int(ip), "x"), str(int(ip))}
    if ip.version == 4:
        text |= {".".join(reversed(str(ip).split("."))), f"::ffff:{ip}"}
    else:
        text |= {ip.exploded.replace(":", ""), str(ip).replace(":", "%3a")}
    return [t.lower().encode() for t in text], [ip.packed]


@pytest.fixture
def site_folder(tmp_path, monkeypatch) -> Path:
    """The demo's sources to run `polku` in (its settings and theme)."""
    folder = copy_site(tmp_path / "site")
    monkeypatch.chdir(folder)
    return folder


@pytest.mark.parametrize("ip", ["203.0.113.77", "2001:db8::77"])
def test_no_ip_address_is_stored_in_any_form(tmp_path, site_folder, runner, ip):
    app = embedded_tracker(tmp_path / "var", PROXY_HOPS=1)
    write_manifest(tmp_path / "var", recent_manifest())
    reader = reader_from(app, ip)
    whole_journey(reader, "ip.reader@example.com", "Ilmatar")
    token = make_token(
        app, "unsubscribe", {"c": contact_of(app, "ip.reader@example.com")["id"]}
    )
    assert reader.post(f"/unsubscribe/{token}").status_code == 303
    owner, _ = log_in(app, PASSWORD)
    assert owner.get("/admin/").status_code == 200  # folds the aggregates to disk
    polku(runner, app, "audiences")
    polku(runner, app, "report", "--json")
    stored = every_byte(tmp_path / "var")
    assert b"ip.reader@example.com" in stored  # the journey was stored
    text, packed = ip_forms(ip)
    for form in text + ip_forms(PROXY)[0]:
        assert form not in stored.lower(), form
    for form in packed:
        assert form not in stored, form


CONTACTS = [
    ("zorbadine.output@example.com", "Zorbadine"),
    ("quillmaren.output@gmail.com", "Quillmaren"),
]


def test_the_built_site_holds_no_personal_data(demo, tmp_path, monkeypatch):
    """A build over a data directory full of people (the plugin writes their
    audience lists) puts none of them into output/."""
    site = tmp_path / "demo"
    shutil.copytree(demo, site, ignore=shutil.ignore_patterns("*.log"))
    app = embedded_tracker(site / "var")
    shutil.copy(demo / "var" / "manifest.json", site / "var" / "manifest.json")
    people = [
        whole_journey(reader_from(app, "203.0.113.78", DEV_ORIGIN), email, name)
        for email, name in CONTACTS
    ]
    build_site(site, env={"POLKU_DATA_DIR": str(site / "var")})
    lists = every_byte(site / "var" / "audiences")
    assert all(email.encode() in lists for email, _ in CONTACTS)  # refreshed
    output = every_byte(site / "output").lower()
    assert b"kettu" in output  # the site was built
    for contact in people:
        for trace in traces(contact):
            assert trace.lower() not in output, trace


def traces(contact: dict) -> list[bytes]:
    """Every string that points to this person: who they are and their hashes."""
    email = contact["email"]
    found = {
        email,
        contact["first_name"],  # in their recommend-us comment too
        contact["id"],
        hashlib.sha256(email.encode()).hexdigest(),
        *identifier_hashes(contact),
    }
    return [t.encode() for t in sorted(found)]


def files_holding(folder: Path, needle: bytes) -> list[str]:
    return sorted(
        str(path.relative_to(folder))
        for path in folder.rglob("*")
        if path.is_file() and needle in path.read_bytes()
    )


@pytest.fixture
def erased(tmp_path, site_folder, runner, smtp) -> tuple[Path, dict, dict]:
    """Two readers' whole journeys, a digest sent to both and the audience
    lists written; then `polku contacts erase` for the first one.

    Returns (data dir, the erased contact, the kept one) as they were.
    """
    data = tmp_path / "var"
    app = embedded_tracker(data, PROXY_HOPS=1)
    write_manifest(data, recent_manifest())
    gone = whole_journey(
        reader_from(app, "203.0.113.79"), "erase.me@gmail.com", "Quillmar"
    )
    kept = whole_journey(
        reader_from(app, "203.0.113.80"), "keep.me@example.com", "Aino"
    )
    mail = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp[1]}
    sent = polku(runner, app, "digest", "--send", "--rate", "0", **mail)
    assert "2 of 2 messages sent" in sent
    polku(runner, app, "audiences")
    assert all(files_holding(data, trace) for trace in traces(gone))
    polku(runner, app, "contacts", "erase", gone["email"], "--yes")
    return data, gone, kept


def test_erase_leaves_no_trace_of_the_person(erased):
    """Email, first name (also in their comment), contact id and every hash
    of the address: gone from every file, journals included (the id from
    email clicks, guide fetches and send ledgers too); the other reader's stay."""
    data, gone, kept = erased
    for trace in traces(gone):
        assert files_holding(data, trace) == [], trace
    assert all(files_holding(data, trace) for trace in traces(kept))
