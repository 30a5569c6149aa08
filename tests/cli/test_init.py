"""`polku init`: a new site from an empty folder, and what it writes."""

from __future__ import annotations

import email
import email.policy
import re
import time
from pathlib import Path

import pytest

from tracker.cli import cli
from tracker.cli.init import STARTER, STATUS_PAGES

from ..sites import ROOT, bare_environ, build_site, free_port, polku_serve

PASSWORD = "dashboard password for the test"
READER = "lukija.init@example.com"
CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36"
)


def init(runner, target: Path, *args: str, input=None):
    return runner.invoke(cli, ["init", str(target), *args], input=input)


def flags(lang: str = "en", url: str = "http://127.0.0.1:8000") -> list[str]:
    return [
        "--yes",
        "--name",
        "Mäkelän Puutarha",
        "--url",
        url,
        "--lang",
        lang,
        "--timezone",
        "Europe/Helsinki",
        "--owner",
        "owner@example.com",
    ]


def test_writes_a_whole_site(runner, tmp_path):
    site = tmp_path / "new"
    result = init(runner, site, *flags())
    assert result.exit_code == 0, result.output
    for name in ("pelicanconf.py", "publishconf.py", "polku.env"):
        assert (site / name).is_file()
    for page in (*STATUS_PAGES, "newsletter", "privacy"):
        text = (site / "content" / "pages" / f"{page}.md").read_text()
        assert f"Slug: {page}" in text
        assert ("Status: hidden" in text) == (page in STATUS_PAGES)
    assert "Template: landing" in (site / "content/pages/newsletter.md").read_text()
    assert list((site / "content/posts").glob("*.md"))
    assert (site / "content/guides").is_dir()
    assert not any((site / "content/guides").iterdir())
    conf = (site / "pelicanconf.py").read_text()
    assert 'PLUGINS = ["pelican.plugins.polku"]' in conf
    assert "SITENAME = 'Mäkelän Puutarha'" in conf
    assert "Send me the Mäkelän Puutarha newsletter" in conf
    assert "kettu" not in (conf + (site / "polku.env").read_text()).lower()
    assert (site / "theme" / "templates" / "base.html").is_file()


def test_the_privacy_page_says_what_is_stored(runner, tmp_path):
    assert init(runner, tmp_path / "en", *flags()).exit_code == 0
    text = (tmp_path / "en/content/pages/privacy.md").read_text()
    for fact in (
        "visitor hash",
        "daily salt",
        "IP address is never stored",
        "consent proof",
        "keyed hash of your IP",
        "deleted after 14 days",
        "owner@example.com",
        "Do Not Track",
    ):
        assert fact in text, fact


def test_finnish_pages(runner, tmp_path):
    site = tmp_path / "fi"
    assert init(runner, site, *flags("fi")).exit_code == 0
    privacy = (site / "content/pages/privacy.md").read_text()
    assert "Title: Tietosuoja" in privacy
    assert "kävijätiiviste" in privacy and "IP-osoitettasi ei koskaan" in privacy
    assert "suostumuksen todisteen" in privacy
    assert (
        "Tarkista sähköpostisi" in (site / "content/pages/thanks-signup.md").read_text()
    )
    conf = (site / "pelicanconf.py").read_text()
    assert "DEFAULT_LANG = 'fi'" in conf and "Lähettäkää minulle" in conf


