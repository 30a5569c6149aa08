"""tracker.mail against a real SMTP server: international addresses, refusals.

A domain in Unicode goes out in its IDNA (`xn--`) form; a local part in
Unicode needs a server that offers SMTPUTF8 (and is sent with that option),
else it is refused for that recipient alone; an RFC 2047 encoded word is no
address. A refusal is a mail.MailError, so every caller keeps working.
"""

from __future__ import annotations

import base64
import email
import email.policy
from email.header import Header, decode_header, make_header
from pathlib import Path

import pytest

from tracker import mail, privacy
from tracker.db import get_storage

from ..conftest import TEST_MANIFEST, Reader, write_manifest
from ..mailserver import mail_server

JORG = "jörg@exämple.fi"
ANNA = "anna@exämple.fi"
XN = "xn--exmple-cua.fi"


def config(port: int | None = None, **extra) -> dict:
    conf = {"MAIL_FROM": "Kettu Studio <news@kettu.example>", "DATA_DIR": "/none"}
    if port:
        conf.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
    return {**conf, **extra}


def build(conf: dict, to: str):
    return mail.build(conf, to, "Hei — uutta", "Teksti ä", "<p>HTML ä</p>")


def head(data: bytes) -> bytes:
    return data.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]


@pytest.mark.parametrize("smtputf8", [True, False])
def test_a_unicode_domain_goes_out_in_its_idna_form(smtputf8):
    with mail_server(smtputf8) as (server, port):
        mail.send_one(config(port), build(config(port), ANNA))
    (sent,) = server.deliveries
    assert sent.rcpt_tos == [f"anna@{XN}"]
    assert "SMTPUTF8" not in sent.mail_options
    assert sent.header("To") == f"anna@{XN}".encode()
    assert head(sent.content).isascii()  # a plain 7-bit message
    assert sent.message.get_body(("plain",)).get_content() == "Teksti ä"


def test_a_unicode_local_part_goes_out_with_smtputf8():
    """Against a server offering SMTPUTF8, send_message raised TypeError (not a
    MailError): the digest stopped at that subscriber on every rerun."""
    with mail_server(smtputf8=True) as (server, port):
        mail.send_one(config(port), build(config(port), JORG))
    (sent,) = server.deliveries
    assert sent.rcpt_tos == [f"jörg@{XN}"]
    assert "SMTPUTF8" in sent.mail_options
    assert sent.header("To") == f"jörg@{XN}".encode()  # UTF-8, no encoded word
    assert sent.mail_from == "news@kettu.example"
    assert str(sent.message["Subject"]) == "Hei — uutta"


def test_a_unicode_local_part_is_refused_without_smtputf8_and_the_rest_go_on():
    with mail_server(smtputf8=False) as (server, port):
        with mail.Mailer(config(port)) as mailer:
            with pytest.raises(mail.AddressRefused) as refused:
                mailer.send(build(config(port), JORG))
            mailer.send(build(config(port), "b@example.com"))
    assert isinstance(refused.value, mail.MailError) and refused.value.permanent
    assert "SMTPUTF8" in str(refused.value) and JORG in str(refused.value)
    assert server.recipients == ["b@example.com"]


@pytest.mark.parametrize(
    "address",
    [
        "=?utf-8?q?j=C3=B6rg?=@example.com",
        "jorg@=?utf-8?q?ex=C3=A4mple?=.fi",
        "=?utf-8?b?am/DtnJnQGV4w6RtcGxlLmZp?=",
    ],
)
@pytest.mark.parametrize("smtputf8", [True, False])
def test_an_encoded_word_is_no_address(address, smtputf8, tmp_path):
    with mail_server(smtputf8) as (server, port):
        with pytest.raises(mail.AddressRefused, match="encoded word"):
            mail.send_one(config(port), build(config(port), address))
    assert server.deliveries == []
    outbox = config(DATA_DIR=str(tmp_path))
    with pytest.raises(mail.AddressRefused):
        mail.send_one(outbox, build(outbox, address))
    assert not (tmp_path / "outbox").exists()


@pytest.mark.parametrize(
    "address",
    [
        "a@example.com\r\nBcc: evil@example.com",
        "a@example.com\nBcc: evil@example.com",
        "a@example.com, evil@example.com",
        "Evil <evil@example.com>",
        "no-at-sign",
        "a@",
        "",
        "a@exa mple.com",
        "\udcff@example.com",
        "a@\u2603\u2603.-bad-.fi",
    ],
)
def test_what_is_not_one_address_is_refused_and_injects_nothing(address):
    conf = config(port=None)
    msg = build(conf, address)  # building never fails: forms build before sending
    data = bytes(msg)
    assert b"Bcc" not in data and b"evil@" not in head(data)
    with mail_server(smtputf8=True) as (server, port):
        with pytest.raises(mail.AddressRefused):
            mail.send_one(config(port), msg)
    assert server.deliveries == []


