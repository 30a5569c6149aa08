"""What makes an email a list email: RFC 2369 / 8058 headers per list.

The digest is one list; each sequence is a list of its own, so a reader's
mail client can tell them apart and unsubscribe from one.
"""

from __future__ import annotations

from email.utils import parseaddr
from urllib.parse import quote

from flask import current_app

from .. import mail
from ..web import site as sitemeta


def list_headers(unsubscribe_url: str, list_name: str = "newsletter") -> dict[str, str]:
    """RFC 2369 / 8058 list headers: one-click unsubscribe and the list's id.

    list_name: the list's own label in its id (each sequence is a list).

    All ASCII: the sender's domain in IDNA form, a non-ASCII site name as an
    encoded word outside the `<list-id>`, a non-ASCII local part
    percent-encoded in the mailto: URI (RFC 6068).
    """
    site = sitemeta.manifest().get("site") or {}
    unsubscribe = f"<{unsubscribe_url}>"
    try:
        sender, _ = mail.wire_address(parseaddr(current_app.config["MAIL_FROM"])[1])
    except mail.MailError:
        sender = ""  # the send itself reports the bad setting
    domain = sender.rpartition("@")[2] or "localhost"
    if sender:
        local = quote(sender.rpartition("@")[0], safe="!$'*+-.^_`{|}~")
        unsubscribe += f", <mailto:{local}@{domain}?subject=unsubscribe>"
    name = mail.display_name(str(site.get("name") or "")) or "Newsletter"
    return {
        "List-Id": f"{name} <{list_name}.{domain}>",
        "List-Unsubscribe": unsubscribe,
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Precedence": "bulk",
    }