def test_refuses_a_folder_that_is_not_empty(runner, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    result = init(runner, tmp_path, *flags())
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert "is not an empty folder" in result.output
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert not (tmp_path / "pelicanconf.py").exists()


@pytest.mark.parametrize(
    "flag, value, said",
    [
        ("--url", "ftp://example.com", "is not an http(s) address"),
        ("--url", "example.com", "is not an http(s) address"),
        ("--lang", "sv", "The language must be en or fi"),
        ("--timezone", "Europe/Tampere", "is not a time zone name"),
        ("--owner", "owner@", "is not a valid email address"),
        ("--from", "Shop <shop@@example.com>", "is not a valid email address"),
        ("--name", "   ", "must not be empty"),
    ],
)
def test_a_bad_flag_is_one_sentence(runner, tmp_path, flag, value, said):
    args = flags()
    if flag in args:
        args[args.index(flag) + 1] = value
    else:
        args += [flag, value]
    result = init(runner, tmp_path / "site", *args)
    assert result.exit_code == 1
    assert said in result.output
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1
    assert "Traceback" not in result.output
    assert not (tmp_path / "site").exists()


def test_asks_for_what_the_flags_do_not_give(runner, tmp_path):
    answers = "\n".join(
        [
            "Kahvila Kuu",
            "not a url",  # asked again
            "https://kuu.example",
            "fi",
            "Europe/Helsinki",
            "kuu@kuu.example",
            "",  # the From address: the default
        ]
    )
    result = init(runner, tmp_path / "kuu", input=answers + "\n")
    assert result.exit_code == 0, result.output
    assert "is not an http(s) address" in result.output
    conf = (tmp_path / "kuu/pelicanconf.py").read_text()
    assert "SITEURL = 'https://kuu.example'" in conf
    env = (tmp_path / "kuu/polku.env").read_text()
    assert "noreply@kuu.example" in env


def test_the_starter_theme_is_the_demos():
    """One theme, not two copies: the starter's is a link to the demo's (the
    wheel takes its files; tests/plugin/test_wheel.py installs one)."""
    starter = STARTER / "theme"
    assert starter.is_symlink() and starter.resolve() == (ROOT / "theme").resolve()


def confirmation_link(outbox: Path) -> str:
    (eml,) = outbox.glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    text = message.get_body(("plain",)).get_content()
    return re.search(r"\S+/confirm/\S+", text).group(0)


@pytest.mark.browser
def test_from_an_empty_folder_to_a_confirmed_reader(runner, tmp_path, browser):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    site = tmp_path / "site"
    site.mkdir()
    result = init(runner, site, *flags("fi", base))
    assert result.exit_code == 0, result.output
    build_site(site)
    env = bare_environ(
        POLKU_ADMIN_PASSWORD=PASSWORD,
        POLKU_SECRET_KEY="end-to-end secret key of enough length",
    )
    with polku_serve(site, tmp_path / "serve.log", env, port):
        reader = browser.new_context(user_agent=CHROME)
        page = reader.new_page()
        page.goto(base + "/newsletter/")
        assert "Mäkelän Puutarha" in page.title()
        form = page.locator("main form[action='/subscribe']")
        form.locator("input[name=email]").fill(READER)
        form.locator("input[name=consent_newsletter]").check()
        form.locator("button[type=submit]").click()
        outbox = site / "var" / "outbox"
        deadline = time.monotonic() + 15
        while not list(outbox.glob("*.eml")):
            assert time.monotonic() < deadline, "no email in the outbox"
            page.wait_for_timeout(100)
        message = email.message_from_bytes(
            next(outbox.glob("*.eml")).read_bytes(), policy=email.policy.default
        )
        assert "Mäkelän Puutarha" in str(message["From"])
        page.goto(confirmation_link(outbox))
        page.click("main button[type=submit]")
        page.wait_for_url(base + "/thanks-confirmed/")
        reader.close()

        owner = browser.new_context()
        page = owner.new_page()
        page.goto(base + "/admin/login")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(base + "/admin/")
        page.goto(base + "/admin/contacts?q=" + READER)
        assert READER in page.locator("main").inner_text()
        owner.close()


def test_no_fictional_business_in_the_defaults(tmp_path):
    from pelican.plugins.polku.settings import read

    from tracker import create_app, datadir

    datadir.write_manifest(
        str(tmp_path), {"site": {"name": "Kahvila Kuu", "url": "https://kuu.example"}}
    )
    app = create_app({"DATA_DIR": str(tmp_path), "MAIL_FROM": ""})
    assert app.config["MAIL_FROM"] == '"Kahvila Kuu" <noreply@kuu.example>'
    bare = create_app({"DATA_DIR": str(tmp_path / "none")})
    assert bare.config["MAIL_FROM"] == "noreply@localhost"
    consent = read({"SITENAME": "Kahvila Kuu", "PATH": str(tmp_path)}).consent
    assert consent["newsletter"].startswith("Send me the Kahvila Kuu newsletter")
    assert "kettu" not in repr(consent).lower()