@pytest.mark.parametrize(
    "reply, permanent", [("550 5.1.1 No such user", True), ("450 4.2.1 Later", False)]
)
def test_a_recipient_the_server_refuses_is_that_recipients_failure(reply, permanent):
    with mail_server(True, refuse={"gone@example.com": reply}) as (server, port):
        with mail.Mailer(config(port)) as mailer:
            with pytest.raises(mail.MailError) as refused:
                mailer.send(build(config(port), "gone@example.com"))
            mailer.send(build(config(port), "b@example.com"))
    assert refused.value.permanent is permanent
    assert reply.split()[0] in str(refused.value)
    assert server.recipients == ["b@example.com"]


def test_a_unicode_sender_name_and_domain():
    conf = config(MAIL_FROM="Kettu Öy <uutiset@kettü.example>")
    with mail_server(smtputf8=False) as (server, port):
        conf.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
        mail.send_one(conf, build(conf, "b@example.com"))
    (sent,) = server.deliveries
    assert sent.mail_from == "uutiset@xn--kett-3ra.example"
    sender = sent.message["From"]
    assert sender.addresses[0].display_name == "Kettu Öy"
    assert sender.addresses[0].addr_spec == "uutiset@xn--kett-3ra.example"
    assert head(sent.content).isascii()


def test_the_outbox_holds_unicode_mail(tmp_path):
    conf = config(DATA_DIR=str(tmp_path))
    mail.send_one(conf, build(conf, JORG))
    (eml,) = (tmp_path / "outbox").glob("*.eml")
    parsed = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert str(parsed["To"]) == f"jörg@{XN}"
    assert b"=?" not in head(eml.read_bytes()).split(b"\nTo:")[1].split(b"\n")[0]


