"""The catalogues: whole, well-formed, and what the commands tell the owner."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tracker import i18n
from tracker.cli import cli

PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[sdfr]|%[sd]")


def catalogues() -> list[Path]:
    return sorted(Path(i18n.FOLDER).glob("*/LC_MESSAGES/*.po"))


@pytest.mark.parametrize("path", catalogues(), ids=lambda p: p.name)
def test_every_message_is_translated_with_the_same_placeholders(path):
    with open(path, "rb") as f:
        catalog = read_po(f)
    assert catalog.plural_forms == "nplurals=2; plural=(n != 1);"
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = (
            message.string if isinstance(message.string, tuple) else (message.string,)
        )
        assert all(strings), f"{path.name}: no translation for {ids[0]!r}"
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for text in strings:
            assert set(PLACEHOLDER.findall(text)) == wanted, (ids[0], text)


def test_a_language_the_catalogues_lack_reads_english():
    assert i18n.language("sv-SE") == "en"
    assert i18n.gettext("sv", "Digest") == "Digest"
    assert i18n.language("fi_FI") == i18n.language("fi-FI") == "fi"


def test_numbers_money_and_dates_follow_the_language():
    assert i18n.format_number(1234.5, "fi") == "1\N{NO-BREAK SPACE}234,5"
    assert i18n.format_number(1234.5, "en") == "1,234.5"
    assert i18n.format_money(1200.5, "EUR", "en") == "€1,200.50"
    assert i18n.format_date(date(2026, 12, 6), "fi") == "6.12.2026"


def polku(runner, data_dir, lang, *args):
    manifest = {"site": {"name": "Testi", "url": "https://x.example", "lang": lang}}
    data_dir.mkdir(exist_ok=True)
    (data_dir / "manifest.json").write_text(json.dumps(manifest))
    env = {"POLKU_DATA_DIR": str(data_dir), "POLKU_SECRET_KEY": "x" * 40}
    return runner.invoke(cli, list(args), env=env)


def test_the_commands_speak_the_sites_language(runner, tmp_path):
    finnish = polku(runner, tmp_path / "fi", "fi", "contacts", "prune")
    assert finnish.exit_code == 0, finnish.output
    assert finnish.output == "Poistettiin 0 vahvistamatonta tilausta.\n"
    english = polku(runner, tmp_path / "en", "en", "contacts", "prune")
    assert english.output == "Pruned 0 unconfirmed signups.\n"
    unknown = polku(runner, tmp_path / "fi", "fi", "contacts", "export", "x@y.fi")
    assert "Osoitteella x@y.fi ei ole yhteystietoa." in unknown.output
