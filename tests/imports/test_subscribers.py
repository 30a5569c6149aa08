"""`polku contacts import FILE --subscribers`: a list from another mail tool,
with each person's consent as imported proof, on TinyDB and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tracker import contacts as people_service
from tracker.cli import cli
from tracker.db import get_storage
from tracker.mail.digest import recipients

FIXTURES = Path(__file__).parent / "fixtures"
SUBSCRIBED = FIXTURES / "subscribed_members_export_7c41d2e9b0.csv"
UNSUBSCRIBED = FIXTURES / "unsubscribed_members_export_7c41d2e9b0.csv"
CLEANED = FIXTURES / "cleaned_members_export_7c41d2e9b0.csv"
NOW = "2026-03-01T12:00:00+00:00"


def polku(runner, app, *args):
    env = {
        "POLKU_DATA_DIR": app.config["DATA_DIR"],
        "POLKU_SECRET_KEY": "test-secret-key",
    }
    return runner.invoke(cli, list(args), env=env)


def import_list(runner, app, path, *flags):
    result = polku(
        runner, app, "contacts", "import", str(path), "--subscribers", *flags
    )
    assert result.exit_code == 0, result.output
    return result.output


def exported(runner, app, email):
    result = polku(runner, app, "contacts", "export", email)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def stored(app) -> list:
    """Every contact and its timeline, as the app reads them."""
    with app.app_context():
        storage = get_storage()
        people = sorted(storage.iter_contacts(), key=lambda c: c["email"])
        return [(c, storage.timeline(c["id"])) for c in people]


def on_the_list(app) -> set[str]:
    with app.app_context():
        return {c["email"] for c in recipients(get_storage())}


def test_a_mailchimp_export_imports_with_its_consent_proof(runner, app, set_clock):
    set_clock(NOW)
    output = import_list(runner, app, SUBSCRIBED)
    assert "Mailchimp export of 2026-03-01: 5 rows." in output
    assert "imported as subscribers: 3" in output and "skipped: 2" in output
    assert "not an email address: 1" in output
    assert "the export gives no time of consent (use --reconfirm): 1" in output
    aino = exported(runner, app, "aino.virtanen@example.com")
    assert aino["contact"]["status"] == "confirmed"
    assert aino["contact"]["first_name"] == "Aino"
    proof = aino["contact"]["consent"]["newsletter"]
    assert proof["source"] == "imported from Mailchimp export of 2026-03-01"
    assert proof["ts"] == "2024-05-02T08:14:09+00:00"  # the original opt-in
    assert proof["confirmed_at"] == "2024-05-02T08:15:40+00:00"
    assert proof["imported_at"].startswith("2026-03-01T12:00")
    assert [e["type"] for e in aino["timeline"]] == ["import"]
    assert on_the_list(app) == {
        "aino.virtanen@example.com",
        "mikko.laine@example.com",
        "sanna.koski@example.net",
    }
    before = stored(app)
    set_clock("2026-03-02T12:00:00+00:00")
    again = import_list(runner, app, SUBSCRIBED)
    assert "imported as subscribers: 0" in again and "already there: 3" in again
    assert stored(app) == before  # no new event, the same stored state


def test_unsubscribed_and_cleaned_addresses_go_into_the_suppression_record(
    runner, app, reader, set_clock
):
    set_clock(NOW)
    for path in (SUBSCRIBED, UNSUBSCRIBED, CLEANED):
        import_list(runner, app, path)
    olli = exported(runner, app, "olli.makela@example.com")["contact"]
    assert olli["suppressed"]["reason"] == "hard_bounce"
    assert olli["suppressed"]["at"] == "2025-12-01T03:00:00+00:00"
    assert olli["suppressed"]["evidence"][0]["type"] == "imported"
    leena = exported(runner, app, "leena.heikkinen@example.com")["contact"]
    assert leena["status"] == "unsubscribed"
    assert leena["consent"]["newsletter"]["withdrawn_at"] == "2025-09-14T07:30:00+00:00"
    # The next digest goes to the subscribed only.
    assert on_the_list(app) == {
        "aino.virtanen@example.com",
        "mikko.laine@example.com",
        "sanna.koski@example.net",
    }
    # A form post subscribes no one who left until they confirm again.
    reader.subscribe("leena.heikkinen@example.com")
    assert [m["To"] for m in reader.outbox()] == ["leena.heikkinen@example.com"]
    leena = exported(runner, app, "leena.heikkinen@example.com")["contact"]
    assert leena["status"] == "unsubscribed"
    before = stored(app)
    for path in (SUBSCRIBED, UNSUBSCRIBED, CLEANED):
        import_list(runner, app, path)
    assert stored(app) == before


def test_a_decision_made_in_polku_stays(runner, app, reader, set_clock):
    set_clock(NOW)  # after the export's unsubscribe of 2025-10-01
    reader.confirm("pekka.nieminen@example.com")
    reader.confirm("aino.virtanen@example.com")
    with app.app_context():
        aino = get_storage().find_contact("aino.virtanen@example.com")
        people_service.unsubscribe(aino["id"])
    import_list(runner, app, UNSUBSCRIBED)
    output = import_list(runner, app, SUBSCRIBED)
    assert "unsubscribed in Polku: 1" in output
    pekka = exported(runner, app, "pekka.nieminen@example.com")["contact"]
    assert pekka["status"] == "confirmed"
    assert pekka["consent"]["newsletter"]["version"] == "v1"  # their own proof
    aino = exported(runner, app, "aino.virtanen@example.com")["contact"]
    assert aino["status"] == "unsubscribed"
    assert "imported" not in aino["consent"]["newsletter"]


@pytest.mark.parametrize(
    ("name", "tool", "subscribed"),
    [
        (SUBSCRIBED.name, "Mailchimp", "aino.virtanen@example.com"),
        ("kit-subscribers.csv", "Kit", "ilona@example.com"),
        ("members.2026-02-27.csv", "Ghost", "maria.lehtonen@example.com"),
        ("subscribers.csv", "listmonk", "jussi@example.com"),
        ("email_list.kettu-studio.csv", "Substack", "satu@example.com"),
    ],
)
def test_each_tools_export_is_recognised(
    runner, app, set_clock, name, tool, subscribed
):
    set_clock(NOW)
    output = import_list(runner, app, FIXTURES / name)
    assert f"\n{tool} export of 2026-0" in output
    assert subscribed in on_the_list(app)
    proof = exported(runner, app, subscribed)["contact"]["consent"]["newsletter"]
    assert proof["source"].startswith(f"imported from {tool} export of 2026-0")


def test_the_ghost_exports_date_names_its_source(runner, app, set_clock):
    set_clock(NOW)
    import_list(runner, app, FIXTURES / "members.2026-02-27.csv")
    maria = exported(runner, app, "maria.lehtonen@example.com")["contact"]
    source = maria["consent"]["newsletter"]["source"]
    assert source == "imported from Ghost export of 2026-02-27"


def test_a_file_of_no_known_tool_stores_nothing(runner, app, tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("Sähköposti,Nimi\naino@example.com,Aino\n")
    result = polku(runner, app, "contacts", "import", str(path), "--subscribers")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    (line,) = result.output.strip().splitlines()
    assert "Mailchimp" in line and "Substack" in line
    assert stored(app) == []


def test_a_dry_run_tells_and_stores_nothing(runner, app, set_clock):
    set_clock(NOW)
    output = import_list(runner, app, SUBSCRIBED, "--dry-run")
    assert "Dry run: nothing was stored or sent." in output
    assert "imported as subscribers: 3" in output
    assert stored(app) == []


def test_reconfirm_and_dry_run_need_subscribers(runner, app):
    result = polku(runner, app, "contacts", "import", str(SUBSCRIBED), "--reconfirm")
    assert result.exit_code == 2 and "--subscribers" in result.output


def test_the_summary_speaks_the_sites_language(runner, app, set_clock):
    manifest = Path(app.config["DATA_DIR"]) / "manifest.json"
    data = json.loads(manifest.read_text())
    data["site"]["lang"] = "fi"
    manifest.write_text(json.dumps(data))
    set_clock(NOW)
    output = import_list(runner, app, SUBSCRIBED)
    assert "Mailchimp-luettelo 2026-03-01: 5 riviä." in output
    assert "tuotu tilaajiksi: 3" in output and "ei ole sähköpostiosoite: 1" in output