def test_a_signup_from_a_unicode_address_through_a_smtputf8_server(app_factory):
    """The confirmation to jörg@exämple.fi raised TypeError: a 500."""
    with mail_server(smtputf8=True) as (server, port):
        app = app_factory(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
        reader = Reader(app.test_client(), app)
        response = reader.subscribe(JORG)
        assert response.status_code == 303, response.get_data(as_text=True)
    (sent,) = server.deliveries
    assert sent.rcpt_tos == [f"jörg@{XN}"] and "SMTPUTF8" in sent.mail_options


def test_a_signup_the_server_cannot_deliver_to_is_a_400_not_a_503(app_factory):
    """Trying again will not help: the reader is told so, at once."""
    with mail_server(smtputf8=False) as (server, port):
        app = app_factory(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
        reader = Reader(app.test_client(), app)
        data = {"email": JORG, "consent_newsletter": "yes"}
        response = reader.post("/subscribe", data=data, Accept="application/json")
    assert response.status_code == 400
    assert response.json["error"] == "We cannot send email to that address."
    assert server.deliveries == []


# ---- erasure finds the person's mail in the outbox, however it was encoded ----


def old_style(to_header: bytes, body: str = "Hi") -> bytes:
    """An .eml as the compat32 build used to write it (or as a client might)."""
    text = base64.b64encode(body.encode()).decode()
    return (
        b"From: news@kettu.example\nTo: " + to_header + b"\nSubject: Hi\n"
        b"MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
        b"Content-Transfer-Encoding: base64\n\n" + text.encode() + b"\n"
    )


def test_erase_finds_outbox_mail_for_unicode_addresses(app_factory):
    app = app_factory()
    reader = Reader(app.test_client(), app)
    for address in (JORG, ANNA, "keep@example.com"):
        assert reader.subscribe(address).status_code == 303
    outbox = Path(app.config["DATA_DIR"]) / "outbox"
    crafted = {
        # What the compat32 build wrote: the whole address as one encoded word.
        "old-b.eml": old_style(Header(JORG, "utf-8").encode().encode()),
        "old-q.eml": old_style(b"=?utf-8?q?j=C3=B6rg=40ex=C3=A4mple=2Efi?="),
        "utf8.eml": old_style(f'"Jörg" <{JORG.upper()}>'.encode()),
        "idna.eml": old_style(f"J\u00f6rg <jörg@{XN.upper()}>".encode()),
        "in-body.eml": old_style(b"owner@kettu.example", f"New lead: {JORG}"),
        "in-body-idna.eml": old_style(b"owner@kettu.example", f"lead: jörg@{XN}"),
        "other.eml": old_style(b"keep@example.com", "Hi Keep"),
    }
    for name, data in crafted.items():
        (outbox / name).write_bytes(data)
    with app.app_context():
        storage = get_storage()
        jorg, anna = storage.find_contact(JORG), storage.find_contact(ANNA)
        privacy.erase_everywhere(
            storage, app.config["DATA_DIR"], jorg, app.config["SECRET_KEY"]
        )
        left = {p.name for p in outbox.glob("*.eml")}
        assert left.isdisjoint(crafted.keys() - {"other.eml"}), left
        assert "other.eml" in left
        to = [email.message_from_bytes((outbox / n).read_bytes())["To"] for n in left]
        assert sorted(str(t) for t in to) == sorted(
            [f"anna@{XN}", "keep@example.com", "keep@example.com"]
        )
        privacy.erase_everywhere(
            storage, app.config["DATA_DIR"], anna, app.config["SECRET_KEY"]
        )
        to = [
            email.message_from_bytes(p.read_bytes())["To"] for p in outbox.glob("*.eml")
        ]
        assert sorted(str(t) for t in to) == ["keep@example.com", "keep@example.com"]


def test_the_date_comes_from_the_one_clock(set_clock):
    set_clock("2026-03-10T12:00:00+00:00")
    msg = build(config(), "b@example.com")
    assert msg["Date"].startswith("Tue, 10 Mar 2026 12:00:")


def test_list_headers_are_ascii_for_a_unicode_site_name_and_sender(app_factory):
    """The whole List-Id became one encoded word (its <list-id> unreadable),
    with the sender's domain in Unicode."""
    from tracker.mail import lists

    app = app_factory(MAIL_FROM="Kettu Öy <uutiset@kettü.example>")
    site = {**TEST_MANIFEST["site"], "name": "Kettu Öy, Helsinki"}
    write_manifest(Path(app.config["DATA_DIR"]), {**TEST_MANIFEST, "site": site})
    with app.test_request_context():
        headers = lists.list_headers("https://kettu.example/unsubscribe/T")
    assert all(value.isascii() for value in headers.values()), headers
    name, _, list_id = headers["List-Id"].rpartition(" ")
    assert list_id == "<newsletter.xn--kett-3ra.example>"
    assert str(make_header(decode_header(name))) == "Kettu Öy, Helsinki"
    assert headers["List-Unsubscribe"] == (
        "<https://kettu.example/unsubscribe/T>, "
        "<mailto:uutiset@xn--kett-3ra.example?subject=unsubscribe>"
    )


# ---- headers that receivers expect ----


def test_a_message_keeps_its_id_when_it_is_sent_again():
    """A digest resent after a crash is the same message to the receiver."""
    first = mail.build(config(), "a@example.com", "S", "t", "<p>h</p>", key="d1:c1")
    again = mail.build(config(), "a@example.com", "S", "t", "<p>h</p>", key="d1:c1")
    other = mail.build(config(), "a@example.com", "S", "t", "<p>h</p>", key="d1:c2")
    assert first["Message-ID"] == again["Message-ID"] != other["Message-ID"]
    assert first["Message-ID"].endswith("@kettu.example>")
    assert "a@example" not in first["Message-ID"] and "c1" not in first["Message-ID"]


def test_every_message_says_its_send_for_gmails_feedback_loop():
    msg = mail.build(config(), "a@example.com", "S", "t", "<p>h</p>", send="digest-x")
    assert msg["Feedback-ID"] == "digest-x:polku:kettu.example"


def test_reader_emails_carry_both(reader):
    reader.subscribe()
    (message,) = reader.outbox()
    assert message["Feedback-ID"] == "confirm:polku:kettu.example"
    assert message["Message-ID"].endswith("@kettu.example>")
    assert "reader" not in message["Message-ID"]


# ---- the bodies ----

BODIES = ["", "a", "Hei — uutta ä\n" * 300, "<p>x</p>\r\nä" * 57, "\u00a0" * 19, "é"]


@pytest.mark.parametrize("text", BODIES)
@pytest.mark.parametrize("subtype", ["plain", "html"])
def test_a_body_is_the_bytes_mimetext_wrote(text, subtype):
    """text_part builds what email.mime's MIMEText built, without its base64
    line by line in Python: the same headers, the same encoded lines."""
    from email.mime.text import MIMEText

    from tracker.mail.message import as_bytes, text_part

    ours, theirs = text_part(text, subtype), MIMEText(text, subtype, "utf-8")
    assert as_bytes(ours) == as_bytes(theirs)
    assert as_bytes(ours, "\r\n") == as_bytes(theirs, "\r\n")
    assert ours.get_payload(decode=True) == text.encode("utf-8")
    assert ours.get_content_charset() == "utf-8"


def test_a_built_message_reads_back_whole(set_clock):
    set_clock("2026-03-10T12:00:00+00:00")
    text, html = "Teksti ä\n" * 100, "<p>HTML ä</p>\n" * 100
    msg = mail.build(config(), "b@example.com", "S", text, html, inline_css=False)
    again = email.message_from_bytes(mail.as_bytes(msg), policy=email.policy.default)
    assert again.get_body(("plain",)).get_content() == text
    assert again.get_body(("html",)).get_content() == html
    assert mail.html_part(msg) == html
