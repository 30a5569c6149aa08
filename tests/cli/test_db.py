"""`polku db compact`: the people journal compacted while nothing is lost."""

from __future__ import annotations

from tracker.storage import open_storage

from .test_commands import polku


def test_compact_keeps_every_decision_and_says_what_it_gained(runner, app, reader):
    reader.confirm()
    reader.subscribe("other@example.com", first_name="Other")
    result = polku(runner, app, "db", "compact")
    assert result.exit_code == 0, result.output
    if app.config["DATABASE_URL"]:
        assert "Nothing to compact" in result.output
        return
    assert "People journal compacted from" in result.output
    assert "2 contacts" in result.output
    storage = open_storage(app.config)
    person = storage.find_contact("reader@example.com")
    assert person["status"] == "confirmed"
    assert [e["type"] for e in storage.decisions(person["id"])] == [
        "signup",
        "confirm",
    ]
    storage.close()
    again = polku(runner, app, "db", "compact")
    assert again.exit_code == 0 and "nothing was decided since" in again.output
