"""`polku init`: start a new site in an empty folder, like `pelican-quickstart`.

The files' templates are package data in `starter/`: the settings, the status
pages, the privacy page, the newsletter landing page and a first post in
English and Finnish, and a copy of the demo's theme (tests/cli/test_init.py
checks the copy is the demo's `theme/`, file for file).
"""

from __future__ import annotations

import shutil
import string
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from .. import clock
from ..config import mailbox_text
from .common import _

STARTER = Path(__file__).resolve().parent / "starter"
LANGS = ("en", "fi")
STATUS_PAGES = (
    "thanks-signup",
    "thanks-confirmed",
    "thanks-download",
    "thanks-unsubscribed",
    "thanks-feedback",
    "oops",
)
PAGES = (*STATUS_PAGES, "newsletter", "privacy")
CONSENT_VERSION = "1"

# The consent wording the forms show: content of the owner's site, written into
# their pelicanconf.py, not messages of the program.
CONSENT = {
    "en": {
        "newsletter": "Send me the {site} newsletter: new posts by email. "
        "I can unsubscribe with one click in every email.",
        "ads": "I also agree that my email address, hashed, may be used to show "
        "me ads of {site} on Meta, Google and LinkedIn. Optional; withdraw any time.",
    },
    "fi": {
        "newsletter": "Lähettäkää minulle sivuston {site} uutiskirje: uudet "
        "kirjoitukset sähköpostiin. Voin perua tilauksen yhdellä klikkauksella "
        "jokaisessa viestissä.",
        "ads": "Hyväksyn myös, että sähköpostiosoitettani saa tiivisteenä käyttää "
        "sivuston {site} mainosten näyttämiseen minulle Metassa, Googlessa ja "
        "LinkedInissä. Vapaaehtoista; voin perua milloin tahansa.",
    },
}
CONTACT = {
    "en": "To ask for a copy or for erasure, or with any question, write to {owner}.",
    "fi": "Kopiota tai poistamista voi pyytää, ja kysyä mitä tahansa, "
    "osoitteesta {owner}.",
}
NO_CONTACT = {
    "en": "To ask for a copy or for erasure, reply to any email you have had from us.",
    "fi": "Kopiota tai poistamista voi pyytää vastaamalla mihin tahansa "
    "meiltä saamaasi viestiin.",
}


def check_name(value: str) -> str:
    value = " ".join(str(value).split())
    if not value:
        raise click.UsageError(_("The site's name must not be empty."))
    return value


def check_url(value: str) -> str:
    value = str(value).strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.UsageError(
            _(
                "%(url)s is not an http(s) address such as https://example.com.",
                url=value,
            )
        )
    return value


def check_lang(value: str) -> str:
    value = str(value).strip().lower()
    if value not in LANGS:
        raise click.UsageError(
            _("The language must be en or fi, not %(lang)s.", lang=value)
        )
    return value


def check_timezone(value: str) -> str:
    value = str(value).strip()
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.UsageError(
            _(
                "%(tz)s is not a time zone name such as Europe/Helsinki.",
                tz=value,
            )
        ) from None
    return value


def _email(address: str) -> str:
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError:
        raise click.UsageError(
            _("%(address)s is not a valid email address.", address=address)
        ) from None


def check_owner(value: str) -> str:
    value = str(value).strip()
    return _email(value) if value else ""


def check_from(value: str) -> str:
    """`Name <address>` or a plain address; returned as a From header."""
    value = str(value).strip()
    if not value:
        return ""
    name, address = parseaddr(value)
    if not address or ("<" in value) != (">" in value):
        raise click.UsageError(
            _("%(address)s is not a valid email address.", address=value)
        )
    return mailbox_text(name, _email(address))


def default_from(name: str, url: str) -> str:
    """The From address the tracker uses when none is set (tracker/config.py)."""
    return mailbox_text(name, f"noreply@{urlsplit(url).hostname or 'localhost'}")


def _ask(value, prompt: str, default: str, check, yes: bool):
    if value is not None:
        return check(value)
    if yes:
        return check(default)
    return click.prompt(prompt, default=default or "", value_proc=check)


def _refuse_non_empty(target: Path) -> None:
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise click.ClickException(
            _(
                "%(dir)s is not an empty folder; polku init starts a site only "
                "in an empty or new folder.",
                dir=str(target),
            )
        )


