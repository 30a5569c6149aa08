"""The dashboard's sequences page: entered, sent, clicks, per sequence."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ..mail.sequence_site import Site
from .conftest import PASSWORD


def test_the_page_counts_what_each_sequence_did(
    runner, tmp_path, app_factory, set_clock
):
    set_clock("2026-06-01T07:00:00+00:00")
    site = Site(tmp_path, app_factory, None, config={"ADMIN_PASSWORD": PASSWORD})
    site.polku(runner, "run", "--send")
    site.subscriber("aino@example.com")
    sent = site.polku(runner, "run", "--send", "--now", "2026-06-01T07:05:00Z")
    assert "1 email sent" in sent.output, sent.output
    (email,) = [m for m in site.reader.outbox() if "Welcome" in str(m["Subject"])]
    html = email.get_body(("html",)).get_content()
    click = re.search(r'href="(https://kettu\.example/click/[^"]+)"', html).group(1)
    assert site.reader.client.get(urlsplit(click).path).status_code == 302
    admin = site.app.test_client()
    admin.post("/admin/login", data={"password": PASSWORD})
    page = admin.get("/admin/sequences").get_data(as_text=True)
    row = re.search(r"Welcome to the Kettu letter.*?</tr>", page, re.S).group(0)
    cells = re.findall(r'<td class="num">([^<]*)', row)
    entered, active, sent_count, clicks = cells[:4]
    assert (entered, sent_count, clicks) == ("1", "1", "1")
    assert "checklist-follow-up" in page