def _render(template: str, values: dict[str, str]) -> str:
    return string.Template(template).safe_substitute(values)


def write_site(target: Path, answers: dict[str, str]) -> list[Path]:
    """Write the new site's files into target; return the files written."""
    lang, site = answers["lang"], answers["name"]
    owner = answers["owner"]
    contact = (CONTACT if owner else NO_CONTACT)[lang].format(owner=owner)
    text = {
        "site": site,
        "date": clock.now().strftime("%Y-%m-%d %H:%M"),
        "contact_sentence": contact,
    }
    consent = {k: v.format(site=site) for k, v in CONSENT[lang].items()}
    mail_from = answers["mail_from"]
    code = {
        "site_comment": site.replace('"', "'"),
        "name": repr(site),
        "url": repr(answers["url"]),
        "timezone": repr(answers["timezone"]),
        "lang": repr(lang),
        "version": repr(CONSENT_VERSION),
        "consent_newsletter": repr(consent["newsletter"]),
        "consent_ads": repr(consent["ads"]),
        "owner": repr(owner),
        "mail_from_line": (
            "POLKU_MAIL_FROM='" + mail_from.replace("'", "'\\''") + "'"
            if mail_from
            else "# POLKU_MAIL_FROM='"
            + default_from(site, answers["url"]).replace("'", "'\\''")
            + "'  (the default)"
        ),
    }
    written = []

    def put(relative: str, content: str) -> None:
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        written.append(path)

    for conf in ("pelicanconf.py", "publishconf.py", "polku.env"):
        put(conf, _render((STARTER / f"{conf}.in").read_text("utf-8"), code))
    for page in PAGES:
        source = STARTER / lang / "pages" / f"{page}.md"
        put(f"content/pages/{page}.md", _render(source.read_text("utf-8"), text))
    post = (STARTER / lang / "posts" / "welcome.md").read_text("utf-8")
    put("content/posts/welcome.md", _render(post, text))
    (target / "content" / "guides").mkdir(parents=True, exist_ok=True)
    shutil.copytree(
        STARTER / "theme",
        target / "theme",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return written


@click.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option("--name", help="The site's name (SITENAME).")
@click.option("--url", help="The site's public address, e.g. https://example.com.")
@click.option("--lang", help="The site's language: en or fi.")
@click.option("--timezone", help="An IANA time zone name, e.g. Europe/Helsinki.")
@click.option("--owner", help="The owner's email address (shown on the privacy page).")
@click.option(
    "--from",
    "mail_from",
    help="The From address of emails; default: the site's name, noreply@ its host.",
)
@click.option(
    "--yes", is_flag=True, help="Ask nothing: defaults for what is not given."
)
def init(directory, name, url, lang, timezone, owner, mail_from, yes) -> None:
    """Start a new site in DIRECTORY (default: this folder, which must be empty).

    \b
    Example:
        polku init my-site --name "My site" --url https://example.com --lang en
    """
    target = Path(directory).resolve()
    _refuse_non_empty(target)
    try:
        answers = {"name": _ask(name, _("Site name"), "My site", check_name, yes)}
        answers["url"] = _ask(
            url, _("Public URL"), "http://127.0.0.1:8000", check_url, yes
        )
        answers["lang"] = _ask(lang, _("Language (en or fi)"), "en", check_lang, yes)
        answers["timezone"] = _ask(
            timezone, _("Time zone"), "Europe/Helsinki", check_timezone, yes
        )
        answers["owner"] = _ask(owner, _("Your email address"), "", check_owner, yes)
        answers["mail_from"] = _ask(
            mail_from,
            _("From address of emails (empty: the site's name, noreply@ its host)"),
            "",
            check_from,
            yes,
        )
    except click.UsageError as e:
        raise click.ClickException(e.message) from None
    target.mkdir(parents=True, exist_ok=True)
    written = write_site(target, answers)
    click.echo(
        _(
            "Started %(site)s in %(dir)s: %(count)s files and a theme.",
            site=answers["name"],
            dir=str(target),
            count=len(written),
        )
    )
    click.echo(
        _(
            "Next: cd into it, then polku build and polku serve "
            "(set POLKU_ADMIN_PASSWORD to open the dashboard at /admin/)."
        )
    )


COMMANDS = (init,)
